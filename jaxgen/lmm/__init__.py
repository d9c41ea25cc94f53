"""Spatial-correlated multitask linear mixed model: NumPyro model, Gibbs kernel, fitting and tests."""

from jaxgen.lmm.data import LMMData, prepare_data
from jaxgen.lmm.fit import fit
from jaxgen.lmm.gibbs import SpatialGibbs, gibbs_sweep
from jaxgen.lmm.model import MatrixNormalCAR, spatial_lmm_model
from jaxgen.lmm.priors import Priors
from jaxgen.lmm.result import ConvergenceGateWarning, LMMResult

__all__ = ["ConvergenceGateWarning", "LMMData", "LMMResult", "MatrixNormalCAR", "Priors", "SpatialGibbs",
           "fit", "gibbs_sweep", "prepare_data", "spatial_lmm_model"]
