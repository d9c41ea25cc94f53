"""Model comparison: the fitted spatial LMM against ρ = 0 and against no kinship, by PSIS-LOO and WAIC.

The alternatives are refitted by the same Gibbs kernel with the chains and draws of the fit:

- ``independent``: ρ fixed at 0 (``Priors(rho_max=0)``), regions uncorrelated given the covariance scale;
- ``no-kinship``: no population term (h² = 0), on the kinship's rotated rows (:func:`without_kinship`),
  so that every model's pointwise log likelihood is over the same rows and the differences are paired.

ArviZ's ``compare`` ranks them by PSIS-LOO (Vehtari, Gelman & Gabry 2017); WAIC from the same
pointwise terms is added. What a row is, and why LOO over rotated rows is not exactly
leave-one-subject-out, is said in :mod:`jaxgen.lmm.likelihood`.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from typing import Sequence

import arviz as az
import jax
import pandas as pd

from jaxgen.lmm.data import without_kinship
from jaxgen.lmm.driver import run_gibbs_chains
from jaxgen.lmm.likelihood import waic
from jaxgen.lmm.result import LMMResult
from jaxgen.runtime import single_threaded_blas

__all__ = ["MODELS", "compare_models", "refit_as"]

MODELS = {
    "spatial": "the fitted model (CAR correlation ρ between regions, kinship term h² when a kinship is given)",
    "independent": "ρ = 0: regions uncorrelated",
    "no-kinship": "h² = 0: no kinship (population) term",
}


def refit_as(result: LMMResult, model: str, *, num_warmup: int = 500, thin: int = 1, seed: int = 0,
             progress: bool = False) -> LMMResult:
    """``result``'s data fitted as ``model`` (a key of :data:`MODELS`) by the Gibbs kernel, with its chains
    and kept draws; num_warmup, thin, seed : as for :func:`jaxgen.lmm.fit`."""
    _check_model(result, model)
    if model == "spatial":
        return result
    data = without_kinship(result.data) if model == "no-kinship" else result.data
    priors = result.priors._replace(rho_max=0.0) if model == "independent" else result.priors
    num_chains, num_samples = result.draws["rho"].shape
    start = time.perf_counter()
    with single_threaded_blas():
        draws = jax.block_until_ready(run_gibbs_chains(jax.random.key(seed), data, priors, num_chains=num_chains,
                                                       num_warmup=num_warmup, num_samples=num_samples, thin=thin,
                                                       progress=progress))
    return dataclasses.replace(result, draws=draws.sites, data=data, priors=priors, method="gibbs",
                               seconds=time.perf_counter() - start, sampled_log_likelihood=draws.log_likelihood,
                               _cache={})


def compare_models(result: LMMResult, models: Sequence[str] | None = None, *, num_warmup: int = 500, thin: int = 1,
                   seed: int = 0, progress: bool = False) -> pd.DataFrame:
    """Rank ``models`` (default: spatial, independent and, with a kinship, no-kinship) by PSIS-LOO.

    result : a Gibbs fit (:func:`jaxgen.lmm.fit`), the ``spatial`` model; the others are refitted
    (:func:`refit_as`) with its chains and draws, and num_warmup, thin, seed as given here (pass the
    fit's). Returns ArviZ's compare table, one row per model (index ``model``), best first: ``elpd``
    and ``se`` (PSIS-LOO), ``p`` (effective parameters), ``elpd_diff`` and its paired standard error
    ``dse`` against the best, ``weight`` (stacking), ``p_worse``, ``diag_elpd``/``diag_diff`` (Pareto-k
    and other warnings), then ``elpd_waic``, ``se_waic``, ``p_waic`` (:func:`jaxgen.lmm.likelihood.waic`).
    """
    if result.method != "gibbs":
        raise ValueError(f"model comparison refits by the Gibbs kernel, which alone can fix ρ = 0; the fit used "
                         f"{result.method!r}: fit with method='gibbs'")
    if models is None:
        models = ("spatial", "independent", *(("no-kinship",) if result.data.has_kinship else ()))
    models = list(dict.fromkeys(models))
    if len(models) < 2:
        raise ValueError(f"compare at least two models of {tuple(MODELS)}, got {models}")
    for model in models:
        _check_model(result, model)
    fits = {model: refit_as(result, model, num_warmup=num_warmup, thin=thin, seed=seed, progress=progress)
            for model in models}
    with warnings.catch_warnings():  # once per model and unnamed; the table's diag_elpd says which model and how many
        warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto", UserWarning)
        table = az.compare({model: fit.posterior for model, fit in fits.items()}, round_to="none")
    information = pd.DataFrame({model: waic(fit.log_likelihood) for model, fit in fits.items()}).T
    table = table.join(information)
    table.index.name = "model"
    return table


def _check_model(result: LMMResult, model: str) -> None:
    if model not in MODELS:
        raise ValueError(f"model must be one of {tuple(MODELS)}, got {model!r}")
    if model == "no-kinship" and not result.data.has_kinship:
        raise ValueError("the fit has no kinship, so it is the no-kinship model already; compare 'spatial' "
                         "with 'independent' only, or fit with a kinship")
