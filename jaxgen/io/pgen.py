"""PLINK 2 genotypes (.pgen/.pvar/.psam) through pgenlib (PLINK 2's own reader): read with QC, and write.

Allele 1, the one counted, is the .pvar's ALT allele and allele 2 its REF: the orientation
``plink2 --bfile X --make-pgen`` gives a PLINK 1 fileset's A1 and A2, so the dosages equal
:func:`jaxgen.io.read_plink`'s on converted files. Dosages are pgenlib's: fractional where the
.pgen stores dosages (imputed data), hard calls otherwise; missing calls are NaN and go through the
shared QC (:mod:`jaxgen.io.genotype_source`). Multi-allelic variants (an ALT with commas) are left
out and logged (``plink2 --max-alleles 2`` keeps the biallelic ones).
Founders are the .psam subjects whose PAT and MAT are both ``0`` (everyone when the columns are absent).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from jaxgen.io.errors import InputError
from jaxgen.io.genotype_source import GenotypeSource, Selection, fileset_prefix, require_files
from jaxgen.io.log import ReadLog

__all__ = ["PgenFileset", "pgen_files", "write_pgen"]

_SUFFIXES = (".pgen", ".pvar", ".psam")
_MISSING = -9.0  # pgenlib's code for a missing dosage


def pgen_files(prefix: str | Path) -> list[Path]:
    """The .pgen, .pvar and .psam of a fileset prefix (``data/geno`` or ``data/geno.pgen``)."""
    prefix = fileset_prefix(prefix, _SUFFIXES)
    return [prefix.with_suffix(s) for s in _SUFFIXES]


@dataclass(frozen=True)
class PgenFileset(GenotypeSource):
    """A checked PLINK 2 fileset (a :class:`GenotypeSource`: ``path`` the .pgen, ``variants`` the .pvar)."""

    @classmethod
    def open(cls, prefix: str | Path, *, maf_min: float = 0.01, snps: Sequence[str] | None = None,
             chromosome: str | None = None, start: int | None = None, end: int | None = None,
             nonfounders: bool = False, log: ReadLog | None = None) -> PgenFileset:
        """Check the three files against each other and select SNPs, reading no genotype (the arguments of
        :func:`jaxgen.io.read_plink`)."""
        log = log or ReadLog()
        selection = Selection(maf_min, snps, chromosome, start, end, nonfounders)
        pgen, pvar, psam = pgen_files(prefix)
        require_files([pgen, pvar, psam], pgen, "PLINK 2 fileset")
        table, biallelic = _read_pvar(pvar)
        family_ids, subject_ids, founders = _read_psam(psam)
        with _open_pgen(pgen, len(subject_ids), len(table)):
            pass  # pgenlib checks the header against the .psam's subject and the .pvar's variant counts
        return cls.checked(path=pgen, variants=pvar, samples=psam, table=table, subject_ids=subject_ids,
                           family_ids=family_ids, founders=founders, selection=selection, log=log,
                           readable=biallelic, unreadable_why="multi-allelic")

    def raw_dosages(self, snp_indices: np.ndarray) -> np.ndarray:
        snp_indices = np.asarray(snp_indices, dtype=np.uint32)
        dosages = np.empty((len(snp_indices), len(self.subject_ids)), dtype=np.float64)
        with _open_pgen(self.path, len(self.subject_ids), len(self.table)) as reader:
            try:
                reader.read_dosages_list(snp_indices, dosages)
            except Exception as err:  # pgenlib raises RuntimeError on a damaged record
                raise InputError(self.path, f"not a readable .pgen ({type(err).__name__}: {err})") from None
        dosages[dosages == _MISSING] = np.nan
        return dosages.T


class _open_pgen:
    """pgenlib's reader of ``pgen`` as a context manager, its format errors as InputError."""

    def __init__(self, pgen: Path, subjects: int, variants: int):
        try:
            import pgenlib
        except ImportError:
            raise ImportError("reading PLINK 2 files needs pgenlib: pip install 'jaxgen[io]'") from None
        try:
            self.reader = pgenlib.PgenReader(str(pgen).encode(), raw_sample_ct=subjects, variant_ct=variants)
        except Exception as err:  # pgenlib raises RuntimeError with its own message
            raise InputError(pgen, f"not a readable .pgen for the {subjects} subjects of the .psam and {variants} "
                             f"variants of the .pvar ({type(err).__name__}: {err})") from None

    def __enter__(self):
        return self.reader

    def __exit__(self, *exc):
        self.reader.close()


def _read_pvar(pvar: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The SNP table of a .pvar (a header line ``#CHROM POS ID REF ALT ...`` after ``##`` lines, or the
    headerless .bim layout) and (p,) bool, the biallelic variants."""
    header, skip = None, 0
    with pvar.open("rb") as handle:
        for line in handle:
            if line.startswith(b"##"):
                skip += 1
                continue
            if line.startswith(b"#"):
                header, skip = line[1:].decode().split(), skip + 1
            break
    names = header or ["CHROM", "ID", "CM", "POS", "ALT", "REF"]  # a .bim: A1 (ALT) before A2 (REF)
    try:
        frame = pd.read_csv(pvar, sep=r"\s+", skiprows=skip, header=None, names=names, dtype=str,
                            keep_default_na=False, comment=None)
        missing = [c for c in ("CHROM", "POS", "ID", "REF", "ALT") if c not in frame.columns]
        if missing:
            raise ValueError(f"no column {', '.join(missing)} in the header")
        position = pd.to_numeric(frame["POS"], errors="raise").astype(np.int64)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(pvar, f"not a readable .pvar ({err})") from None
    table = pd.DataFrame({"snp": frame["ID"].to_numpy(), "chromosome": frame["CHROM"].to_numpy(),
                          "position": position.to_numpy(), "allele_1": frame["ALT"].to_numpy(),
                          "allele_2": frame["REF"].to_numpy()})
    return table, ~table["allele_1"].str.contains(",").to_numpy()


def _read_psam(psam: Path) -> tuple[list[str], list[str], np.ndarray]:
    """Family ids, subject ids and (n,) bool founders of a .psam (header ``#FID IID ...`` or ``#IID ...``,
    or the headerless .fam layout); the FID is the IID when the file has none."""
    with psam.open("rb") as handle:
        first = handle.readline()
    header = first.startswith(b"#")
    try:
        frame = pd.read_csv(psam, sep=r"\s+", dtype=str, keep_default_na=False, header=0 if header else None,
                            names=None if header else ["FID", "IID", "PAT", "MAT", "SEX", "PHENO"])
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(psam, f"not a readable .psam ({err})") from None
    frame.columns = [str(c).lstrip("#").upper() for c in frame.columns]
    if "IID" not in frame.columns:
        raise InputError(psam, f"has no IID column (its header is {' '.join(frame.columns)})")
    subject_ids = frame["IID"].tolist()
    family_ids = frame["FID"].tolist() if "FID" in frame.columns else list(subject_ids)
    founders = np.ones(len(frame), bool)
    for parent in ("PAT", "MAT"):
        if parent in frame.columns:
            founders &= frame[parent].isin(["0", "NA", "."]).to_numpy()
    return family_ids, subject_ids, founders


def write_pgen(prefix: str | Path, dosages, subject_ids: Sequence[str], snp_ids: Sequence[str], *,
               chromosome: Sequence[str] | None = None, positions: Sequence[int] | None = None,
               alleles: tuple[Sequence[str], Sequence[str]] | None = None,
               parents: tuple[Sequence[str], Sequence[str]] | None = None) -> Path:
    """Write dosages (n, p) of allele 1 (in [0, 2], NaN for missing; fractional ones are stored as dosages)
    as ``prefix.pgen/.pvar/.psam``, allele 1 the ALT. Defaults as :func:`jaxgen.io.write_plink`'s. Returns the
    ``.pgen`` path."""
    import pgenlib

    X = np.asarray(dosages, dtype=np.float32)
    n, p = X.shape
    if len(subject_ids) != n or len(snp_ids) != p:
        raise ValueError(f"dosages are {n} x {p} but {len(subject_ids)} subject ids and {len(snp_ids)} SNP ids were given")
    pgen, pvar, psam = pgen_files(prefix)
    allele_1, allele_2 = alleles or (["A"] * p, ["G"] * p)
    pd.DataFrame({"#CHROM": list(chromosome or ["1"] * p),
                  "POS": list(positions if positions is not None else 1000 * np.arange(1, p + 1)),
                  "ID": list(snp_ids), "REF": list(allele_2), "ALT": list(allele_1)}).to_csv(pvar, sep="\t", index=False)
    father, mother = parents or (["0"] * n, ["0"] * n)
    pd.DataFrame({"#IID": list(subject_ids), "PAT": list(father), "MAT": list(mother)}).to_csv(psam, sep="\t",
                                                                                               index=False)
    writer = pgenlib.PgenWriter(str(pgen).encode(), n, variant_ct=p, nonref_flags=False, dosage_present=True)
    for column in X.T:
        writer.append_dosages(np.ascontiguousarray(np.where(np.isnan(column), _MISSING, column), dtype=np.float32))
    writer.close()
    return pgen
