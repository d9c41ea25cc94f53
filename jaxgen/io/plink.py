"""PLINK binary genotypes (.bed/.bim/.fam) through bed-reader: read with QC, and write.

Dosages count allele 1 (PLINK's A1, the .bim's fifth column) per subject: 0, 1 or 2. Reading
(:class:`jaxgen.io.genotype_source.GenotypeSource`, shared with the PLINK 2 and BGEN readers) imputes
missing calls by the SNP's mean dosage, drops monomorphic SNPs and SNPs under a minor-allele-frequency
threshold, and logs every count.

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

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from jaxgen.io.errors import InputError
from jaxgen.io.genotype_source import (GenotypeSource, Genotypes, QCCounts, Selection, as_slice, fileset_prefix,
                                       require_files)
from jaxgen.io.log import ReadLog

__all__ = ["Genotypes", "PlinkFileset", "QCCounts", "read_plink", "write_plink"]

_SUFFIXES = (".bed", ".bim", ".fam")


def plink_prefix(path: str | Path) -> Path:
    """The fileset prefix: ``data/geno`` for ``data/geno``, ``data/geno.bed`` or ``data/geno.bim``."""
    return fileset_prefix(path, _SUFFIXES)


def plink_files(prefix: str | Path) -> list[Path]:
    """The .bed, .bim and .fam of a fileset prefix."""
    prefix = plink_prefix(prefix)
    return [prefix.with_suffix(s) for s in _SUFFIXES]


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
    return PlinkFileset.open(prefix, maf_min=maf_min, snps=snps, chromosome=chromosome, start=start, end=end,
                             nonfounders=nonfounders, log=log).read(log)


@dataclass(frozen=True)
class PlinkFileset(GenotypeSource):
    """A checked PLINK 1 fileset (a :class:`GenotypeSource`: ``path`` the .bed, ``variants`` the .bim)."""

    @classmethod
    def open(cls, prefix: str | Path, *, maf_min: float = 0.01, snps: Sequence[str] | None = None,
             chromosome: str | None = None, start: int | None = None, end: int | None = None,
             nonfounders: bool = False, log: ReadLog | None = None) -> PlinkFileset:
        """Check the layout and the ids and select SNPs, reading no genotype (arguments of :func:`read_plink`)."""
        log = log or ReadLog()
        selection = Selection(maf_min, snps, chromosome, start, end, nonfounders)
        bed, bim, fam = plink_files(prefix)
        require_files([bed, bim, fam], bed, "PLINK fileset")
        _check_layout(plink_prefix(prefix))
        try:
            with _open_bed(bed) as reader:
                table = _snp_table(reader)
                subject_ids = [str(s) for s in reader.iid]
                family_ids = [str(s) for s in reader.fid]
                founders = ((np.asarray(reader.father, dtype=str) == "0")
                            & (np.asarray(reader.mother, dtype=str) == "0"))
        except Exception as err:  # bed-reader reports format problems with many exception types
            _refuse_malformed_lines(bim, _BIM_FIELDS)
            _refuse_malformed_lines(fam, _FAM_FIELDS)
            raise InputError(bed, f"not a readable PLINK fileset ({type(err).__name__}: {err})") from None
        return cls.checked(path=bed, variants=bim, samples=fam, table=table, subject_ids=subject_ids,
                           family_ids=family_ids, founders=founders, selection=selection, log=log)

    def raw_dosages(self, snp_indices: np.ndarray) -> np.ndarray:
        try:
            with _open_bed(self.path, iid_count=len(self.subject_ids), sid_count=len(self.table)) as reader:
                return reader.read(index=np.s_[:, as_slice(np.asarray(snp_indices))], dtype="float64")
        except Exception as err:  # bed-reader reports format problems with many exception types
            raise InputError(self.path, f"not a readable PLINK fileset ({type(err).__name__}: {err})") from None


_MAGIC = b"\x6c\x1b"
# The columns of a .bim and a .fam line: (name, type or None for text).
_BIM_FIELDS = (("chromosome", None), ("SNP id", None), ("position in cM", float), ("base-pair position", int),
               ("allele 1", None), ("allele 2", None))
_FAM_FIELDS = (("family id", None), ("subject id", None), ("father", None), ("mother", None), ("sex", None),
               ("phenotype", None))


def _refuse_malformed_lines(path: Path, fields) -> None:
    """InputError naming the first line of a .bim or .fam (white-space separated ``fields``) with the
    wrong number of fields or a field that is not of its type; nothing when every line is well formed.
    Run after a reader failed, to say where."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            values = line.split()
            if not values:
                continue
            if len(values) != len(fields):
                raise InputError(path, f"line {number} has {len(values)} fields, a {path.suffix} line has "
                                 f"{len(fields)}: {', '.join(name for name, _ in fields)}")
            for value, (name, kind) in zip(values, fields):
                try:
                    if kind is not None:
                        kind(value)
                except ValueError:
                    raise InputError(path, f"line {number}: the {name} {value!r} is not "
                                     f"{'an integer' if kind is int else 'a number'}") from None


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


def _open_bed(bed: Path, **counts):
    """bed-reader's reader of ``bed``; ``counts`` (iid_count, sid_count), when known, spare it counting the lines
    of the .fam and .bim at every read (0.5 s per 100 blocks of a 100 000-SNP .bim)."""
    try:
        from bed_reader import open_bed
    except ImportError:
        raise ImportError("reading PLINK files needs bed-reader: pip install 'jaxgen[io]'") from None
    return open_bed(bed, **counts)


def _snp_table(reader) -> pd.DataFrame:
    return pd.DataFrame({"snp": [str(s) for s in reader.sid], "chromosome": [str(c) for c in reader.chromosome],
                         "position": np.asarray(reader.bp_position, dtype=np.int64),
                         "allele_1": reader.allele_1, "allele_2": reader.allele_2})


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
