"""Simulators with ground truth, and the preprocessing shared by every method."""

from jaxgen.data.genotypes import LDGenotypeModel
from jaxgen.data.multitask_cca import MultitaskCCAData, MultitaskCCATruth, simulate_multitask_cca
from jaxgen.data.spatial_lmm import SpatialLMMData, SpatialLMMTruth, simulate_spatial_lmm
from jaxgen.data.standardize import standardize_columns

__all__ = [
    "LDGenotypeModel",
    "MultitaskCCAData",
    "MultitaskCCATruth",
    "SpatialLMMData",
    "SpatialLMMTruth",
    "simulate_multitask_cca",
    "simulate_spatial_lmm",
    "standardize_columns",
]
