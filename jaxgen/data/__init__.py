"""Simulators with ground truth, and the preprocessing shared by every method."""

from jaxgen.data.genotypes import LDGenotypeModel
from jaxgen.data.multitask_cca import MultitaskCCAData, MultitaskCCATruth, simulate_multitask_cca
from jaxgen.data.spatial_lmm import SpatialLMMData, SpatialLMMTruth, simulate_spatial_lmm
from jaxgen.data.standardize import standardize_columns, unit_scale_covariates
from jaxgen.data.study import SimulatedStudy, simulate_study

__all__ = [
    "LDGenotypeModel",
    "MultitaskCCAData",
    "MultitaskCCATruth",
    "SimulatedStudy",
    "SpatialLMMData",
    "SpatialLMMTruth",
    "simulate_multitask_cca",
    "simulate_spatial_lmm",
    "simulate_study",
    "standardize_columns",
    "unit_scale_covariates",
]
