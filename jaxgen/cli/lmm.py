"""``jaxgen lmm``: the spatial-correlated multitask LMM on a study's files, with tables, plots and a report."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from jaxgen import lmm
from jaxgen.cli.common import add_run_options, device_scope
from jaxgen.cli.inputs import (add_input_options, bounded, comma_list, genotype_files, genotype_selection, preflight,
                               region_adjacency)
from jaxgen.data import standardize_columns
from jaxgen.lmm.fit import METHODS
from jaxgen.io import ReadLog, atomic_output_dir, load_lmm_study
from jaxgen.io.genes import check_window, gene_sets, read_gene_file
from jaxgen.reports import write_lmm_outputs
from jaxgen.runtime import Stopwatch

__all__ = ["add_arguments", "run"]

HELP = "fit the spatial LMM to genotypes (PLINK 1/2, BGEN) and a QT table; write posterior, tests, plots and report.md"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_options(parser, many_qts=False)
    parser.add_argument("--qt-columns", type=comma_list, metavar="A,B,...", help="QT columns to analyse (default all)")
    parser.add_argument("--covariates", metavar="FILE", help="covariate table (categorical columns one-hot encoded)")
    parser.add_argument("--kinship", metavar="FILE|grm", type=_kinship,
                        help="kinship: a labelled square CSV, or 'grm' for the genomic relationship matrix")
    parser.add_argument("--method", choices=METHODS, default="gibbs",
                        help="gibbs (default: the custom blocked Gibbs kernel), nuts or svi")
    parser.add_argument("--chains", type=bounded(int, 1), default=4, help="chains, run vectorized (default 4)")
    parser.add_argument("--warmup", type=bounded(int, 0), default=500, help="warm-up sweeps per chain (default 500)")
    parser.add_argument("--samples", type=bounded(int, 1), default=1000, help="kept draws per chain (default 1000)")
    parser.add_argument("--thin", type=bounded(int, 1), default=1, help="keep every THIN-th draw (default 1)")
    parser.add_argument("--test", choices=lmm.SNP_TESTS, default="omnibus",
                        help="SNP-level test: omnibus (default: spatial, burden and the whitened per-region and "
                             "neighbourhood tests combined, calibrated by simulation), cct (per-region "
                             "score tests, Cauchy-combined), spatial (whitened chi-square with the CAR-and-factor correlations), "
                             "empirical (with the residuals' average-SNP correlation), burden (one effect on every region), "
                             "posterior (the seed's MCMC construction)")
    parser.add_argument("--heritability", choices=("per-region", "shared"), default="per-region",
                        help="null model of the score tests: one h2 per region (default) or one shared h2")
    parser.add_argument("--alpha", type=bounded(float, 0, 1, low_open=True, high_open=True), default=0.05,
                        help="family-wise level of the Bonferroni line (default 0.05)")
    parser.add_argument("--truth", metavar="FILE", help="truth.json of a simulated study: marks causal SNPs in plots")
    _add_gene_options(parser)
    parser.add_argument("--compare-models", action="store_true",
                        help="also fit rho = 0 and (with --kinship) no-kinship models with the same chains and draws, "
                             "and rank the three by PSIS-LOO and WAIC (model_comparison.csv); Gibbs only")
    add_run_options(parser)


def _kinship(text: str) -> str:
    """--kinship: a file or 'grm'; 'loco' is refused at once (it is the scan's, one kinship per chromosome)."""
    if text.lower() == "loco":
        raise argparse.ArgumentTypeError("'loco' (one kinship per chromosome, leaving it out) is the kinship of "
                                         "the genome-wide scan: use jaxgen scan; jaxgen lmm fits its SNPs jointly "
                                         "against one kinship, a file or 'grm'")
    return text


def _add_gene_options(parser: argparse.ArgumentParser) -> None:
    """--genes and --gene-window: gene-level tests (gene_tests.csv)."""
    parser.add_argument("--genes", metavar="FILE",
                        help="gene-level tests (gene_tests.csv, the --test p-values Cauchy-combined per gene) from SNP "
                             "-> gene pairs (columns snp, gene) or gene ranges (gene, chromosome, start, end; .bim "
                             "base-pair positions, ends included)")
    parser.add_argument("--gene-window", type=bounded(int, 0), default=0, metavar="BP",
                        help="widen every gene range by BP base pairs on both sides (default 0)")


def _read_genes(args, log: ReadLog):
    """The gene file of --genes, checked before the study is read (None without --genes)."""
    if args.genes is None:
        if args.gene_window:
            raise ValueError("--gene-window widens the gene ranges of --genes, and no --genes was given")
        return None
    genes = read_gene_file(args.genes, log)
    check_window(genes, args.gene_window)
    return genes


def _compare_models(args, result, stopwatch: Stopwatch, echo):
    """--compare-models: the fit against the rho = 0 and no-kinship models, by PSIS-LOO (a table)."""
    if not result.data.has_kinship:
        echo("model comparison without --kinship: spatial against rho = 0 only")
    with device_scope(args.platform), stopwatch.stage("model comparison"):
        table = lmm.compare_models(result, num_warmup=args.warmup, thin=args.thin, seed=args.seed,
                                   progress=not args.quiet)
    echo("model comparison (PSIS-LOO, best first): " + ", ".join(
        f"{model} {row.elpd_diff:+.1f} ± {row.dse:.1f}" for model, row in table.iterrows()))
    return table


def run(args, echo=print) -> dict:
    """Read, fit, write. Returns {"out", "n_significant", "top_snps"}."""
    truth = preflight(args, "lmm")
    if args.compare_models and args.method != "gibbs":
        raise ValueError(f"--compare-models refits by the Gibbs kernel (which alone can fix rho = 0); drop --method "
                         f"{args.method} or --compare-models")
    log, stopwatch = ReadLog(echo), Stopwatch()
    with stopwatch.stage("reading"):
        genes = _read_genes(args, log)
        study = load_lmm_study(genotype_files(args), args.qt, covariates=args.covariates, adjacency=args.adjacency,
                               kinship=args.kinship, qt_columns=args.qt_columns, id_column=args.id_column,
                               covariates_from_qt=args.covariates_from_qt,
                               missing=args.missing, log=log, **genotype_selection(args))
        sets = None if genes is None else gene_sets(genes, study.genotypes.snps, window=args.gene_window, log=log)
    adjacency = region_adjacency(study.adjacency, study.Y.shape[1], log)
    Y, _, _ = standardize_columns(study.Y.to_numpy(), "QTs")
    log.add("QTs standardized per region (mean 0, sd 1): effects are in sd units per sd of dosage")
    with device_scope(args.platform) as device, stopwatch.stage("fitting"):
        result = lmm.fit(Y, study.X, adjacency, covariates=study.covariates.to_numpy(), kinship=study.kinship,
                         method=args.method, num_chains=args.chains, num_warmup=args.warmup,
                         num_samples=args.samples, thin=args.thin, seed=args.seed, progress=not args.quiet,
                         snp_ids=list(study.X.columns), region_names=list(study.Y.columns),
                         heritability=args.heritability)
    fitting = stopwatch.stages["fitting"]
    echo(f"{args.method} fit on {device.platform}: {fitting.seconds:.1f} s (compiling {fitting.compile_seconds:.1f} s, "
         f"running {fitting.seconds - fitting.compile_seconds:.1f} s)")
    comparison = _compare_models(args, result, stopwatch, echo) if args.compare_models else None
    settings = {"method": args.method, "SNP test": args.test, "null model heritability": args.heritability,
                "chains": args.chains, "warm-up": args.warmup, "samples": args.samples,
                "thin": args.thin, "seed": args.seed, "device": str(device), "covariates": ", ".join(study.covariates)}
    causal = truth["causal_snps"] if truth else ()
    with atomic_output_dir(args.out, args.overwrite) as folder:
        write_lmm_outputs(result, folder, snps=study.genotypes.snps, inputs=log.lines, settings=settings,
                          alpha=args.alpha, causal_snps=causal, test=args.test, stopwatch=stopwatch,
                          gene_sets=sets, comparison=comparison)
    snp_tests = pd.read_csv(Path(args.out) / "snp_tests.csv")  # sorted by p; the gate's warning was given once
    hits = snp_tests[snp_tests["p_value"] < args.alpha / len(snp_tests)]
    echo(f"{len(hits)} SNPs significant at Bonferroni {args.alpha}: {', '.join(hits['snp'].head(10))}")
    if sets:
        genes_table = pd.read_csv(Path(args.out) / "gene_tests.csv")
        echo(f"gene tests ({len(genes_table)} genes): smallest p {genes_table['p_value'].iloc[0]:.3g} "
             f"({genes_table['gene'].iloc[0]})")
    echo(f"report: {Path(args.out) / 'report.md'}")
    echo(stopwatch.summary())
    return {"out": args.out, "n_significant": len(hits), "significant": list(hits["snp"]),
            "top_snps": list(snp_tests["snp"].head(10)), "seconds": {name: t._asdict() for name, t in stopwatch.stages.items()}}
