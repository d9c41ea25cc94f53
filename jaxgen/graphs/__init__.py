"""Graphs over brain regions and SNPs: adjacency builders and checks, CAR precisions, Laplacians."""

from jaxgen.graphs.adjacency import contiguous_regions, lattice_adjacency, ring_adjacency, validate_adjacency
from jaxgen.graphs.car import CARSpectrum, car_correlated_columns, car_precision
from jaxgen.graphs.laplacian import laplacian

__all__ = [
    "CARSpectrum",
    "car_correlated_columns",
    "car_precision",
    "contiguous_regions",
    "lattice_adjacency",
    "laplacian",
    "ring_adjacency",
    "validate_adjacency",
]
