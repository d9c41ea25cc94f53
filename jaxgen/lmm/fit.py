"""``jaxgen.lmm.fit``: validate, prepare, sample (Gibbs, NUTS or SVI), and wrap the result."""

from __future__ import annotations

import math
import time
import warnings

import jax
import numpy as np
import pandas as pd

from jaxgen.lmm.data import prepare_data
from jaxgen.lmm.driver import run_gibbs_chains
from jaxgen.lmm.model import spatial_lmm_model
from jaxgen.lmm.priors import Priors
from jaxgen.lmm.result import ConvergenceGateWarning, LMMResult
from jaxgen.runtime import require_memory, single_threaded_blas

__all__ = ["fit"]

METHODS = ("gibbs", "nuts", "svi")


def fit(Y, X, adjacency, *, covariates=None, kinship=None, method: str = "gibbs", num_chains: int = 4,
        num_warmup: int = 500, num_samples: int = 1000, seed: int = 0, progress: bool = True,
        priors: Priors | None = None, thin: int = 1, snp_ids=None, region_names=None,
        rhat_max: float = 1.01, ess_min: float = 400.0, svi_steps: int = 5000,
        heritability: str = "per-region") -> LMMResult:
    """Fit the spatial-correlated multitask LMM.

    Parameters
    ----------
    Y : (n, c) QTs (a DataFrame's columns name the regions); X : (n, p) SNP dosages (a DataFrame's
        columns name the SNPs); adjacency : (c, c) region graph. pandas inputs (Y, X, covariates,
        a kinship labelled by index and columns) are paired by subject id, not by position, and
        refused when their ids differ; a labelled adjacency is reordered to Y's columns.
    covariates : (n, m) with an intercept column (default: intercept only).
    kinship : (n, n) PSD relationship matrix; without it the population term is absent (h² = 0).
    method : "gibbs" (the custom blocked Gibbs kernel), "nuts" (NumPyro NUTS on the same model) or
        "svi" (NumPyro SVI, low-rank Gaussian guide, optax Adam; a fast approximation).
    num_chains, num_warmup, num_samples, thin : Gibbs chains run vectorized, spread over the devices
        of the platform in use (:mod:`jaxgen.runtime`; NUTS chains on one device); for SVI,
        ``num_chains × num_samples`` draws from the fitted guide after ``svi_steps`` steps.
    seed : same seed, same result (another number of devices changes the rounding, not the distribution).
    progress : report progress on stderr.
    priors : :class:`Priors` (defaults suit standardized QTs). ``Priors(rho_max=0.0)`` fixes ρ = 0
        (the non-spatial baseline; Gibbs only).
    snp_ids, region_names : labels (default from DataFrame columns, else generated).
    rhat_max, ess_min : the convergence gate of the seed's posterior SNP test (``test="posterior"``).
    heritability : the null model of the score tests: "per-region" h²_k (default) or "shared" (the
        seed's separable model); see :mod:`jaxgen.lmm.null`.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    for name, value in (("num_chains", num_chains), ("num_samples", num_samples), ("thin", thin)):
        if int(value) < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if num_warmup < 0:
        raise ValueError(f"num_warmup must be non-negative, got {num_warmup}")
    if heritability not in ("per-region", "shared"):
        raise ValueError(f"heritability must be 'per-region' or 'shared', got {heritability!r}")
    _warn_if_gate_unreachable(num_chains, num_samples, ess_min)
    priors = priors or Priors()
    Y, X, covariates = (v.to_frame() if isinstance(v, pd.Series) else v for v in (Y, X, covariates))
    if not 0 <= priors.rho_max < 1:
        raise ValueError(f"priors.rho_max must lie in [0, 1) for a proper CAR model, got {priors.rho_max}")
    snp_ids = _labels(snp_ids, X, "snp", np.shape(X)[1] if np.ndim(X) == 2 else 0)
    region_names = _labels(region_names, Y, "region", np.shape(Y)[1] if np.ndim(Y) == 2 else 0)
    covariate_names = _labels(None, covariates, "covariate", 1 if covariates is None else np.shape(covariates)[1])
    _check_memory(np.shape(Y), np.shape(X), len(covariate_names), kinship is not None, num_chains, num_samples)
    data, info = prepare_data(Y, X, adjacency, covariates, kinship)

    key = jax.random.key(seed)
    start = time.perf_counter()
    log_likelihood = None                # the Gibbs driver records it; for the others, computed on first use
    with single_threaded_blas():
        if method == "gibbs":
            draws, log_likelihood = run_gibbs_chains(key, data, priors, num_chains=num_chains, num_warmup=num_warmup,
                                                     num_samples=num_samples, thin=thin, progress=progress)
        elif method == "nuts":
            draws = _run_nuts(key, data, priors, num_chains, num_warmup, num_samples, thin, progress)
        else:
            draws = _run_svi(key, data, priors, num_chains, num_samples, svi_steps, progress)
        draws, log_likelihood = jax.block_until_ready((draws, log_likelihood))
    seconds = time.perf_counter() - start
    _check_finite(draws, method)
    return LMMResult(draws=draws, data=data, snp_ids=snp_ids, region_names=region_names,
                     covariate_names=covariate_names, snp_sd=info["snp_sd"], method=method, priors=priors,
                     rhat_max=rhat_max, ess_min=ess_min, seconds=seconds, heritability=heritability,
                     sampled_log_likelihood=log_likelihood)


def _warn_if_gate_unreachable(num_chains, num_samples, ess_min):
    """Warn before sampling when chains × draws is below the gate's bulk ESS: a pair's ESS exceeds its
    number of draws only for antithetic chains, so most pairs would fail the gate."""
    draws = int(num_chains) * int(num_samples)
    if draws < ess_min:
        warnings.warn(f"{num_chains} chains × {num_samples} draws = {draws} draws cannot reach the convergence "
                      f"gate's bulk ESS ≥ {ess_min:g}: most (SNP, QT) pairs will fail it and be left out of the "
                      f"posterior SNP test (test='posterior'); draw at least {math.ceil(ess_min / num_chains)} samples per chain",
                      ConvergenceGateWarning, stacklevel=3)


def _run_nuts(key, data, priors, num_chains, num_warmup, num_samples, thin, progress):
    from numpyro.infer import MCMC, NUTS

    mcmc = MCMC(NUTS(spatial_lmm_model), num_warmup=num_warmup, num_samples=num_samples * thin,
                num_chains=num_chains, thinning=thin, chain_method="vectorized", progress_bar=progress)
    mcmc.run(key, data, priors)
    return mcmc.get_samples(group_by_chain=True)


def _run_svi(key, data, priors, num_chains, num_samples, steps, progress):
    import optax
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.infer.autoguide import AutoLowRankMultivariateNormal

    guide = AutoLowRankMultivariateNormal(spatial_lmm_model)
    svi = SVI(spatial_lmm_model, guide, optax.adam(5e-3), Trace_ELBO())
    fit_key, draw_key = jax.random.split(key)
    state = svi.run(fit_key, steps, data, priors, progress_bar=progress)
    return guide.sample_posterior(draw_key, state.params, sample_shape=(num_chains, num_samples))


def _labels(given, table, prefix, count):
    """Labels from ``given``, else a DataFrame's columns, else ``prefix0..``; checked for length."""
    if given is None and hasattr(table, "columns"):
        given = [str(c) for c in table.columns]
    if given is None:
        return [f"{prefix}{i}" for i in range(count)]
    given = [str(g) for g in given]
    if len(given) != count:
        raise ValueError(f"{len(given)} {prefix} labels given for {count} columns")
    if len(set(given)) != len(given):
        raise ValueError(f"{prefix} labels must be unique")
    return given


def _check_memory(y_shape, x_shape, n_covariates, has_kinship, num_chains, num_samples) -> None:
    """Refuse (MemoryError) a fit whose draws, or whose kinship eigendecomposition, cannot fit in memory.

    The draws of B (p, c), Gamma (m, c), tau2 (p), three scalars and the n rows' log likelihood per kept draw
    and chain are held twice (on the device, then as the result's NumPy arrays); the eigendecomposition of an (n, n)
    kinship holds about four (n, n) float64 matrices on the host.
    """
    if len(y_shape) != 2 or len(x_shape) != 2:
        return  # prepare_data refuses these with its own message
    (n, c), p = y_shape, x_shape[1]
    per_draw = p * c + n_covariates * c + p + 3 + n
    itemsize = np.dtype(jax.numpy.result_type(float)).itemsize
    draws = 2.0 * num_chains * num_samples * per_draw * itemsize
    require_memory(draws, f"keeping {num_chains} chains × {num_samples} draws of {per_draw} values (p = {p} SNPs, "
                   f"c = {c} QTs)", "lower num_samples or num_chains, or analyse fewer SNPs")
    if has_kinship:
        require_memory(4.0 * n * n * 8, f"the eigendecomposition of an ({n}, {n}) kinship",
                       "use fewer subjects or no kinship", host=True)


def _check_finite(draws, method):
    """Refuse draws holding NaN or inf, naming the parameter, chain and draw (checked where the draws are)."""
    finite = jax.device_get({name: jax.numpy.isfinite(values).all() for name, values in draws.items()})
    for name, values in draws.items():
        if not finite[name]:
            bad = ~np.isfinite(np.asarray(values))
            chain, draw = np.argwhere(bad)[0][:2]
            raise FloatingPointError(
                f"{method} produced a non-finite value of '{name}' (chain {chain}, draw {draw}); the data may "
                "be badly scaled (standardize the QTs) or the model degenerate for them")
