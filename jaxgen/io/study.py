"""Load a study from files: genotypes, QT tables, covariates and graphs, aligned by subject id.

These loaders are the one path from a user's files to the arrays the methods take; the command
line, the demo and the notebooks all go through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from jaxgen.data.align import preview_ids
from jaxgen.data.values import first_dependent_column
from jaxgen.graphs import adjacency_laplacian, genomic_relationship
from jaxgen.io.align import align_subjects
from jaxgen.io.errors import InputError
from jaxgen.io.graphs import read_adjacency, read_kinship
from jaxgen.io.log import ReadLog
from jaxgen.io.genotype_files import GenotypeFiles
from jaxgen.io.genotype_source import GenotypeSource, Genotypes
from jaxgen.io.tables import read_covariates, read_qt_table, read_table
from jaxgen.runtime import require_memory

__all__ = ["CCAStudy", "LMMStudy", "ScanStudy", "load_cca_study", "load_lmm_study", "load_scan_study"]


@dataclass(frozen=True)
class LMMStudy:
    """Inputs of :func:`jaxgen.lmm.fit`, aligned on the same subjects.

    Y : (n, c) QTs, columns the regions in adjacency order; X : (n, p) dosages, columns SNP ids;
    covariates : (n, m), the first column ``intercept``; adjacency : (c, c) or None (no spatial
    structure given); kinship : (n, n) or None; genotypes : the SNP table after QC; log : what was read.
    """

    Y: pd.DataFrame
    X: pd.DataFrame
    covariates: pd.DataFrame
    adjacency: np.ndarray | None
    kinship: np.ndarray | None
    genotypes: Genotypes
    log: ReadLog


@dataclass(frozen=True)
class CCAStudy:
    """Inputs of the CCA estimators, aligned on the same subjects.

    X : (n, p) dosages, columns SNP ids; Ys : K frames (n, q) over the same regions (the columns, in
    one order); modalities : K names (the QT files' stems); Ly : (q, q) brain-network Laplacian from
    the adjacency, or None (then the estimators build it from the data); genotypes; log.
    """

    X: pd.DataFrame
    Ys: list[pd.DataFrame]
    modalities: list[str]
    Ly: np.ndarray | None
    genotypes: Genotypes
    log: ReadLog

    @property
    def regions(self) -> list[str]:
        return list(self.Ys[0].columns)


def load_lmm_study(genotypes: GenotypeFiles | str | Path, qt: str | Path, *, covariates: str | Path | None = None,
                   covariates_from_qt: Sequence[str] | None = None,
                   adjacency: str | Path | None = None, kinship: str | Path | None = None,
                   qt_columns: Sequence[str] | None = None, id_column: str | None = None,
                   missing: str = "error", maf_min: float = 0.01, snps: Sequence[str] | None = None,
                   chromosome: str | None = None, start: int | None = None, end: int | None = None,
                   nonfounders: bool = False, log: ReadLog | None = None) -> LMMStudy:
    """Read and align the inputs of a spatial LMM analysis.

    genotypes : the genotype files (a path: a PLINK 1 prefix); qt : QT table; covariates : covariate table (an intercept is always added);
    covariates_from_qt : columns of the QT table used as covariates, not as QTs (FreeSurfer's eTIV …);
    adjacency : region graph file — its regions pick the QT columns (others are reported and left
    out); kinship : a kinship file, ``"grm"`` for the GRM of the genotypes, or None.
    qt_columns, id_column, missing : see :func:`read_qt_table`; maf_min, snps, chromosome, start, end,
    nonfounders : see :func:`read_plink`.
    """
    log, files = log or ReadLog(), GenotypeFiles.given(genotypes)
    genotypes = files.read(maf_min=maf_min, snps=snps, chromosome=chromosome, start=start, end=end,
                           nonfounders=nonfounders, log=log)
    Y, design, A = _phenotypes(files, genotypes.subject_ids, qt, covariates, covariates_from_qt, adjacency,
                               qt_columns, id_column, missing, log)
    subjects = list(Y.index)
    genotypes = genotypes.select_subjects(subjects).without_constant_snps(files.main_file, log)
    K = _kinship(kinship, genotypes, subjects, log)
    return LMMStudy(Y=Y, X=genotypes.frame(), covariates=design, adjacency=A, kinship=K, genotypes=genotypes, log=log)


@dataclass(frozen=True)
class ScanStudy:
    """Inputs of :func:`jaxgen.scan.scan`: the opened fileset (no genotype read yet) and the tables.

    fileset : the opened :class:`GenotypeSource` (PLINK 1, PLINK 2 or BGEN); Y : (n, c) QTs of the aligned subjects; covariates : (n, m), first
    column ``intercept``; adjacency : (c, c) or None; kinship : (n, n) from a file, or None; log.
    """

    fileset: GenotypeSource
    Y: pd.DataFrame
    covariates: pd.DataFrame
    adjacency: np.ndarray | None
    kinship: np.ndarray | None
    log: ReadLog


def load_scan_study(genotypes: GenotypeFiles | str | Path, qt: str | Path, *, covariates: str | Path | None = None,
                    covariates_from_qt: Sequence[str] | None = None, adjacency: str | Path | None = None,
                    kinship: str | Path | None = None, qt_columns: Sequence[str] | None = None,
                    id_column: str | None = None, missing: str = "error", maf_min: float = 0.01,
                    snps: Sequence[str] | None = None, chromosome: str | None = None, start: int | None = None,
                    end: int | None = None, nonfounders: bool = False, log: ReadLog | None = None) -> ScanStudy:
    """Open the fileset and read the tables of a genome-wide scan (arguments of :func:`load_lmm_study`;
    ``kinship`` is a file here, or None when the scan builds it from the genotypes)."""
    log, files = log or ReadLog(), GenotypeFiles.given(genotypes)
    fileset = files.open(maf_min=maf_min, snps=snps, chromosome=chromosome, start=start, end=end,
                         nonfounders=nonfounders, log=log)
    Y, design, A = _phenotypes(files, fileset.subject_ids, qt, covariates, covariates_from_qt, adjacency,
                               qt_columns, id_column, missing, log)
    K = None if kinship is None else read_kinship(kinship, list(Y.index), log)
    return ScanStudy(fileset=fileset, Y=Y, covariates=design, adjacency=A, kinship=K, log=log)


def _phenotypes(files: GenotypeFiles, genotyped: list[str], qt, covariates, covariates_from_qt, adjacency, qt_columns, id_column,
                missing, log) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray | None]:
    """The QTs (n, c), the covariate design (n, m) with an intercept and the adjacency (or None), on the
    subjects shared by the genotypes (``genotyped`` ids) and every table, in alignment order."""
    Y = read_qt_table(qt, id_column=id_column, columns=qt_columns, missing=missing, log=log)
    Y = Y.drop(columns=[c for c in covariates_from_qt or () if c in Y.columns])
    A = None
    if adjacency is not None:
        A, regions = _adjacency_over(Y, adjacency, log)
        Y = Y[regions]
    tables = {}
    if covariates is not None:
        tables[str(covariates)] = read_covariates(covariates, id_column=id_column, missing=missing, log=log)
    if covariates_from_qt:
        tables[str(qt)] = _qt_covariates([qt], covariates_from_qt, id_column, missing, log)
    sources = {str(files.main_file): genotyped, str(qt): list(Y.index)}
    sources.update({f"{name} (covariates)" if name == str(qt) else name: list(C.index) for name, C in tables.items()})
    subjects = align_subjects(sources, log)
    design = pd.DataFrame({"intercept": 1.0}, index=pd.Index(subjects, name="subject"))
    for name, C in tables.items():
        clash = [c for c in C.columns if c in design.columns]
        if clash:
            raise InputError(name, f"covariates {', '.join(clash)} are given twice (by --covariates and "
                             "--covariates-from-qt)")
        design = design.join(C.loc[subjects])
    _refuse_collinear(design, tables)
    return Y.loc[subjects], design, A


def _refuse_collinear(design: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> None:
    """InputError naming the covariate table and column that the columns before it in ``design`` (the
    intercept first) span: a covariate design without full column rank has no unique fixed effects."""
    dependent = first_dependent_column(design.to_numpy())
    if dependent is None:
        return
    name = design.columns[dependent]
    source = next(table for table, C in tables.items() if name in C.columns)
    raise InputError(source, f"covariate {name!r} is a linear combination of the {dependent} columns before it "
                     f"({preview_ids(design.columns[:dependent], limit=6)}) on the {len(design)} subjects shared by "
                     "the inputs (collinear covariates); drop it")


def _modality_names(qts: Sequence[str | Path]) -> list[str]:
    """One name per QT table: its file's stem, or ``folder/stem`` where stems repeat (``lh/thickness.csv``,
    ``rh/thickness.csv``), else the path as given. InputError for a table given twice."""
    paths = [Path(q) for q in qts]
    seen = {}
    for path in paths:
        if path.resolve() in seen:
            raise InputError(path, f"is given twice as a QT table ({seen[path.resolve()]} and {path}): each "
                             "table is one imaging modality")
        seen[path.resolve()] = path
    for name in (lambda p: p.stem, lambda p: f"{p.parent.name}/{p.stem}"):
        names = [name(path) for path in paths]
        if len(set(names)) == len(names):
            return names
    return [str(path) for path in paths]  # distinct files: distinct paths


def load_cca_study(genotypes: GenotypeFiles | str | Path, qts: Sequence[str | Path], *, adjacency: str | Path | None = None,
                   covariates_from_qt: Sequence[str] | None = None, id_column: str | None = None,
                   missing: str = "error", maf_min: float = 0.01,
                   snps: Sequence[str] | None = None, chromosome: str | None = None, start: int | None = None,
                   end: int | None = None, nonfounders: bool = False, log: ReadLog | None = None) -> CCAStudy:
    """Read and align the inputs of a multi-task CCA: genotypes and K QT tables (one per modality).

    The modalities must measure the same regions. Column names may carry a measure suffix shared by
    the whole table (FreeSurfer's ``lh_bankssts_thickness``); it is removed before matching, and
    regions missing from some table are reported and left out. With ``adjacency``, its regions pick
    the columns and it gives the brain-network Laplacian Ly. ``covariates_from_qt`` names columns of
    the QT tables (FreeSurfer's eTIV …, each taken from the first table holding it) that are
    regressed out of every modality (least squares with an intercept, on the aligned subjects).
    """
    log, files = log or ReadLog(), GenotypeFiles.given(genotypes)
    if len(qts) < 1:
        raise ValueError("give at least one QT table (one per imaging modality)")
    modalities = _modality_names(qts)
    genotypes = files.read(maf_min=maf_min, snps=snps, chromosome=chromosome, start=start, end=end,
                           nonfounders=nonfounders, log=log)
    tables = [_strip_measure_suffix(read_qt_table(q, id_column=id_column, missing=missing, log=log)
                                    .drop(columns=list(covariates_from_qt or ()), errors="ignore"), q, log)
              for q in qts]
    C = None if not covariates_from_qt else _qt_covariates(qts, covariates_from_qt, id_column, missing, log)
    regions = [r for r in tables[0].columns if all(r in t.columns for t in tables[1:])]
    for q, table in zip(qts, tables):
        left_out = [r for r in table.columns if r not in regions]
        if left_out:
            log.add(f"{q}: columns not in every QT table, left out: {', '.join(left_out[:8])}")
    Ly = None
    if adjacency is not None:
        A, regions = _adjacency_over(tables[0][regions], adjacency, log)
        Ly = adjacency_laplacian(A)
    if len(regions) < 2:
        raise InputError(None, f"the QT tables share {len(regions)} region columns; multi-task CCA needs at least 2")
    sources = {str(files.main_file): genotypes.subject_ids}
    sources.update({str(q): list(t.index) for q, t in zip(qts, tables)})
    if C is not None:
        sources["covariates from the QT tables"] = list(C.index)
    subjects = align_subjects(sources, log)
    genotypes = genotypes.select_subjects(subjects).without_constant_snps(files.main_file, log)
    Ys = [t.loc[subjects, regions] for t in tables]
    if C is not None:
        Ys = [_residualized(Y, C.loc[subjects]) for Y in Ys]
        log.add(f"covariates {', '.join(C.columns)} regressed out of every modality (with an intercept)")
    return CCAStudy(X=genotypes.frame(), Ys=Ys, modalities=modalities, Ly=Ly,
                    genotypes=genotypes, log=log)


def _qt_covariates(qts, names, id_column, missing, log) -> pd.DataFrame:
    """The columns ``names`` of the QT tables as covariates, each from the first table that has it."""
    found = {}
    for q in qts:
        header = read_table(q, id_column=id_column).columns
        wanted = [name for name in names if name in header and name not in found]
        if wanted:
            found.update(dict.fromkeys(wanted, q))
    unknown = [name for name in names if name not in found]
    if unknown:
        raise InputError(qts[0] if len(qts) == 1 else None,
                         f"--covariates-from-qt: no column {', '.join(unknown)} in the QT table"
                         f"{'' if len(qts) == 1 else 's ' + ', '.join(map(str, qts))}")
    parts = [read_covariates(q, id_column=id_column, columns=[n for n in names if found[n] == q], missing=missing,
                             log=log) for q in dict.fromkeys(found.values())]
    return pd.concat(parts, axis=1, join="inner")


def _residualized(Y: pd.DataFrame, C: pd.DataFrame) -> pd.DataFrame:
    """Y (n, q) minus its least-squares fit on [1, C] (n, m)."""
    design = np.column_stack([np.ones(len(C)), C.to_numpy()])
    coef, *_ = np.linalg.lstsq(design, Y.to_numpy(), rcond=None)
    return Y - design @ coef


def _adjacency_over(Y: pd.DataFrame, adjacency, log: ReadLog) -> tuple[np.ndarray, list[str]]:
    """The adjacency file and its regions, in the file's order; each must be a QT column of ``Y``.
    QT columns the file does not name are logged and left out by the caller."""
    A, names = read_adjacency(adjacency, log=log)
    missing = [r for r in names if r not in Y.columns]
    if missing:
        raise InputError(adjacency, f"regions without a QT column: {', '.join(missing[:8])}"
                         f"{' …' if len(missing) > 8 else ''}; QT columns are {', '.join(list(Y.columns)[:8])} …")
    ignored = [c for c in Y.columns if c not in names]
    if ignored:
        log.add(f"{adjacency}: QT columns not in the adjacency, left out: {', '.join(ignored[:8])}"
                f"{' …' if len(ignored) > 8 else ''}")
    return A, names


def _strip_measure_suffix(table: pd.DataFrame, path, log: ReadLog) -> pd.DataFrame:
    """Drop a suffix such as ``_thickness`` that every column name of ``table`` ends with."""
    names = [str(c) for c in table.columns]
    suffix = _common_suffix(names)
    cut = max(suffix.rfind("_"), suffix.rfind("."))
    if cut < 0 or len(names) < 2:
        return table
    suffix = suffix[cut:]
    log.add(f"{path}: every column ends with {suffix!r}; regions are named without it")
    return table.rename(columns={n: n[: -len(suffix)] for n in names})


def _common_suffix(names: list[str]) -> str:
    reversed_prefix = []
    for chars in zip(*(n[::-1] for n in names)):
        if len(set(chars)) != 1:
            break
        reversed_prefix.append(chars[0])
    return "".join(reversed_prefix)[::-1]


def _kinship(kinship, genotypes: Genotypes, subjects: list[str], log: ReadLog) -> np.ndarray | None:
    if kinship is None:
        return None
    if str(kinship).lower() == "grm":
        n, p = genotypes.dosages.shape
        require_memory(8.0 * (3 * n * p + 2 * n * n), f"the genomic relationship matrix of {n} subjects and {p} SNPs",
                       "use fewer SNPs for the GRM, or give a kinship file", host=True)
        log.add(f"kinship: genomic relationship matrix of the {p} SNPs after QC (PLINK's --make-rel rule: "
                "founders' allele frequencies, each pair over its jointly called SNPs)")
        return genomic_relationship(genotypes.dosages, frequency=genotypes.snps["a1_frequency"].to_numpy(),
                                    called=None if genotypes.missing is None else ~genotypes.missing)
    return read_kinship(kinship, subjects, log)
