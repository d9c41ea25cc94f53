"""Spatial-correlated multitask linear mixed model: NumPyro model, Gibbs kernel, fitting and tests."""

from jaxgen.lmm.data import LMMData, prepare_data
from jaxgen.lmm.gibbs import SpatialGibbs, gibbs_sweep
from jaxgen.lmm.model import MatrixNormalCAR, spatial_lmm_model
from jaxgen.lmm.priors import Priors

__all__ = ["LMMData", "MatrixNormalCAR", "Priors", "SpatialGibbs", "gibbs_sweep", "prepare_data",
           "spatial_lmm_model"]
