"""Reading speed of the genotype formats: PLINK 1 .bed, PLINK 2 .pgen and BGEN, as the scan streams them.

Usage: python benchmarks/bench_genotype_readers.py [--subjects N] [--snps P] [--block-size B] [--out FILE]

Writes one genome (binomial calls, MAF in [0.05, 0.5]) in the three formats (BGEN: 8 bits, zstd), then
for each times ``open`` (the SNP table and the checks) and one pass of ``blocks`` (raw dosages and the
QC), best of 3; and the ``bgen`` package reading the BGEN's probabilities alone. When ``cbgen`` (the
``bgen-limix`` package) is installed, it times that package doing the same (its index file included), for
the choice of BGEN reader.
Results: JSON (benchmarks/results/genotype_readers.json).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from machine import describe_machine


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--snps", type=int, default=10_000)
    parser.add_argument("--block-size", type=int, default=1000)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "genotype_readers.json"))
    return parser.parse_args(argv)


def best_of(run, repeats: int = 3) -> float:
    """The shortest of ``repeats`` wall times (s) of ``run()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bgen_seconds(bgen: Path, subjects: int) -> float:
    """The bgen package's time to read every variant's first-allele dosage of ``bgen``."""
    from bgen import BgenReader

    def run():
        with BgenReader(str(bgen), delay_parsing=True) as reader:
            dosages = np.empty((subjects, len(reader)))
            for j, variant in enumerate(reader):
                probabilities = variant.probabilities
                dosages[:, j] = 2 * probabilities[:, 0] + probabilities[:, 1]

    return best_of(run)


def cbgen_seconds(bgen: Path, subjects: int) -> float:
    """bgen-limix's time to index ``bgen`` and read every variant's first-allele dosage."""
    import cbgen

    def run():
        reader, metafile = cbgen.BgenFile(str(bgen)), bgen.with_suffix(".metafile")
        metafile.unlink(missing_ok=True)
        reader.create_metafile(str(metafile))
        index = cbgen.BgenMetafile(str(metafile))
        offsets = [v.offset for i in range(index.npartitions) for v in index.read_partition(i).variants]
        dosages = np.empty((subjects, len(offsets)))
        for j, offset in enumerate(offsets):
            probabilities = reader.read_probability(offset, precision=32)
            dosages[:, j] = 2 * probabilities[:, 0] + probabilities[:, 1]

    return best_of(run)


def main(argv=None) -> dict:
    from jaxgen.io import GenotypeFiles, write_bgen, write_pgen, write_plink

    args = parse_args(argv)
    n, p = args.subjects, args.snps
    rng = np.random.default_rng(0)
    X = rng.binomial(2, rng.uniform(0.05, 0.5, p), size=(n, p)).astype(float)
    subjects, snps = [f"s{i}" for i in range(n)], [f"rs{j}" for j in range(p)]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        write_plink(folder / "g", X, subjects, snps)
        write_pgen(folder / "g", X, subjects, snps)
        write_bgen(folder / "g.bgen", X, subjects, snps, bits=8)
        for files in (GenotypeFiles("bfile", folder / "g"), GenotypeFiles("pfile", folder / "g"),
                      GenotypeFiles("bgen", folder / "g.bgen")):
            source = files.open(maf_min=0.0)
            stream = best_of(lambda: sum(counts.kept for _, counts in source.blocks(args.block_size)))
            rows.append({"format": files.format, "reader": type(source).__name__, "bytes": files.main_file.stat().st_size,
                         "open_s": best_of(lambda: files.open(maf_min=0.0)), "stream_s": stream,
                         "million_genotypes_per_s": n * p / stream / 1e6})
        packages = [("bgen (package), probabilities only", bgen_seconds)]
        if importlib.util.find_spec("cbgen") is not None:
            packages.append(("cbgen (bgen-limix), probabilities only", cbgen_seconds))
        for reader, timed in packages:
            seconds = timed(folder / "g.bgen", n)
            rows.append({"format": "bgen", "reader": reader, "stream_s": seconds,
                         "million_genotypes_per_s": n * p / seconds / 1e6})
    result = {"subjects": n, "snps": p, "block_size": args.block_size, "machine": describe_machine(),
              "python": platform.python_version(), "results": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for row in rows:
        print(f"{row['format']:6} {row['reader']:40} {row['stream_s']:.3f} s  {row['million_genotypes_per_s']:.1f} M/s")
    return result


if __name__ == "__main__":
    main()
