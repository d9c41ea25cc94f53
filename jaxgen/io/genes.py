"""Gene files for gene-level tests: SNP → gene pairs, or gene ranges matched against the analysed SNPs.

Two forms, told apart by the header line, or without one by the number of columns:

- **pairs**, ``snp, gene``: one line per (SNP, gene); a SNP may belong to several genes.
- **ranges**, ``gene, chromosome, start, end``: ``.bim``-style base-pair positions, both ends
  included, matched against the chromosome and position of every analysed SNP (optionally widened
  by a window on both sides); a gene on several lines takes the SNPs of all its ranges. PLINK's
  headerless gene lists (``glist-hg19``: chromosome, start, end, gene) are read too.

A header names its columns (any order, case ignored; see :data:`COLUMN_NAMES`; other columns are
ignored). Columns are separated by tabs, commas or white space. Chromosome labels are compared
without a ``chr`` prefix. Every bad line is an :class:`InputError` naming the file and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from jaxgen.graphs import snps_in_ranges
from jaxgen.io.errors import InputError
from jaxgen.io.log import ReadLog
from jaxgen.io.tables import encoding_and_header

__all__ = ["COLUMN_NAMES", "GeneFile", "check_window", "gene_sets", "read_gene_file"]

COLUMN_NAMES = {
    "snp": ("snp", "snp_id", "snpid", "rsid", "rs", "variant", "variant_id", "marker", "id"),
    "gene": ("gene", "gene_id", "gene_name", "gene_symbol", "symbol", "set"),
    "chromosome": ("chromosome", "chr", "chrom", "#chrom", "#chr"),
    "start": ("start", "begin", "bp1", "start_bp", "from"),
    "end": ("end", "stop", "bp2", "end_bp", "to"),
}
FORMS = {"pairs": ("snp", "gene"), "ranges": ("gene", "chromosome", "start", "end")}
_PLINK_GENE_LIST = ("chromosome", "start", "end", "gene")


@dataclass(frozen=True)
class GeneFile:
    """A validated gene file. form : "pairs" or "ranges"; table : its rows (columns snp, gene for pairs;
    gene, chromosome, start, end for ranges) with ``line``, the line of the file each came from."""

    path: Path
    form: str
    table: pd.DataFrame


def read_gene_file(path: str | Path, log: ReadLog | None = None) -> GeneFile:
    """Read and check a gene file (see the module docstring); raises InputError naming the bad line."""
    path, log = Path(path), log or ReadLog()
    if not path.is_file():
        raise InputError(path, "no such file")
    encoding, _ = encoding_and_header(path, log)
    lines = [(k, line) for k, line in enumerate(path.read_text(encoding=encoding).splitlines(), start=1)
             if line.strip()]
    if not lines:
        raise InputError(path, "the file is empty")
    split = _splitter(lines[0][1])
    first = split(lines[0][1])
    roles = _header_roles(first)
    has_header = roles is not None
    if not has_header:
        roles = _headerless_roles(path, first, split(lines[1][1]) if len(lines) > 1 else None)
    rows = lines[1:] if has_header else lines
    form = "pairs" if "snp" in roles.values() else "ranges"
    columns = {role: index for index, role in roles.items()}
    records = []
    for number, line in rows:
        cells = split(line)
        if len(cells) != len(first):
            raise InputError(path, f"line {number} has {len(cells)} fields, the {'header' if has_header else 'first line'} "
                             f"{len(first)}")
        records.append({"line": number, **{role: _cell(path, number, role, cells[columns[role]])
                                           for role in FORMS[form]}})
    if not records:
        raise InputError(path, "the file has a header but no gene rows")
    table = pd.DataFrame(records)
    if form == "ranges":
        reversed_range = table[table["start"] > table["end"]]
        if len(reversed_range):
            row = reversed_range.iloc[0]
            raise InputError(path, f"line {row.line}: gene {row.gene} starts at {row.start}, after its end {row.end}")
    log.add(f"{path}: {table['gene'].nunique()} genes as "
            + ("SNP → gene pairs" if form == "pairs" else "base-pair ranges") + f" ({len(table)} lines)")
    return GeneFile(path, form, table)


def gene_sets(genes: GeneFile, snps: pd.DataFrame, *, window: int = 0, log: ReadLog | None = None) -> dict:
    """The analysed SNPs of each gene: {gene: [SNP ids in the order of ``snps``]}, genes in file order.

    snps : the analysed SNPs (columns snp, chromosome, position, as :attr:`jaxgen.io.Genotypes.snps`);
    window : base pairs added on both sides of every range (ranges only). SNPs of the file that were
    not analysed are counted and logged, so are analysed SNPs in no gene; genes left without an
    analysed SNP are listed in the log and left out. No gene with an analysed SNP is an InputError.
    """
    log = log or ReadLog()
    check_window(genes, window)
    order = {snp: k for k, snp in enumerate(snps["snp"])}
    table = genes.table
    if genes.form == "pairs":
        known = table["snp"].isin(order)
        unknown = table.loc[~known, "snp"].unique()
        if len(unknown):
            log.add(f"{genes.path}: {len(unknown)} SNPs are not among the analysed SNPs (absent from the genotypes "
                    f"or removed by QC or the selection), e.g. {', '.join(unknown[:5])}")
        members = {gene: sorted(set(group["snp"]), key=order.get)
                   for gene, group in table[known].groupby("gene", sort=False)}
    else:
        found = snps_in_ranges(snps["chromosome"].map(_chromosome), snps["position"], table["chromosome"],
                               table["start"] - window, table["end"] + window)
        members = {}
        for gene, indices in zip(table["gene"], found):
            members[gene] = members.get(gene, set()) | set(indices.tolist())
        members = {gene: snps["snp"].iloc[sorted(indices)].tolist() for gene, indices in members.items()}
    empty = [gene for gene in table["gene"].unique() if not members.get(gene)]
    sets = {gene: members[gene] for gene in table["gene"].unique() if members.get(gene)}
    if not sets:
        raise InputError(genes.path, f"none of its {table['gene'].nunique()} genes holds an analysed SNP"
                         + (f" (within {window} bp)" if window else "") + ": check the SNP ids, chromosome "
                         "labels and genome build against the genotypes")
    if empty:
        log.add(f"{genes.path}: {len(empty)} genes hold no analysed SNP and are not tested: "
                + ", ".join(empty[:20]) + (f" … ({len(empty)} in all)" if len(empty) > 20 else ""))
    in_genes = {snp for members in sets.values() for snp in members}
    log.add(f"{genes.path}: {len(sets)} genes hold {len(in_genes)} of the {len(order)} analysed SNPs"
            + (f" (ranges widened by {window} bp)" if window else ""))
    return sets


def check_window(genes: GeneFile, window: int) -> None:
    """Refuse a negative window, or a window for a file of SNP → gene pairs (it widens ranges only)."""
    if window < 0:
        raise ValueError(f"the gene window must be a non-negative number of base pairs, got {window}")
    if genes.form == "pairs" and window:
        raise InputError(genes.path, "a gene window widens gene ranges, but this file maps SNPs to genes")


def _splitter(line: str):
    """A function splitting a line into stripped fields, by the separator the first line uses."""
    separator = next((s for s in ("\t", ",") if s in line), None)
    if separator is None:
        return lambda text: text.split()
    return lambda text: [cell.strip() for cell in text.split(separator)]


def _header_roles(cells: list[str]) -> dict | None:
    """{column index: role} when ``cells`` is a header naming a complete form, else None."""
    roles = {}
    for index, cell in enumerate(cells):
        role = next((r for r, names in COLUMN_NAMES.items() if cell.lower() in names), None)
        if role is not None and role not in roles.values():
            roles[index] = role
    for form in ("pairs", "ranges"):
        if set(FORMS[form]) <= set(roles.values()):
            return {i: r for i, r in roles.items() if r in FORMS[form]}
    return None


def _headerless_roles(path, first: list[str], second: list[str] | None) -> dict:
    """{column index: role} of a file without a header, from its number of columns (and, for four
    columns, whether the positions are the last two or the middle two)."""
    if len(first) == 2:
        return dict(enumerate(FORMS["pairs"]))
    if len(first) == 4:
        numbers = [all(_is_int(row[k]) for row in (first, second) if row is not None) for k in range(4)]
        if numbers[1] and numbers[2] and not numbers[3]:
            return dict(enumerate(_PLINK_GENE_LIST))
        return dict(enumerate(FORMS["ranges"]))
    raise InputError(path, f"line 1 has {len(first)} fields: a gene file holds SNP → gene pairs (snp, gene) or gene "
                     "ranges (gene, chromosome, start, end), with a header naming them or in that order")


def _cell(path, line: int, role: str, text: str):
    """One checked field: a non-empty name, or a non-negative whole number of base pairs."""
    if not text:
        raise InputError(path, f"line {line}: empty {role} field")
    if role in ("start", "end"):
        if not _is_int(text):
            raise InputError(path, f"line {line}: {role} {text!r} is not a base-pair position (a whole number ≥ 0)")
        return int(text)
    return _chromosome(text) if role == "chromosome" else text


def _is_int(text: str) -> bool:
    return re.fullmatch(r"\d+", text) is not None


def _chromosome(label) -> str:
    """A chromosome label without a ``chr`` prefix (``chr7`` and ``7`` are the same chromosome)."""
    label = str(label).strip()
    return label[3:] if label.lower().startswith("chr") else label
