"""``jaxgen scan merge``: one genome-wide scan from the output folders of per-chromosome ``jaxgen scan`` jobs."""

from __future__ import annotations

import argparse
from pathlib import Path

from jaxgen.cli.common import add_run_options
from jaxgen.io import atomic_output_dir, check_output_dir
from jaxgen.reports.scan import write_scan_tables
from jaxgen.scan import genomic_control
from jaxgen.scan.merge import merge_scans

__all__ = ["add_arguments", "run"]

HELP = ("merge the output folders of jaxgen scan jobs on disjoint chromosomes (--chromosome): concatenated "
        "sumstats, loci and per-region files, λ_GC, Manhattan/QQ plots and report.md of the whole genome")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folders", nargs="+", metavar="DIR", help="output folders of jaxgen scan")
    add_run_options(parser, computes=False)


def run(args, echo=print) -> dict:
    """Read, check, merge, write. Returns {"out", "n_snps", "loci", "lambda_gc"}."""
    check_output_dir(args.out, args.overwrite)
    out = Path(args.out).absolute()
    if any(Path(folder).absolute() == out for folder in args.folders):
        raise ValueError(f"--out {args.out} is one of the folders merged; choose another folder")
    merged = merge_scans(args.folders)
    with atomic_output_dir(args.out, args.overwrite) as folder:
        write_scan_tables(merged.sumstats, merged.loci, merged.summary, folder, merged.finemap)
        merged.write_per_region(folder / "per_region.tsv.gz")
    lambda_gc = genomic_control(merged.sumstats["P"])
    echo(f"merged {len(merged.jobs)} scans: {len(merged.sumstats)} SNPs on {merged.sumstats['CHR'].nunique()} "
         f"chromosomes; λ_GC ({merged.summary['tests'][0]}) = {lambda_gc:.3f}; {len(merged.loci)} loci")
    echo(f"report: {Path(args.out) / 'report.md'}")
    return {"out": args.out, "n_snps": len(merged.sumstats), "loci": list(merged.loci["SNP"]), "lambda_gc": lambda_gc}
