"""Spatial-correlated multitask linear mixed model: NumPyro model, Gibbs kernel, fitting and tests."""

from jaxgen.lmm.compare import MODELS, compare_models, refit_as
from jaxgen.lmm.data import LMMData, prepare_data, without_kinship
from jaxgen.lmm.fit import fit
from jaxgen.lmm.gibbs import SpatialGibbs, gibbs_sweep
from jaxgen.lmm.likelihood import pointwise_log_likelihood, waic
from jaxgen.lmm.model import MatrixNormalCAR, spatial_lmm_model
from jaxgen.lmm.null import NullModel, fit_null_model
from jaxgen.lmm.priors import Priors
from jaxgen.lmm.result import SNP_TESTS, ConvergenceGateWarning, LMMResult
from jaxgen.lmm.scores import ScoreTests, score_tests

__all__ = ["MODELS", "SNP_TESTS", "ConvergenceGateWarning", "LMMData", "LMMResult", "MatrixNormalCAR", "NullModel",
           "Priors", "ScoreTests", "SpatialGibbs", "compare_models", "fit", "fit_null_model", "gibbs_sweep",
           "pointwise_log_likelihood", "prepare_data", "refit_as", "score_tests", "spatial_lmm_model", "waic",
           "without_kinship"]
