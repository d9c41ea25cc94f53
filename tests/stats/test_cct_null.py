"""The CCT referred to its simulated null law: exact in the bulk under strong correlation (where the Cauchy
tail alone is far off), continuous and increasing, and the Cauchy tail itself in the deep tail."""

import math

import jax.numpy as jnp
import numpy as np
from scipy import stats

from jaxgen.graphs import lattice_adjacency
from jaxgen.stats import cct_log
from jaxgen.stats.cct_null import FADE_DECADES, NULL_DRAWS, TAIL_COUNT, gaussian_cct_null, refer_to_null


def _car_correlation(c, rho):
    A = lattice_adjacency(c)
    covariance = np.linalg.inv(np.diag(A.sum(1)) - rho * A)
    scale = np.sqrt(np.diag(covariance))
    return covariance / np.outer(scale, scale)


def _log_cct(z):
    return np.asarray(cct_log(jnp.asarray(np.log(2 * stats.norm.sf(np.abs(z)))), axis=1))


def test_strongly_correlated_scores_are_calibrated_where_the_cauchy_tail_is_not():
    """200 000 fresh draws of z ~ N(0, R) (NumPy, not the simulation's generator), R a CAR at ρ = 0.9 over
    16 regions: referred p-values reject within 4 binomial SEs of α and λ_GC within 4 of its SEs of 1; the
    Cauchy tail alone is off by far more (λ_GC below 0.8)."""
    R = _car_correlation(16, 0.9)
    null = gaussian_cct_null(jnp.asarray(R))
    z = np.random.default_rng(1).standard_normal((200_000, 16)) @ np.linalg.cholesky(R).T
    raw = _log_cct(z)
    referred = np.asarray(refer_to_null(jnp.asarray(raw), null))
    p, raw_p = np.exp(referred), np.exp(raw)
    for alpha in (0.05, 0.01, 0.002):
        # Monte Carlo error of the simulated law (its N draws) and of the fresh draws, added
        se = math.sqrt(alpha * (1 - alpha) * (1 / len(p) + 1 / NULL_DRAWS))
        assert abs(np.mean(p < alpha) - alpha) < 4 * se, alpha
    lambda_gc = stats.chi2.isf(np.median(p), 1) / stats.chi2.ppf(0.5, 1)
    # δλ ≈ 4.67 δm near the median m = 1/2, whose SE is 0.5 √(1/N_fresh + 1/N_null)
    lambda_se = 4.67 * 0.5 * math.sqrt(1 / len(p) + 1 / NULL_DRAWS)
    assert abs(lambda_gc - 1) < 4 * lambda_se
    assert stats.chi2.isf(np.median(raw_p), 1) / stats.chi2.ppf(0.5, 1) < 0.8


def test_the_map_is_continuous_increasing_and_the_cauchy_tail_deep_down():
    null = gaussian_cct_null(jnp.asarray(_car_correlation(9, 0.8)))
    edge = float(null[TAIL_COUNT - 1])
    grid = np.linspace(edge - 3 * math.log(10.0), 0.0, 20_001)
    referred = np.asarray(refer_to_null(jnp.asarray(grid), null))
    assert np.all(np.diff(referred) >= 0) and np.all(referred <= 0)
    at_edge, below_edge = np.asarray(refer_to_null(jnp.asarray([edge, edge - 1e-9]), null))
    assert 0 <= at_edge - below_edge < 1e-6          # the fade starts where the simulated law stops
    deep = grid < edge - FADE_DECADES * math.log(10.0)
    np.testing.assert_array_equal(referred[deep], grid[deep].astype(referred.dtype))
    assert np.isnan(np.asarray(refer_to_null(jnp.asarray([np.nan]), null))[0])


def test_the_null_law_is_deterministic_and_sorted():
    R = jnp.asarray(_car_correlation(6, 0.5))
    first, second = np.asarray(gaussian_cct_null(R)), np.asarray(gaussian_cct_null(R))
    np.testing.assert_array_equal(first, second)
    assert first.shape == (NULL_DRAWS,) and np.all(np.diff(first) >= 0)
    assert not np.array_equal(first, np.asarray(gaussian_cct_null(R, seed=1)))
