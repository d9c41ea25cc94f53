"""Throughput and peak memory of the genome-wide scan (``jaxgen.scan``) on a simulated genome.

Usage: python benchmarks/bench_scan.py [--subjects N] [--regions C] [--snps P [P ...]] [--block-size B]
                                       [--platform cpu|gpu] [--out FILE]

For each SNP count P one process writes a PLINK genome (unrelated subjects, binomial dosages, MAF in
[0.05, 0.5], 3 chromosomes) and a fresh one runs ``scan`` twice with the same shapes (the first run compiles): the
second run gives the test time, SNPs/s and SNP × region tests/s, with the LOCO kinship pass and the
per-chromosome null fits timed apart. Peak RSS is the process's maximum resident set (``ru_maxrss``), which
should not grow with P (only one block is in memory). Results: JSON (benchmarks/results/scan_<platform>.json).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--regions", type=int, default=68)
    parser.add_argument("--snps", type=int, nargs="+", default=[10_000, 40_000])
    parser.add_argument("--block-size", type=int, default=1000)
    parser.add_argument("--platform", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--out", default=None)
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)  # one SNP count, in a child
    parser.add_argument("--write", action="store_true", help=argparse.SUPPRESS)  # the child that writes the genome
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def write_genome(args) -> None:
    """The PLINK genome of the run, in ``args.folder`` (its own process: the matrix is not the scan's memory)."""
    import numpy as np

    from jaxgen.io import write_plink

    n, p = args.subjects, args.worker
    rng = np.random.default_rng(0)
    X = rng.binomial(2, rng.uniform(0.05, 0.5, p), size=(n, p)).astype(np.float32)
    write_plink(Path(args.folder) / "g", X, [f"s{i}" for i in range(n)], [f"rs{j}" for j in range(p)],
                chromosome=[str(1 + 3 * j // p) for j in range(p)], positions=1000 * (np.arange(p) + 1))


def worker(args) -> dict:
    """Scan the written genome twice, report the second run and this process's peak RSS."""
    import jax
    import numpy as np
    import pandas as pd

    from jaxgen.graphs import lattice_adjacency
    from jaxgen.io import PlinkFileset
    from jaxgen.scan import scan

    n, c, p = args.subjects, args.regions, args.worker
    folder = Path(args.folder)
    rng = np.random.default_rng(1)
    Y = pd.DataFrame(rng.standard_normal((n, c)), index=[f"s{i}" for i in range(n)])
    A = lattice_adjacency(c)
    fileset = PlinkFileset.open(folder / "g")
    with jax.default_device(jax.devices(args.platform)[0]):
        scan(fileset, Y, A, kinship="loco", block_size=args.block_size)  # compiles
        result = scan(fileset, Y, A, kinship="loco", block_size=args.block_size)
    seconds = result.seconds
    return {"subjects": n, "regions": c, "snps": p, "block_size": args.block_size, "seconds": seconds,
            "snps_per_s": p / seconds["tests"], "snp_region_tests_per_s": p * c / seconds["tests"],
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "device": str(jax.devices(args.platform)[0]), "x64": bool(jax.config.jax_enable_x64)}


def main() -> None:
    args = parse_args()
    if args.write:
        write_genome(args)
        return
    if args.worker is not None:
        print(json.dumps(worker(args)))
        return
    runs = []
    for p in args.snps:
        folder = tempfile.mkdtemp(prefix="bench-scan-")
        command = [sys.executable, __file__, "--worker", str(p), "--subjects", str(args.subjects), "--regions",
                   str(args.regions), "--block-size", str(args.block_size), "--platform", args.platform,
                   "--folder", folder]
        subprocess.run([*command, "--write"], check=True)
        line = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        shutil.rmtree(folder)
        runs.append(json.loads(line))
        print(json.dumps(runs[-1]), flush=True)
    out = Path(args.out or Path(__file__).parent / "results" / f"scan_{args.platform}.json")
    out.write_text(json.dumps({"machine": platform.processor() or platform.machine(), "runs": runs}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
