"""Throughput and peak memory of the genome-wide scan (``jaxgen.scan``) against PLINK 2 and GEMMA, on one genome.

Usage: python benchmarks/bench_scan.py [--subjects N [N ...]] [--regions C [C ...]] [--snps P [P ...]]
                                       [--block-size B] [--platform cpu|gpu] [--no-peers] [--append] [--out FILE]

Each (N, C, P) of the product of the three lists gets its own genome: one process writes a PLINK fileset
(unrelated subjects, SNPs in LD blocks of 10 from :class:`jaxgen.data.LDGenotypeModel`, MAF in [0.05, 0.5],
3 chromosomes) and C null QTs. Then, each tool in its own process on the same files, one after another:

- jaxgen: ``scan`` compiled first on a 2-block genome of the same shapes, then timed with ``kinship="loco"``
  (GRM pass, one eigendecomposition and null fit per chromosome, tests) and with ``kinship="grm"`` (one GRM of
  every SNP, one null fit: no LOCO), each stage apart, computing every test; then with LOCO and the default
  test alone (``omnibus``), and with LOCO and ``cct`` alone (a score test per region and their combination:
  PLINK 2's work, plus the kinship);
- PLINK 2 ``--glm allow-no-covars`` (linear regression, no kinship) on the C QTs at once, with ``--threads 1``
  and with PLINK's default threads;
- GEMMA (``-bfile``, single-threaded BLAS): its kinship ``-gk 1`` timed apart, then the univariate LMM of ONE
  region on every SNP with ``-lmm 1`` (Wald test, variance components re-estimated per SNP) and ``-lmm 3`` (score
  test given the null's, which is what jaxgen's per-region z is). GEMMA's C-region total is
  kinship + C × (one region's time): measured on 1 region, × C.

Wall time of a peer is that of its whole process; jaxgen's stages exclude Python's start and imports. Peak RSS of
each is its process's maximum resident set (``wait4``). Ratios: GEMMA total / jaxgen total (target ≥ 30) and
jaxgen / PLINK 2 (target ≤ 3). Each run records its CPU and the machine's load average at its start and end: the
project's CPU is shared, and runs kept with ``--append`` may come from another machine. Peers are on by default and skipped, with a line saying so, when not on PATH.
Results: JSON (default benchmarks/results/scan_<platform>.json; ``--append`` keeps its other runs).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import describe_machine

GEMMA_ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
# jaxgen's timed scans: (kinship, tests; None: every test). "loco_cct" is PLINK 2's work (a test per region,
# with CCT over them) plus the LOCO kinship; "loco_omnibus" the default test alone.
RUNS = {"loco": ("loco", None), "grm": ("grm", None), "loco_omnibus": ("loco", ("omnibus",)),
        "loco_cct": ("loco", ("cct",))}
CHROMOSOMES = 3
LD_BLOCK = 10
GENERATION_CHUNK = 10_000  # SNPs of haplotypes drawn at once (the latent chains are float64)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, nargs="+", default=[1000])
    parser.add_argument("--regions", type=int, nargs="+", default=[68])
    parser.add_argument("--snps", type=int, nargs="+", default=[100_000])
    parser.add_argument("--block-size", type=int, default=1000)
    parser.add_argument("--platform", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="time jaxgen only")
    parser.add_argument("--append", action="store_true", help="keep the other runs of the results file")
    parser.add_argument("--out", default=None)
    parser.add_argument("--role", choices=["write", "jaxgen"], default=None, help=argparse.SUPPRESS)  # a child's job
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def write_genome(folder: Path, n: int, c: int, p: int, block_size: int) -> None:
    """The run's files in ``folder``: g.bed/.bim/.fam (n × p), warm.* (n × 2 blocks, for compiling), and the QTs
    (n, c) as qt.csv (jaxgen), pheno.txt (PLINK 2: FID IID Q1…Qc) and gemma.fam (GEMMA: region 1 in column 6)."""
    import numpy as np
    import pandas as pd

    from jaxgen.data import LDGenotypeModel
    from jaxgen.io import write_plink

    rng = np.random.default_rng(0)
    X = np.empty((n, p), dtype=np.int8)
    for start in range(0, p, GENERATION_CHUNK):
        model = LDGenotypeModel.draw(rng, min(GENERATION_CHUNK, p - start), block_size=LD_BLOCK)
        haplotypes = model.haplotypes(rng, 2 * n)
        X[:, start:start + model.n_snps] = haplotypes[:n] + haplotypes[n:]
    subjects = [f"s{i}" for i in range(n)]
    per_chromosome = -(-p // CHROMOSOMES)
    chromosome = [str(1 + j // per_chromosome) for j in range(p)]
    positions = 1000 * (np.arange(p) % per_chromosome + 1)
    write_plink(folder / "g", X, subjects, [f"rs{j}" for j in range(p)], chromosome=chromosome, positions=positions)
    del X
    w = 2 * block_size
    warm = rng.binomial(2, 0.3, size=(n, w))
    write_plink(folder / "warm", warm, subjects, [f"w{j}" for j in range(w)], chromosome=["1"] * block_size + ["2"] * block_size)
    Y = pd.DataFrame(rng.standard_normal((n, c)), index=subjects, columns=[f"Q{k + 1}" for k in range(c)])
    Y.to_csv(folder / "qt.csv")
    Y.rename_axis("IID").reset_index().assign(FID=subjects)[["FID", "IID", *Y.columns]].to_csv(
        folder / "pheno.txt", sep="\t", index=False, float_format="%.8g")
    fam = pd.read_csv(folder / "g.fam", sep=r"\s+", header=None)
    fam[5] = Y["Q1"].to_numpy()
    fam.to_csv(folder / "gemma.fam", sep=" ", header=False, index=False, float_format="%.8g")
    for suffix in ("bed", "bim"):
        os.symlink(folder / f"g.{suffix}", folder / f"gemma.{suffix}")


def jaxgen_worker(folder: Path, block_size: int, device_platform: str) -> dict:
    """Compile on warm.*, then scan g.* with LOCO and with one GRM; seconds per stage of each."""
    import jax
    import pandas as pd

    from jaxgen.graphs import lattice_adjacency
    from jaxgen.io import PlinkFileset
    from jaxgen.scan import scan

    Y = pd.read_csv(folder / "qt.csv", index_col=0)
    A = lattice_adjacency(Y.shape[1])
    fileset = PlinkFileset.open(folder / "g")
    timings = {}
    with jax.default_device(jax.devices(device_platform)[0]):
        start = time.perf_counter()
        for kinship, tests in RUNS.values():
            scan(PlinkFileset.open(folder / "warm"), Y, A, kinship=kinship, block_size=block_size,
                 **({} if tests is None else {"tests": tests}))
        timings["compile_warmup"] = time.perf_counter() - start
        for label, (kinship, tests) in RUNS.items():
            result = scan(fileset, Y, A, kinship=kinship, block_size=block_size,
                          **({} if tests is None else {"tests": tests}))
            seconds = dict(result.seconds)
            seconds["total"] = sum(seconds.values())
            timings[label] = seconds
    return {"seconds": timings, "runs": {label: {"kinship": k, "tests": t or "all"} for label, (k, t) in RUNS.items()},
            "tested_snps": len(result.sumstats), "device": str(jax.devices(device_platform)[0]),
            "x64": bool(jax.config.jax_enable_x64)}


def timed(command, cwd: Path, env=None) -> dict:
    """Run ``command`` in ``cwd``: wall seconds and the process's peak RSS (MiB); raises with its stderr tail
    when it fails."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if process.returncode != 0:
            stderr.seek(0)
            stdout.seek(0)
            tail = (stdout.read() + stderr.read()).decode(errors="replace")[-600:]
            raise RuntimeError(f"{' '.join(map(str, command))} exited with {process.returncode}: {tail}")
    return {"seconds": wall, "peak_rss_mib": usage.ru_maxrss / 1024}


def plink2_runs(folder: Path) -> dict:
    """PLINK 2 --glm on every QT, single-threaded and with its default threads."""
    base = ["plink2", "--bfile", "g", "--pheno", "pheno.txt", "--glm", "allow-no-covars"]
    runs = {"threads_1": timed([*base, "--threads", "1", "--out", "plink_t1"], folder),
            "threads_default": timed([*base, "--out", "plink_tall"], folder)}
    runs["command"] = " ".join(base) + " [--threads 1]"
    return runs


def gemma_runs(folder: Path, c: int) -> dict:
    """GEMMA's kinship, and one region's univariate LMM with -lmm 1 and -lmm 3; C-region totals."""
    kinship = timed(["gemma", "-bfile", "gemma", "-gk", "1", "-o", "kin"], folder, GEMMA_ENV)
    runs = {"kinship": kinship, "regions_measured": 1, "regions_total": c,
            "note": f"the LMM is measured on 1 region, ×{c}; the kinship is computed once"}
    for test in ("1", "3"):
        one = timed(["gemma", "-bfile", "gemma", "-k", "output/kin.cXX.txt", "-lmm", test, "-n", "1",
                     "-o", f"lmm{test}"], folder, GEMMA_ENV)
        runs[f"lmm{test}"] = {"one_region": one, "total_seconds": kinship["seconds"] + c * one["seconds"]}
    return runs


def child(role: str, folder: Path, args, n: int, c: int, p: int) -> list[str]:
    """The command of a child process that does ``role`` for one (n, c, p) in ``folder``."""
    return [sys.executable, __file__, "--role", role, "--folder", str(folder), "--block-size",
               str(args.block_size), "--platform", args.platform, "--subjects", str(n), "--regions", str(c),
               "--snps", str(p)]


def one_run(n: int, c: int, p: int, args, peers: dict) -> dict:
    """Write the genome, time jaxgen then the peers on it."""
    folder = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    try:
        load_start = os.getloadavg()
        subprocess.run(child("write", folder, args, n, c, p), check=True)
        measured = timed(child("jaxgen", folder, args, n, c, p), folder)
        jaxgen = json.loads((folder / "jaxgen.json").read_text())
        jaxgen["peak_rss_mib"] = measured["peak_rss_mib"]
        jaxgen["process_seconds"] = measured["seconds"]
        run = {"subjects": n, "regions": c, "snps": p, "block_size": args.block_size, "machine": describe_machine(),
               "jaxgen": jaxgen}
        loco = jaxgen["seconds"]["loco"]
        run["snps_per_s"] = p / loco["tests"]
        run["snp_region_tests_per_s"] = p * c / loco["tests"]
        if "plink2" in peers:
            run["plink2"] = plink2_runs(folder)
        if "gemma" in peers:
            run["gemma"] = gemma_runs(folder, c)
        run["ratios"] = ratios(run)
        run["load_average"] = {"start": load_start[0], "end": os.getloadavg()[0]}
        return run
    finally:
        shutil.rmtree(folder)


def ratios(run: dict) -> dict:
    """GEMMA total / jaxgen total and jaxgen / PLINK 2, for each jaxgen run of :data:`RUNS`, each PLINK thread
    count."""
    out = {}
    jaxgen = run["jaxgen"]["seconds"]
    for kinship in RUNS:
        if "gemma" in run:
            for test in ("lmm1", "lmm3"):
                out[f"gemma_{test}_total_over_jaxgen_{kinship}"] = run["gemma"][test]["total_seconds"] / jaxgen[kinship]["total"]
        if "plink2" in run:
            for threads in ("threads_1", "threads_default"):
                plink = run["plink2"][threads]["seconds"]
                out[f"jaxgen_{kinship}_over_plink2_{threads}"] = jaxgen[kinship]["total"] / plink
                out[f"jaxgen_{kinship}_tests_over_plink2_{threads}"] = jaxgen[kinship]["tests"] / plink
    return out


def main() -> None:
    args = parse_args()
    if args.role is not None:
        folder = Path(args.folder)
        n, c, p = args.subjects[0], args.regions[0], args.snps[0]
        if args.role == "write":
            write_genome(folder, n, c, p, args.block_size)
        else:
            (folder / "jaxgen.json").write_text(json.dumps(jaxgen_worker(folder, args.block_size, args.platform)))
        return
    peers = {}
    if args.peers:
        for tool in ("plink2", "gemma"):
            if shutil.which(tool):
                peers[tool] = shutil.which(tool)
            else:
                print(f"{tool} is not on PATH (Debian package {tool}): its comparison is skipped", flush=True)
    out = Path(args.out or Path(__file__).parent / "results" / f"scan_{args.platform}.json")
    kept = json.loads(out.read_text())["runs"] if args.append and out.exists() else []
    runs = []
    for n, c, p in itertools.product(args.subjects, args.regions, args.snps):
        runs.append(one_run(n, c, p, args, peers))
        print(json.dumps(runs[-1]), flush=True)
    replaced = {(r["subjects"], r["regions"], r["snps"]) for r in runs}
    runs = [r for r in kept if (r["subjects"], r["regions"], r["snps"]) not in replaced] + runs
    runs.sort(key=lambda r: (r["snps"], r["subjects"], r["regions"]))
    out.write_text(json.dumps({"peers": peers, "runs": runs}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
