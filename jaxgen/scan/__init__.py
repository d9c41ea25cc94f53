"""Genome-wide scan: the null model's SNP tests streamed over a PLINK genome, LOCO kinship, clumping.

:func:`clump` groups the hits into loci as PLINK's ``--clump`` does; :func:`sumstats_table` writes the
PLINK 2 / REGENIE-style columns and :func:`genomic_control` gives λ_GC.

:func:`finemap` fits the joint Bayesian LMM on each locus (:mod:`jaxgen.scan.finemap`).

:func:`scan` tests every SNP (:mod:`jaxgen.scan.stream`); :class:`ChromosomeRelationships` builds the GRM
and its leave-one-chromosome-out versions block by block (:mod:`jaxgen.scan.kinship`), and warns
(:class:`SparseKinshipWarning`) when they come from too few SNPs for the relatedness they show.
"""

from jaxgen.scan.clump import clump, fileset_dosages
from jaxgen.scan.finemap import FineMap, finemap, locus_snps
from jaxgen.scan.kinship import ChromosomeRelationships, SparseKinshipWarning
from jaxgen.scan.stream import ScanResult, scan, subject_rows
from jaxgen.scan.sumstats import genomic_control, sumstats_table

__all__ = ["ChromosomeRelationships", "FineMap", "ScanResult", "clump", "fileset_dosages", "finemap", "genomic_control",
           "locus_snps", "scan", "SparseKinshipWarning", "subject_rows", "sumstats_table"]
