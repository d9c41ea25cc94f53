"""Genome-wide scan: the null model's SNP tests streamed over a PLINK genome, LOCO kinship, clumping.

:func:`scan` tests every SNP (:mod:`jaxgen.scan.stream`); :class:`ChromosomeRelationships` builds the GRM
and its leave-one-chromosome-out versions block by block (:mod:`jaxgen.scan.kinship`).
"""

from jaxgen.scan.kinship import ChromosomeRelationships
from jaxgen.scan.stream import ScanResult, scan

__all__ = ["ChromosomeRelationships", "ScanResult", "scan"]
