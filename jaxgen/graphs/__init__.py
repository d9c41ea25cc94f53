"""Graphs over brain regions, SNPs and subjects: adjacency builders and checks, CAR precisions, Laplacians,
SNP groups, kinship."""

from jaxgen.graphs.adjacency import contiguous_regions, lattice_adjacency, ring_adjacency, validate_adjacency
from jaxgen.graphs.car import CARSpectrum, car_precision
from jaxgen.graphs.kinship import genomic_relationship, kinship_eigen, relationship_from_sums, relationship_sums
from jaxgen.graphs.laplacian import (adjacency_laplacian, column_correlation, correlation_laplacian, laplacian,
                                     ld_laplacian)
from jaxgen.graphs.snp_groups import group_labels, ld_blocks, snps_in_ranges

__all__ = [
    "CARSpectrum",
    "adjacency_laplacian",
    "car_precision",
    "column_correlation",
    "contiguous_regions",
    "correlation_laplacian",
    "genomic_relationship",
    "group_labels",
    "kinship_eigen",
    "lattice_adjacency",
    "laplacian",
    "ld_blocks",
    "ld_laplacian",
    "relationship_from_sums",
    "relationship_sums",
    "ring_adjacency",
    "snps_in_ranges",
    "validate_adjacency",
]
