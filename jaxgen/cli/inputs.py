"""Command-line options for reading a study: genotypes, QT tables and the QC/missing-value policies."""

from __future__ import annotations

import argparse

from jaxgen.io.tables import MISSING_POLICIES

__all__ = ["add_input_options", "comma_list", "genotype_selection"]


def comma_list(text: str) -> list[str]:
    """``"a,b, c"`` → ["a", "b", "c"]."""
    return [item.strip() for item in text.split(",") if item.strip()]


def add_input_options(parser: argparse.ArgumentParser, *, many_qts: bool) -> None:
    """--bfile, --qt (once or repeated), --adjacency, --id-column, --missing and the SNP selection."""
    parser.add_argument("--bfile", required=True, metavar="PREFIX", help="PLINK fileset PREFIX.bed/.bim/.fam")
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
    parser.add_argument("--maf-min", type=float, default=0.01, help="drop SNPs with a lower MAF (default 0.01)")
    parser.add_argument("--snps", type=comma_list, metavar="ID,ID,...", help="analyse only these SNPs")
    parser.add_argument("--chromosome", metavar="CHR", help="analyse only SNPs on this chromosome")
    parser.add_argument("--from-bp", type=int, metavar="POS", help="analyse only SNPs at or after this position")
    parser.add_argument("--to-bp", type=int, metavar="POS", help="analyse only SNPs at or before this position")


def genotype_selection(args) -> dict:
    """The loaders' SNP-selection keywords from the parsed options."""
    return {"maf_min": args.maf_min, "snps": args.snps, "chromosome": args.chromosome, "start": args.from_bp,
            "end": args.to_bp}
