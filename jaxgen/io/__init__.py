"""Reading a user's files: genotypes (PLINK 1 and 2, BGEN), QT and covariate tables, graphs, gene files;
aligned studies; atomic outputs.

Every reader raises :class:`InputError` (a ValueError) naming the file and the problem, and logs
what it read and dropped into a :class:`ReadLog`.
"""

from jaxgen.io.align import align_subjects
from jaxgen.io.bgen import BgenFileset, write_bgen
from jaxgen.io.errors import InputError
from jaxgen.io.genotype_files import GenotypeFiles
from jaxgen.io.genotype_source import GenotypeSource
from jaxgen.io.genes import GeneFile, gene_sets, read_gene_file
from jaxgen.io.graphs import read_adjacency, read_kinship
from jaxgen.io.log import ReadLog
from jaxgen.io.output import atomic_output_dir, check_output_dir
from jaxgen.io.pgen import PgenFileset, write_pgen
from jaxgen.io.plink import Genotypes, PlinkFileset, read_plink, write_plink
from jaxgen.io.study import CCAStudy, LMMStudy, ScanStudy, load_cca_study, load_lmm_study, load_scan_study
from jaxgen.io.tables import read_covariates, read_qt_table, read_table

__all__ = ["BgenFileset", "CCAStudy", "GeneFile", "GenotypeFiles", "GenotypeSource", "Genotypes", "InputError",
           "LMMStudy", "PgenFileset", "PlinkFileset", "ReadLog", "ScanStudy", "align_subjects", "atomic_output_dir",
           "check_output_dir", "gene_sets", "load_cca_study", "load_lmm_study", "load_scan_study", "read_adjacency",
           "read_covariates", "read_gene_file", "read_kinship", "read_plink", "read_qt_table", "read_table",
           "write_bgen", "write_pgen", "write_plink"]
