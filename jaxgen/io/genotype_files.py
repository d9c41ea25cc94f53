"""Which genotype files a study reads: a PLINK 1 fileset, a PLINK 2 fileset or a BGEN file, opened by one call.

:class:`GenotypeFiles` names the files (``--bfile``, ``--pfile`` or ``--bgen``/``--sample`` on the
command line) and opens the matching :class:`jaxgen.io.genotype_source.GenotypeSource`
(:class:`PlinkFileset`, :class:`PgenFileset`, :class:`BgenFileset`), which all select, QC and stream
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jaxgen.io.bgen import BgenFileset, bgen_files
from jaxgen.io.genotype_source import GenotypeSource, Genotypes, require_files
from jaxgen.io.log import ReadLog
from jaxgen.io.pgen import PgenFileset, pgen_files
from jaxgen.io.plink import PlinkFileset, plink_files

__all__ = ["FORMATS", "GenotypeFiles"]

FORMATS = ("bfile", "pfile", "bgen")


@dataclass(frozen=True)
class GenotypeFiles:
    """The genotype input: ``format`` one of :data:`FORMATS` (PLINK 1 prefix, PLINK 2 prefix, BGEN file),
    ``path`` its prefix or file, ``sample`` the BGEN's .sample (None: the .bgen's path with suffix .sample)."""

    format: str
    path: Path
    sample: Path | None = None

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ValueError(f"genotype format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.sample is not None and self.format != "bgen":
            raise ValueError("a .sample file goes with a BGEN input only")

    @classmethod
    def given(cls, genotypes: GenotypeFiles | str | Path) -> GenotypeFiles:
        """``genotypes`` itself, or a PLINK 1 prefix given as a path."""
        return genotypes if isinstance(genotypes, GenotypeFiles) else cls("bfile", Path(genotypes))

    def files(self) -> list[Path]:
        """Every file read, the genotype file first."""
        if self.format == "bfile":
            return plink_files(self.path)
        if self.format == "pfile":
            return pgen_files(self.path)
        return list(bgen_files(self.path, self.sample))

    @property
    def main_file(self) -> Path:
        """The genotype file (.bed, .pgen or .bgen), named in messages."""
        return self.files()[0]

    def check_exist(self) -> None:
        """InputError naming the files that are missing."""
        what = {"bfile": "PLINK fileset", "pfile": "PLINK 2 fileset", "bgen": "BGEN input"}[self.format]
        require_files(self.files(), self.main_file, what)

    def open(self, *, log: ReadLog | None = None, **selection) -> GenotypeSource:
        """The opened source; ``selection``: the keywords of :func:`jaxgen.io.read_plink` (maf_min, snps,
        chromosome, start, end, nonfounders)."""
        if self.format == "bfile":
            return PlinkFileset.open(self.path, log=log, **selection)
        if self.format == "pfile":
            return PgenFileset.open(self.path, log=log, **selection)
        return BgenFileset.open(self.path, self.sample, log=log, **selection)

    def read(self, *, log: ReadLog | None = None, **selection) -> Genotypes:
        """The selected SNPs after QC (:meth:`GenotypeSource.read`); keywords as :meth:`open`."""
        log = log or ReadLog()
        return self.open(log=log, **selection).read(log)
