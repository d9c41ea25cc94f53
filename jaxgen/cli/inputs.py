"""Command-line options for reading a study: genotypes, QT tables and the QC/missing-value policies."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from jaxgen.io import InputError, check_output_dir
from jaxgen.io.genotype_files import GenotypeFiles
from jaxgen.io.tables import MISSING_POLICIES

__all__ = ["add_input_options", "bounded", "comma_list", "genotype_files", "genotype_selection", "preflight",
           "region_adjacency"]


def bounded(kind, low=None, high=None, *, low_open: bool = False, high_open: bool = False):
    """An argparse ``type`` that parses ``kind`` (int or float) and refuses values outside the range
    (``low``/``high`` included unless ``*_open``), so that a bad setting stops the command at once."""
    def parse(text: str):
        value = kind(text)
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        below = low is not None and (value <= low if low_open else value < low)
        above = high is not None and (value >= high if high_open else value > high)
        if below or above:
            left = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
            right = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
            raise argparse.ArgumentTypeError(f"must be {' and '.join(filter(None, [left, right]))}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value" messages
    return parse


def preflight(args, truth_section: str) -> dict | None:
    """The checks of an analysis command that need no data, before anything is read: the output
    folder, that every input file exists, the SNP position range, and ``--truth`` (returned: its
    ``truth_section``, or None)."""
    check_output_dir(args.out, args.overwrite)
    genotype_files(args).check_exist()
    files = [*(args.qt if isinstance(args.qt, list) else [args.qt]), args.adjacency, getattr(args, "truth", None),
             getattr(args, "covariates", None), getattr(args, "kinship", None)]
    for path in files:
        if path is not None and str(path).lower() not in ("grm", "loco") and not Path(path).is_file():
            raise InputError(path, "no such file")
    if args.from_bp is not None and args.to_bp is not None and args.from_bp > args.to_bp:
        raise ValueError(f"--from-bp {args.from_bp} lies after --to-bp {args.to_bp}")
    return None if getattr(args, "truth", None) is None else read_truth(args.truth, truth_section)


def read_truth(path, section: str) -> dict:
    """Section ``section`` ("lmm" or "cca") of a truth.json written by ``jaxgen simulate``."""
    try:
        truth = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(path, f"not a readable truth.json ({err})") from None
    if not isinstance(truth, dict) or not isinstance(truth.get(section), dict):
        raise InputError(path, f"has no {section!r} section: --truth takes the truth.json of jaxgen simulate")
    return truth[section]


def comma_list(text: str) -> list[str]:
    """``"a,b, c"`` → ["a", "b", "c"]."""
    return [item.strip() for item in text.split(",") if item.strip()]


def add_input_options(parser: argparse.ArgumentParser, *, many_qts: bool,
                      chromosome_help: str = "analyse only SNPs on this chromosome") -> None:
    """The genotypes (exactly one of --bfile, --pfile, --bgen [--sample]), --qt (once or repeated), --adjacency,
    --id-column, --missing and the SNP selection (``chromosome_help``: what --chromosome does for the command)."""
    genotypes = parser.add_mutually_exclusive_group(required=True)
    genotypes.add_argument("--bfile", metavar="PREFIX", help="PLINK 1 fileset PREFIX.bed/.bim/.fam")
    genotypes.add_argument("--pfile", metavar="PREFIX", help="PLINK 2 fileset PREFIX.pgen/.pvar/.psam (dosages "
                           "where the .pgen has them)")
    genotypes.add_argument("--bgen", metavar="FILE", help="BGEN file (expected dosages), with its --sample")
    parser.add_argument("--sample", metavar="FILE",
                        help="the Oxford .sample of --bgen (default: the .bgen's path with suffix .sample)")
    if many_qts:
        parser.add_argument("--qt", required=True, action="append", metavar="FILE",
                            help="QT table of one imaging modality (repeat for each modality); CSV/TSV or "
                                 "FreeSurfer aparcstats2table/asegstats2table output")
    else:
        parser.add_argument("--qt", required=True, metavar="FILE",
                            help="QT table (subjects × regions): CSV/TSV or FreeSurfer aparcstats2table output")
    parser.add_argument("--adjacency", metavar="FILE",
                        help="region adjacency: a labelled CSV matrix or an edge list (region_a, region_b[, weight])")
    parser.add_argument("--covariates-from-qt", type=comma_list, metavar="NAME[,NAME]",
                        help="QT-table columns to use as covariates, not as regions (FreeSurfer's eTIV, "
                             "BrainSegVolNotVent …, which are left out of the QTs anyway)")
    parser.add_argument("--id-column", metavar="NAME", help="subject-id column of the tables (default: the first)")
    parser.add_argument("--missing", choices=MISSING_POLICIES, default="error",
                        help="empty table cells: error (default), drop the subject, or impute the column mean")
    parser.add_argument("--maf-min", type=bounded(float, 0, 0.5, high_open=True), default=0.01,
                        help="drop SNPs with a lower MAF, in [0, 0.5) (default 0.01)")
    parser.add_argument("--nonfounders", action="store_true",
                        help="allele frequencies (MAF filter, GRM) over every subject, not only the founders "
                             "(no parents in the .fam, .psam or .sample; PLINK's default)")
    parser.add_argument("--snps", type=comma_list, metavar="ID,ID,...", help="analyse only these SNPs")
    parser.add_argument("--chromosome", metavar="CHR", help=chromosome_help)
    parser.add_argument("--from-bp", type=bounded(int, 0), metavar="POS",
                        help="analyse only SNPs at or after this position")
    parser.add_argument("--to-bp", type=bounded(int, 0), metavar="POS",
                        help="analyse only SNPs at or before this position")


def genotype_files(args) -> GenotypeFiles:
    """The genotype input named by --bfile, --pfile or --bgen/--sample (argparse makes them exclusive)."""
    if args.sample is not None and args.bgen is None:
        raise ValueError("--sample goes with --bgen only")
    if args.bgen is not None:
        return GenotypeFiles("bgen", Path(args.bgen), None if args.sample is None else Path(args.sample))
    return GenotypeFiles("pfile", Path(args.pfile)) if args.pfile is not None else GenotypeFiles("bfile", Path(args.bfile))


def genotype_selection(args) -> dict:
    """The loaders' SNP-selection keywords from the parsed options."""
    return {"maf_min": args.maf_min, "snps": args.snps, "chromosome": args.chromosome, "start": args.from_bp,
            "end": args.to_bp, "nonfounders": args.nonfounders}


def region_adjacency(adjacency, regions: int, log) -> np.ndarray:
    """The study's adjacency (c, c), or without --adjacency every region a neighbour of every other (for
    one region the 1 × 1 [0]: no spatial correlation to model); the choice is logged."""
    if adjacency is not None:
        return adjacency
    if regions == 1:
        log.add("one QT: no spatial correlation between regions to model (the CAR precision is 1)")
    else:
        log.add("no --adjacency: every region is a neighbour of every other (ρ then measures a common "
                "correlation between regions)")
    return np.ones((regions, regions)) - np.eye(regions)
