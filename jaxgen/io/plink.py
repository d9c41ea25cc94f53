"""PLINK binary genotypes (.bed/.bim/.fam) through bed-reader: read with QC, and write.

Dosages count allele 1 (PLINK's A1) per subject: 0, 1 or 2. Reading imputes missing calls by the
SNP's mean dosage, drops monomorphic SNPs and SNPs under a minor-allele-frequency threshold, and logs
every count.

PLINK's conventions (checked against PLINK 1.9 and 2 in the tests):

- allele frequencies, and so the MAF filter, count founders only — subjects whose .fam father and
  mother are both ``0`` — unless ``nonfounders=True`` (PLINK's ``--nonfounders``); a fileset without
  founders uses everyone. Frequencies are computed on the whole fileset, before subjects are aligned
  with the other inputs;
- the missing calls are kept as a mask (``Genotypes.missing``), so that the GRM can divide each pair
  by its own count of jointly called SNPs as PLINK's ``--make-rel`` does
  (:func:`jaxgen.graphs.genomic_relationship`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from jaxgen.io.errors import InputError
from jaxgen.io.log import ReadLog

__all__ = ["Genotypes", "PlinkFileset", "QCCounts", "read_plink", "write_plink"]

_SUFFIXES = (".bed", ".bim", ".fam")


@dataclass(frozen=True)
class Genotypes:
    """Genotypes after QC.

    dosages : (n, p) float64 copies of allele 1, missing calls mean-imputed.
    subject_ids : (n,) individual ids (PLINK IID); family_ids : (n,) FID.
    snps : DataFrame with p rows: snp, chromosome, position, allele_1, allele_2, a1_frequency (of
        allele 1, over founders by default), maf, missing_rate.
    missing : (n, p) bool, the calls that were missing (and imputed).
    """

    dosages: np.ndarray
    subject_ids: list[str]
    family_ids: list[str]
    snps: pd.DataFrame
    missing: np.ndarray | None = None

    @property
    def snp_ids(self) -> list[str]:
        return self.snps["snp"].tolist()

    def select_subjects(self, subject_ids: Sequence[str]) -> Genotypes:
        """The genotypes of ``subject_ids`` (all present), in that order."""
        row = {s: i for i, s in enumerate(self.subject_ids)}
        rows = np.array([row[s] for s in subject_ids], dtype=int)
        return replace(self, dosages=self.dosages[rows], subject_ids=list(subject_ids),
                       family_ids=[self.family_ids[i] for i in rows],
                       missing=None if self.missing is None else self.missing[rows])

    def frame(self) -> pd.DataFrame:
        """Dosages as a DataFrame (subjects × SNP ids)."""
        return pd.DataFrame(self.dosages, index=self.subject_ids, columns=self.snp_ids)


def plink_prefix(path: str | Path) -> Path:
    """The fileset prefix: ``data/geno`` for ``data/geno``, ``data/geno.bed`` or ``data/geno.bim``."""
    path = Path(path)
    return path.with_suffix("") if path.suffix in _SUFFIXES else path


def read_plink(prefix: str | Path, *, maf_min: float = 0.01, snps: Sequence[str] | None = None,
               chromosome: str | None = None, start: int | None = None, end: int | None = None,
               nonfounders: bool = False, log: ReadLog | None = None) -> Genotypes:
    """Read a PLINK fileset with quality control.

    Parameters
    ----------
    prefix : path of the fileset without suffix (a ``.bed`` path is accepted too).
    maf_min : SNPs with minor-allele frequency below it are dropped (monomorphic ones always).
    nonfounders : compute allele frequencies over every subject, not over founders only (PLINK's default).
    snps : keep only these SNP ids (an unknown id is an error).
    chromosome, start, end : keep only SNPs on this chromosome within [start, end] base pairs.
    log : where the counts of what was read, imputed and dropped go.
    """
    log = log or ReadLog()
    fileset = PlinkFileset.open(prefix, maf_min=maf_min, snps=snps, chromosome=chromosome, start=start, end=end,
                                nonfounders=nonfounders, log=log)
    genotypes, counts = _quality_control(fileset.genotypes(fileset.selected), maf_min, fileset.counted)
    counts.report(fileset.bed, maf_min, log)
    return genotypes


@dataclass(frozen=True)
class PlinkFileset:
    """A checked PLINK fileset, opened once and read in pieces (:meth:`read`, :meth:`blocks`).

    bed : the .bed path; table : every SNP of the .bim (snp, chromosome, position, allele_1, allele_2);
    selected : (q,) indices of the SNPs chosen by id/chromosome/range; subject_ids, family_ids : (n,);
    counted : (n,) bool, the subjects whose calls give the allele frequencies (founders by default);
    maf_min : the MAF threshold of the QC.
    """

    bed: Path
    table: pd.DataFrame
    selected: np.ndarray
    subject_ids: list[str]
    family_ids: list[str]
    counted: np.ndarray
    maf_min: float

    @classmethod
    def open(cls, prefix: str | Path, *, maf_min: float = 0.01, snps: Sequence[str] | None = None,
             chromosome: str | None = None, start: int | None = None, end: int | None = None,
             nonfounders: bool = False, log: ReadLog | None = None) -> PlinkFileset:
        """Check the layout and the ids and select SNPs, reading no genotype (arguments of :func:`read_plink`)."""
        log = log or ReadLog()
        prefix = plink_prefix(prefix)
        bed = _bed_file(prefix)
        if not 0 <= maf_min < 0.5:
            raise ValueError(f"maf_min must lie in [0, 0.5), got {maf_min}")
        _check_layout(prefix)
        try:
            with _open_bed(bed) as reader:
                table = _snp_table(reader)
                subject_ids = [str(s) for s in reader.iid]
                family_ids = [str(s) for s in reader.fid]
                founders = ((np.asarray(reader.father, dtype=str) == "0")
                            & (np.asarray(reader.mother, dtype=str) == "0"))
        except Exception as err:  # bed-reader reports format problems with many exception types
            raise InputError(bed, f"not a readable PLINK fileset ({type(err).__name__}: {err})") from None
        keep = _selected_snps(table, bed, snps, chromosome, start, end)
        _check_unique(subject_ids, prefix.with_suffix(".fam"), "subject (IID)")
        _check_unique(table["snp"].tolist(), prefix.with_suffix(".bim"), "SNP")
        log.add(f"{bed}: {len(subject_ids)} subjects, {len(keep)} SNPs selected")
        counted = np.ones(len(subject_ids), bool) if nonfounders else founders
        if not counted.any():
            log.add(f"{prefix.with_suffix('.fam')}: no founder (every subject has a parent in the .fam); allele "
                    "frequencies count every subject")
            counted = np.ones(len(subject_ids), bool)
        elif not counted.all():
            log.add(f"{prefix.with_suffix('.fam')}: allele frequencies and the MAF filter count the "
                    f"{int(counted.sum())} founders of {len(subject_ids)} subjects (PLINK's rule; nonfounders=True "
                    "counts everyone)")
        return cls(bed, table, keep, subject_ids, family_ids, counted, maf_min)

    def genotypes(self, snp_indices: np.ndarray) -> Genotypes:
        """The raw genotypes of every subject at ``snp_indices`` (indices into ``table``), before QC:
        dosages of allele 1, NaN where missing."""
        try:
            with _open_bed(self.bed) as reader:
                dosages = reader.read(index=np.s_[:, np.asarray(snp_indices)], dtype="float64")
        except Exception as err:  # bed-reader reports format problems with many exception types
            raise InputError(self.bed, f"not a readable PLINK fileset ({type(err).__name__}: {err})") from None
        return Genotypes(dosages, self.subject_ids, self.family_ids,
                         self.table.iloc[np.asarray(snp_indices)].reset_index(drop=True))

    def blocks(self, block_size: int, snp_indices: np.ndarray | None = None):
        """Yield (:class:`Genotypes`, :class:`QCCounts`) of consecutive blocks of ``block_size`` SNPs of
        ``snp_indices`` (default: the selected ones), after :func:`read_plink`'s QC (a block may keep no SNP).
        Memory is that of one block; :meth:`QCCounts.report` of the summed counts logs what was dropped."""
        indices = self.selected if snp_indices is None else np.asarray(snp_indices)
        for first in range(0, len(indices), block_size):
            yield _quality_control(self.genotypes(indices[first:first + block_size]), self.maf_min, self.counted)


def _bed_file(prefix: Path) -> Path:
    missing = [str(prefix.with_suffix(s)) for s in _SUFFIXES if not prefix.with_suffix(s).is_file()]
    if missing:
        raise InputError(prefix.with_suffix(".bed"), f"PLINK fileset incomplete, missing {', '.join(missing)}")
    return prefix.with_suffix(".bed")


_MAGIC = b"\x6c\x1b"


def _check_layout(prefix: Path) -> None:
    """Refuse a .bed that does not hold exactly the .fam's subjects × the .bim's SNPs.

    The layout (SNP-major PLINK 1): 3 header bytes 6c 1b 01, then per SNP ⌈n/4⌉ bytes, 2 bits per
    subject, the bits after the last subject zero. A .fam a few lines short can still fit the size,
    so those padding bits are checked too.
    """
    bed, bim, fam = (prefix.with_suffix(s) for s in _SUFFIXES)
    n, p = _count_lines(fam), _count_lines(bim)
    with bed.open("rb") as handle:
        header = handle.read(3)
    if header[:2] != _MAGIC:
        raise InputError(bed, f"not a PLINK 1 .bed file: it starts with bytes {header.hex(' ') or '(none)'}, not "
                         "6c 1b 01 (a PLINK 2 .pgen or another format? convert it with plink2 --make-bed)")
    if header[2:] != b"\x01":
        raise InputError(bed, "an individual-major .bed (PLINK's old format); rewrite it SNP-major with "
                         "plink1.9 --bfile PREFIX --make-bed --out NEW")
    per_snp = -(-n // 4)
    expected, size = 3 + p * per_snp, bed.stat().st_size
    if size != expected:
        shape = "shorter (truncated?)" if size < expected else "longer"
        raise InputError(bed, f"has {size} bytes but the {n} subjects of {fam.name} and {p} SNPs of {bim.name} need "
                         f"3 + {p} × {per_snp} = {expected}: the .bed is {shape}, or the .fam or .bim belongs to "
                         "another fileset")
    if n % 4 and p:
        last_bytes = np.memmap(bed, dtype=np.uint8, mode="r", offset=3, shape=(p, per_snp))[:, -1]
        padding = 0xFF & ~((1 << (2 * (n % 4))) - 1)
        if np.any(last_bytes & padding):
            raise InputError(fam, f"lists {n} subjects but {bed.name} holds genotypes after the last of them: "
                             "a line of the .fam is missing, or it belongs to another fileset")


def _count_lines(path: Path) -> int:
    """Non-blank lines of a text file."""
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _open_bed(bed: Path):
    try:
        from bed_reader import open_bed
    except ImportError:
        raise ImportError("reading PLINK files needs bed-reader: pip install 'jaxgen[io]'") from None
    return open_bed(bed)


def _snp_table(reader) -> pd.DataFrame:
    return pd.DataFrame({"snp": [str(s) for s in reader.sid], "chromosome": [str(c) for c in reader.chromosome],
                         "position": np.asarray(reader.bp_position, dtype=np.int64),
                         "allele_1": reader.allele_1, "allele_2": reader.allele_2})


def _selected_snps(table, bed, snps, chromosome, start, end) -> np.ndarray:
    """Indices of the SNPs passing the id list and the chromosome/position range."""
    keep = np.ones(len(table), dtype=bool)
    if snps is not None:
        wanted = [str(s) for s in snps]
        unknown = sorted(set(wanted) - set(table["snp"]))
        if unknown:
            raise InputError(bed.with_suffix(".bim"), f"{len(unknown)} requested SNPs are not in the fileset: "
                             f"{', '.join(unknown[:10])}{' ...' if len(unknown) > 10 else ''}")
        keep &= table["snp"].isin(wanted).to_numpy()
    if chromosome is not None:
        keep &= (table["chromosome"] == str(chromosome)).to_numpy()
    if start is not None:
        keep &= (table["position"] >= start).to_numpy()
    if end is not None:
        keep &= (table["position"] <= end).to_numpy()
    if not keep.any():
        raise InputError(bed.with_suffix(".bim"), "no SNP matches the selection "
                         f"(snps={'given' if snps is not None else 'all'}, chromosome={chromosome}, "
                         f"start={start}, end={end})")
    return np.flatnonzero(keep)


@dataclass(frozen=True)
class QCCounts:
    """What the QC did: missing calls imputed (and in how many SNPs), SNP ids dropped as monomorphic or
    rare, SNPs kept. Counts of several blocks add up (``+``)."""

    missing_calls: int = 0
    missing_snps: int = 0
    monomorphic: tuple[str, ...] = ()
    rare: tuple[str, ...] = ()
    kept: int = 0

    def __add__(self, other: QCCounts) -> QCCounts:
        return QCCounts(self.missing_calls + other.missing_calls, self.missing_snps + other.missing_snps,
                        self.monomorphic + other.monomorphic, self.rare + other.rare, self.kept + other.kept)

    def report(self, bed: Path, maf_min: float, log: ReadLog) -> None:
        """Log each count; InputError when no SNP is left."""
        if self.missing_calls:
            log.add(f"{bed}: {self.missing_calls} missing calls in {self.missing_snps} SNPs imputed by the SNP's "
                    "mean dosage")
        for names, why in ((self.monomorphic, "monomorphic (or never called)"), (self.rare, f"with MAF < {maf_min}")):
            if names:
                log.add(f"{bed}: dropped {len(names)} SNPs {why}: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}")
        if not self.kept:
            raise InputError(bed, f"no SNP left after quality control (MAF >= {maf_min}, polymorphic)")
        log.add(f"{bed}: {self.kept} SNPs kept")


def _quality_control(genotypes: Genotypes, maf_min: float, counted: np.ndarray) -> tuple[Genotypes, QCCounts]:
    """Mean-impute missing calls, then drop monomorphic and rare SNPs; returns the kept genotypes and the counts.
    counted : (n,) bool, the subjects whose called genotypes give the allele frequencies."""
    X = genotypes.dosages
    missing = np.isnan(X)
    mean = _called_mean(X, missing)
    if missing.any():
        X = np.where(missing, mean, X)
    frequency = _called_mean(genotypes.dosages[counted], missing[counted]) / 2.0
    maf = np.minimum(frequency, 1.0 - frequency)
    snps = genotypes.snps.assign(a1_frequency=frequency, maf=maf, missing_rate=missing.mean(axis=0))
    monomorphic = ~(X.std(axis=0) > 0)
    rare = ~monomorphic & (maf < maf_min)
    keep = ~(monomorphic | rare)
    counts = QCCounts(int(missing.sum()), int(missing.any(axis=0).sum()), tuple(snps["snp"][monomorphic]),
                      tuple(snps["snp"][rare]), int(keep.sum()))
    kept = replace(genotypes, dosages=X[:, keep], snps=snps[keep].reset_index(drop=True), missing=missing[:, keep])
    return kept, counts


def _called_mean(X: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Mean (p,) of each column of X (n, p) over its called entries (NaN for a column never called)."""
    called = (~missing).sum(axis=0)
    return np.divide(np.where(missing, 0.0, X).sum(axis=0), called, out=np.full(X.shape[1], np.nan),
                     where=called > 0)


def _check_unique(ids: list[str], path: Path, what: str) -> None:
    counts = pd.Series(ids).value_counts()
    repeated = counts[counts > 1]
    if len(repeated):
        raise InputError(path, f"duplicated {what} ids: " + ", ".join(f"{i} ({n}×)" for i, n in repeated.head(5).items()))


def write_plink(prefix: str | Path, dosages, subject_ids: Sequence[str], snp_ids: Sequence[str], *,
                family_ids: Sequence[str] | None = None, chromosome: Sequence[str] | None = None,
                positions: Sequence[int] | None = None,
                alleles: tuple[Sequence[str], Sequence[str]] | None = None,
                parents: tuple[Sequence[str], Sequence[str]] | None = None) -> Path:
    """Write dosages (n, p) of allele 1 (0/1/2, NaN for missing) as ``prefix.bed/.bim/.fam``.

    Defaults: each subject its own family, chromosome 1, positions 1000, 2000, …, alleles A/G, no
    parents (``parents`` = (father ids, mother ids), "0" for none). Returns the ``.bed`` path.
    """
    try:
        from bed_reader import to_bed
    except ImportError:
        raise ImportError("writing PLINK files needs bed-reader: pip install 'jaxgen[io]'") from None
    X = np.asarray(dosages, dtype=np.float32)
    n, p = X.shape
    if len(subject_ids) != n or len(snp_ids) != p:
        raise ValueError(f"dosages are {n} x {p} but {len(subject_ids)} subject ids and {len(snp_ids)} SNP ids were given")
    bed = plink_prefix(prefix).with_suffix(".bed")
    allele_1, allele_2 = alleles or (["A"] * p, ["G"] * p)
    properties = {"fid": list(family_ids or subject_ids), "iid": list(subject_ids), "sid": list(snp_ids),
                  "chromosome": list(chromosome or ["1"] * p),
                  "bp_position": list(positions if positions is not None else 1000 * np.arange(1, p + 1)),
                  "allele_1": list(allele_1), "allele_2": list(allele_2)}
    if parents is not None:
        properties["father"], properties["mother"] = list(parents[0]), list(parents[1])
    to_bed(bed, X, properties=properties)
    return bed
