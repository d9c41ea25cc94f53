"""``jaxgen scan``: the genome-wide spatial scan of a PLINK fileset, streamed block by block, with loci."""

from __future__ import annotations

import argparse
import contextlib
import gzip
from pathlib import Path

from jaxgen import scan as genome
from jaxgen.cli.common import add_run_options, device_scope
from jaxgen.cli.inputs import add_input_options, bounded, comma_list, genotype_files, preflight, region_adjacency
from jaxgen.data import standardize_columns
from jaxgen.io import ReadLog, atomic_output_dir, load_scan_study
from jaxgen.lmm.scores import TESTS, check_tests
from jaxgen.scan.clump import check_clump_settings
from jaxgen.reports import write_scan_outputs
from jaxgen.stats.tails import p_value

__all__ = ["add_arguments", "run"]

HELP = ("genome-wide scan: every SNP of a PLINK 1/2 fileset or BGEN file tested against the spatial null model (LOCO kinship), "
        "streamed in blocks; sumstats, Manhattan/QQ plots, clumped loci and report.md")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_options(parser, many_qts=False, chromosome_help=(
        "test only the SNPs on these chromosomes (CHR[,CHR]): one job per chromosome, merged by jaxgen scan merge; "
        "the kinship (loco or grm) is still built from every chromosome's SNPs, so the p-values equal those of "
        "one genome-wide job"))
    parser.add_argument("--qt-columns", type=comma_list, metavar="A,B,...", help="QT columns to analyse (default all)")
    parser.add_argument("--covariates", metavar="FILE", help="covariate table (categorical columns one-hot encoded)")
    parser.add_argument("--kinship", metavar="FILE|grm|loco", default="loco",
                        help="loco (default: per chromosome, the GRM of the other chromosomes' SNPs), grm (one GRM of "
                             "every SNP), or a labelled square kinship CSV")
    parser.add_argument("--test", type=_tests, default=list(TESTS), metavar="TEST[,TEST]",
                        help=f"tests written, the first one giving P, the plots' and the loci's p-value (default "
                             f"{','.join(TESTS)}; see jaxgen lmm --help)")
    parser.add_argument("--heritability", choices=("per-region", "shared"), default="per-region",
                        help="null model: one h2 per region (default) or one shared h2")
    parser.add_argument("--block-size", type=bounded(int, 1), default=1000,
                        help="SNPs read and tested at once (default 1000): memory is that of one block")
    parser.add_argument("--per-region", action="store_true",
                        help="also write per_region.tsv.gz: BETA, SE (per A1 allele, QT sd units) and Z per (SNP, region)")
    parser.add_argument("--clump-p1", type=bounded(float, 0, 1, low_open=True), default=5e-8,
                        help="p-value of an index SNP (default 5e-8, also the Manhattan plot's line)")
    parser.add_argument("--clump-p2", type=bounded(float, 0, 1, low_open=True), default=1e-2,
                        help="p-value of a SNP clumped to an index SNP (default 0.01)")
    parser.add_argument("--clump-r2", type=bounded(float, 0, 1), default=0.1,
                        help="r2 with the index SNP of a clumped SNP (default 0.1)")
    parser.add_argument("--clump-kb", type=bounded(float, 0, low_open=True), default=250.0,
                        help="clumping window either side of an index SNP, kb (default 250)")
    parser.add_argument("--finemap", action="store_true",
                        help="fit the joint Bayesian spatial LMM (the model of jaxgen lmm, Gibbs) on each locus: the "
                             "SNPs within --clump-kb of its index SNP, against the kinship they were tested against; "
                             "writes finemap/regions.csv and finemap/snps.csv")
    parser.add_argument("--finemap-snps", type=bounded(int, 1), default=50, metavar="N",
                        help="SNPs fitted per locus: the N with the smallest p in its window (default 50)")
    parser.add_argument("--finemap-chains", type=bounded(int, 1), default=2, help="chains per locus (default 2)")
    parser.add_argument("--finemap-warmup", type=bounded(int, 0), default=200,
                        help="warm-up sweeps per chain (default 200)")
    parser.add_argument("--finemap-samples", type=bounded(int, 1), default=200,
                        help="kept draws per chain (default 200)")
    add_run_options(parser)


def _finemap(args, study, Y, adjacency, result, sumstats, loci, log):
    """The fine-mapping of the loci (:func:`jaxgen.scan.finemap`), or None when there is no locus."""
    if loci.empty:
        log.add(f"fine-mapping: no locus at p < {args.clump_p1:g}, nothing to fine-map")
        return None
    return genome.finemap(study.fileset, loci, sumstats, Y, adjacency, study.covariates, result.kinship,
                          kb=args.clump_kb, max_snps=args.finemap_snps, num_chains=args.finemap_chains,
                          num_warmup=args.finemap_warmup, num_samples=args.finemap_samples, seed=args.seed,
                          heritability=args.heritability, progress=not args.quiet, log=log)


def _tests(text: str) -> list[str]:
    try:
        return list(check_tests(comma_list(text)))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run(args, echo=print) -> dict:
    """Read, scan, clump, write. Returns {"out", "n_snps", "loci", "lambda_gc"}."""
    preflight(args, "lmm")
    check_clump_settings(args.clump_p1, args.clump_p2, args.clump_r2, args.clump_kb)
    log = ReadLog(echo)
    kinship = args.kinship if args.kinship.lower() in ("loco", "grm") else None
    study = load_scan_study(genotype_files(args), args.qt, covariates=args.covariates, adjacency=args.adjacency,
                            kinship=None if kinship else args.kinship, qt_columns=args.qt_columns,
                            id_column=args.id_column, covariates_from_qt=args.covariates_from_qt,
                            missing=args.missing, maf_min=args.maf_min, snps=args.snps, start=args.from_bp,
                            end=args.to_bp, nonfounders=args.nonfounders, log=log)
    adjacency = region_adjacency(study.adjacency, study.Y.shape[1], log)
    Y = study.Y.copy()
    Y[:] = standardize_columns(study.Y.to_numpy(), "QTs")[0]
    primary = args.test[0]
    with atomic_output_dir(args.out, args.overwrite) as folder, device_scope(args.platform) as device, \
            contextlib.ExitStack() as files:
        per_region = files.enter_context(gzip.open(folder / "per_region.tsv.gz", "wt")) if args.per_region else None
        result = genome.scan(study.fileset, Y, adjacency, study.covariates, tests=args.test,
                             kinship=kinship.lower() if kinship else study.kinship,
                             chromosomes=None if args.chromosome is None else comma_list(args.chromosome),
                             block_size=args.block_size, heritability=args.heritability, per_region=per_region,
                             progress=not args.quiet, log=log)
        sumstats = result.sumstats.assign(P=p_value(result.sumstats[f"LOG_P_{primary.upper()}"]))
        loci = genome.clump(sumstats, genome.fileset_dosages(study.fileset, genome.subject_rows(study.fileset, study.Y.index)), p1=args.clump_p1,
                            p2=args.clump_p2, r2=args.clump_r2, kb=args.clump_kb)
        settings = {"tests": ", ".join(args.test), "kinship": args.kinship,
                    "null model heritability": args.heritability, "block size": args.block_size,
                    "device": str(device), "covariates": ", ".join(study.covariates),
                    "clumping": f"p1 {args.clump_p1:g}, p2 {args.clump_p2:g}, r2 {args.clump_r2:g}, "
                                f"{args.clump_kb:g} kb"}
        finemapped = _finemap(args, study, Y, adjacency, result, sumstats, loci, log) if args.finemap else None
        write_scan_outputs(result, loci, folder, tests=args.test, line=args.clump_p1, inputs=log.lines,
                           settings=settings, finemap=finemapped)
    lambda_gc = genome.genomic_control(sumstats["P"])
    echo(f"{len(sumstats)} SNPs tested; λ_GC ({primary}) = {lambda_gc:.3f}; {len(loci)} loci at p < {args.clump_p1:g}"
         + (f": {', '.join(loci['SNP'].head(10))}" if len(loci) else ""))
    echo(f"report: {Path(args.out) / 'report.md'}")
    return {"out": args.out, "n_snps": len(sumstats), "loci": list(loci["SNP"]), "lambda_gc": lambda_gc}

