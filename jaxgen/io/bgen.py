"""BGEN genotypes (.bgen + Oxford .sample, UK Biobank's format) with expected dosages: read with QC, and write.

The reader is the ``bgen`` package (Jeremy McRae's, on PyPI): binary wheels for current CPythons
(3.13 included), regular releases, BGEN 1.1-1.3 (zlib or zstd, any bit depth, phased or not)
decoded in C++ straight into NumPy, no dependency but NumPy, and a writer, which the tests use. It
decodes 1.4-2× faster than ``bgen-limix`` (benchmarks/bench_genotype_readers.py), whose module
``cbgen`` needs an index file per BGEN and bundles S3/HTTP libraries; ``cbgen``/``bgen-reader`` on
PyPI ship no wheel for Python 3.13.

Allele 1, the one counted, is the first allele of each variant, and the dosage is its expected count
2·P(11) + P(12) (for phased data, the sum of its haplotype probabilities): PLINK's reading of a
BGEN (``plink2 --bgen``'s default ``ref-last``) and what ``plink2 --export bgen-1.2`` writes for a
fileset's A1, so dosages equal :func:`jaxgen.io.read_plink`'s on converted files up to the
quantization of the stored probabilities (1/(2^bits − 1) each). A missing sample's dosage is NaN and
goes through the shared QC (:mod:`jaxgen.io.genotype_source`). Subjects are the .sample's ``ID_2``
(IID) with ``ID_1`` as FID; founders are those whose ``father`` and ``mother`` columns are ``0``
(everyone when the .sample has no such columns, as ``plink2 --export`` writes it). SNP ids are the
rsids (the variant ids where the rsid is empty); a numeric chromosome loses its leading zeros (UK
Biobank's ``01`` is ``1``) so that ``--chromosome 1`` selects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from jaxgen.io.errors import InputError
from jaxgen.io.genotype_source import GenotypeSource, Selection, require_files
from jaxgen.io.log import ReadLog

__all__ = ["BgenFileset", "bgen_files", "write_bgen"]


def bgen_files(bgen: str | Path, sample: str | Path | None = None) -> tuple[Path, Path]:
    """The .bgen and its .sample (default: the .bgen's path with the suffix .sample)."""
    bgen = Path(bgen)
    return bgen, Path(sample) if sample is not None else bgen.with_suffix(".sample")


@dataclass(frozen=True)
class BgenFileset(GenotypeSource):
    """A checked BGEN file and its .sample (a :class:`GenotypeSource`: ``path`` and ``variants`` the .bgen).

    sample : the .sample path (the reader needs it again for each read).
    """

    sample: Path

    @classmethod
    def open(cls, bgen: str | Path, sample: str | Path | None = None, *, maf_min: float = 0.01,
             snps: Sequence[str] | None = None, chromosome: str | None = None, start: int | None = None,
             end: int | None = None, nonfounders: bool = False, log: ReadLog | None = None) -> BgenFileset:
        """Read the variant headers and the .sample, check them against each other and select SNPs, reading
        no genotype (the selection keywords of :func:`jaxgen.io.read_plink`)."""
        log = log or ReadLog()
        selection = Selection(maf_min, snps, chromosome, start, end, nonfounders)
        bgen, sample = bgen_files(bgen, sample)
        require_files([bgen, sample], bgen, "BGEN input")
        family_ids, subject_ids, founders = _read_sample(sample)
        with _open_bgen(bgen, len(subject_ids), sample) as reader:
            try:
                variants = list(reader)
                table = pd.DataFrame({"snp": [v.rsid or v.varid for v in variants],
                                      "chromosome": [_chromosome(v.chrom) for v in variants],
                                      "position": np.array([v.pos for v in variants], dtype=np.int64),
                                      "allele_1": [v.alleles[0] for v in variants],
                                      "allele_2": [v.alleles[-1] for v in variants]})
                biallelic = np.array([len(v.alleles) == 2 for v in variants], dtype=bool)
            except Exception as err:  # the C++ parser raises RuntimeError/ValueError on a damaged header
                raise InputError(bgen, f"not a readable BGEN file ({type(err).__name__}: {err})") from None
        return cls.checked(path=bgen, variants=bgen, samples=sample, table=table, subject_ids=subject_ids,
                           family_ids=family_ids, founders=founders, selection=selection, log=log,
                           readable=biallelic, unreadable_why="not biallelic", sample=sample)

    def raw_dosages(self, snp_indices: np.ndarray) -> np.ndarray:
        dosages = np.empty((len(snp_indices), len(self.subject_ids)), dtype=np.float64)  # a row per variant
        with _open_bgen(self.path, len(self.subject_ids), self.sample) as reader:
            for column, index in enumerate(np.asarray(snp_indices)):
                variant = reader[int(index)]
                try:
                    probabilities = variant.probabilities
                    phased = probabilities.shape[1] == 4 and variant.is_phased  # else unphased, 3 for diploids
                except Exception as err:  # a damaged or truncated genotype block
                    raise InputError(self.path, f"variant {self.table['snp'].iloc[index]} is not readable "
                                     f"({type(err).__name__}: {err})") from None
                dosages[column] = self._first_allele_dosage(probabilities, phased, index)
        return dosages.T

    def _first_allele_dosage(self, probabilities: np.ndarray, phased: bool, index: int) -> np.ndarray:
        """Expected count (n,) of the first allele from a biallelic diploid variant's probabilities (n, 3)
        (unphased: P(11), P(12), P(22)) or (n, 4) (phased: per haplotype P(1), P(2)); a missing sample's row is
        NaN. A sample of lower ploidy has its last entries NaN, not its first (the reader pads its row), and
        other widths mean other ploidies: InputError, as only diploid genotypes are read."""
        if (probabilities.shape[1] != (4 if phased else 3)
                or np.any(np.isnan(probabilities[:, 0]) != np.isnan(probabilities[:, -1]))):
            raise InputError(self.path, f"variant {self.table['snp'].iloc[index]} is not diploid in every sample; "
                             "only diploid genotypes are read")
        if phased:
            return probabilities[:, 0].astype(np.float64) + probabilities[:, 2]
        return 2.0 * probabilities[:, 0].astype(np.float64) + probabilities[:, 1]


def _chromosome(code: str) -> str:
    """``01`` → ``1``; other codes as they are."""
    return (code.lstrip("0") or "0") if code.isdigit() else code


class _open_bgen:
    """The ``bgen`` package's reader as a context manager; InputError when the file is not a BGEN or holds
    another number of samples than the .sample."""

    def __init__(self, bgen: Path, subjects: int, sample: Path):
        try:
            from bgen import BgenReader
        except ImportError:
            raise ImportError("reading BGEN files needs the bgen package: pip install 'jaxgen[io]'") from None
        try:
            self.reader = BgenReader(str(bgen), delay_parsing=True)
        except Exception as err:  # the C++ parser raises ValueError/RuntimeError with its own message
            raise InputError(bgen, f"not a readable BGEN file ({type(err).__name__}: {err})") from None
        held = self.reader.header.nsamples
        if held != subjects:
            self.reader.close()
            raise InputError(bgen, f"holds {held} samples but {sample} lists {subjects}: the .sample belongs to "
                             "another file")

    def __enter__(self):
        return self.reader

    def __exit__(self, *exc):
        self.reader.close()


def _read_sample(sample: Path) -> tuple[list[str], list[str], np.ndarray]:
    """Family ids (ID_1), subject ids (ID_2) and (n,) bool founders of an Oxford .sample (a header line, a
    line of column types starting ``0 0 0``, then one line per sample)."""
    try:
        frame = pd.read_csv(sample, sep=r"\s+", dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(sample, f"not a readable .sample file ({err})") from None
    columns = [str(c).lower() for c in frame.columns]
    if columns[:2] != ["id_1", "id_2"] or frame.empty or list(frame.iloc[0, :2]) != ["0", "0"]:
        raise InputError(sample, "not an Oxford .sample file: it must start with a header 'ID_1 ID_2 missing ...' "
                         "and a line of column types '0 0 0 ...'")
    frame.columns = columns
    frame = frame.iloc[1:]
    founders = np.ones(len(frame), bool)
    for parent in ("father", "mother"):
        if parent in frame.columns:
            founders &= frame[parent].isin(["0", "NA"]).to_numpy()
    return frame["id_1"].tolist(), frame["id_2"].tolist(), founders


def write_bgen(path: str | Path, dosages, subject_ids: Sequence[str], snp_ids: Sequence[str], *,
               chromosome: Sequence[str] | None = None, positions: Sequence[int] | None = None,
               alleles: tuple[Sequence[str], Sequence[str]] | None = None, bits: int = 8,
               parents: tuple[Sequence[str], Sequence[str]] | None = None) -> Path:
    """Write dosages (n, p) of allele 1 (in [0, 2], NaN for missing) as an unphased BGEN 1.2 file of ``bits``
    bits per probability and its .sample (FID = IID). A dosage d is stored as the probabilities of the
    genotype pair around it (d = 1.3: P(12) = 0.7, P(11) = 0.3), so that it reads back as d within the
    quantization. Defaults as :func:`jaxgen.io.write_plink`'s. Returns the ``.bgen`` path."""
    from bgen import BgenWriter

    X = np.asarray(dosages, dtype=np.float64)
    n, p = X.shape
    if len(subject_ids) != n or len(snp_ids) != p:
        raise ValueError(f"dosages are {n} x {p} but {len(subject_ids)} subject ids and {len(snp_ids)} SNP ids were given")
    bgen, sample = bgen_files(path)
    allele_1, allele_2 = alleles or (["A"] * p, ["G"] * p)
    chromosome = list(chromosome or ["1"] * p)
    positions = list(positions if positions is not None else 1000 * np.arange(1, p + 1))
    father, mother = parents or (["0"] * n, ["0"] * n)
    lines = ["ID_1 ID_2 missing father mother", "0 0 0 D D"]
    lines += [f"{s} {s} 0 {f} {m}" for s, f, m in zip(subject_ids, father, mother)]
    sample.write_text("\n".join(lines) + "\n")
    with BgenWriter(str(bgen), n, samples=list(subject_ids), compression="zstd") as writer:
        for j in range(p):
            writer.add_variant(varid=snp_ids[j], rsid=snp_ids[j], chrom=str(chromosome[j]), pos=int(positions[j]),
                               alleles=[allele_1[j], allele_2[j]], genotypes=_probabilities(X[:, j]), bit_depth=bits)
    return bgen


def _probabilities(dosage: np.ndarray) -> np.ndarray:
    """(n, 3) probabilities P(11), P(12), P(22) with expected first-allele count ``dosage`` (n,), mass on the
    two genotypes around it; NaN rows for missing."""
    d = np.clip(dosage, 0.0, 2.0)
    high = np.clip(d - 1.0, 0.0, 1.0)              # P(11) above dosage 1
    low = np.clip(1.0 - d, 0.0, 1.0)               # P(22) below dosage 1
    return np.column_stack([high, 1.0 - high - low, low])
