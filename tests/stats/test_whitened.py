"""The whitened statistics of correlated region scores against dense linear algebra, the omnibus combination
calibrated under strong correlation, and its power near the best single test for each kind of effect."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxgen.graphs import contiguous_regions, lattice_adjacency
from jaxgen.stats.cct_null import NULL_DRAWS, refer_to_null
from jaxgen.stats.whitened import omnibus_combination, omnibus_null_law, omnibus_weights, whitened_statistics


def _car_correlation(A, rho):
    covariance = np.linalg.inv(np.diag(A.sum(1)) - rho * A)
    scale = np.sqrt(np.diag(covariance))
    return covariance / np.outer(scale, scale)


def _neighbourhoods(A):
    return ((A != 0) | np.eye(len(A), dtype=bool)).astype(float)


def _omnibus_log_p(z, R, neighbourhoods, null_law):
    """The omnibus log p-values (N,) of the rows of z (N, c) under the null correlation R (c, c)."""
    c = R.shape[0]
    quadratic, burden, regions, local = whitened_statistics(jnp.asarray(z), jnp.asarray(np.linalg.cholesky(R)),
                                                            jnp.asarray(neighbourhoods))
    log_p_scores = jnp.log(2.0) + stats.norm.logsf(np.abs(z))
    combined = omnibus_combination(jnp.asarray(stats.chi2.logsf(np.asarray(quadratic), c)),
                                   jnp.log(2.0) + jnp.asarray(stats.norm.logsf(np.abs(np.asarray(burden)))),
                                   regions, local, jnp.asarray(log_p_scores))
    return np.asarray(refer_to_null(combined, null_law))


def test_whitened_statistics_equal_dense_linear_algebra():
    """Every statistic against P = R⁻¹ from numpy.linalg.inv (float64): one factor per row and one shared."""
    rng = np.random.default_rng(0)
    A = lattice_adjacency(7)
    N = _neighbourhoods(A)
    correlations = [_car_correlation(A, rho) for rho in (0.2, 0.6, 0.95)]
    z = rng.standard_normal((3, 7))
    factors = np.stack([np.linalg.cholesky(R) for R in correlations])
    per_row = [np.asarray(x) for x in whitened_statistics(jnp.asarray(z), jnp.asarray(factors), jnp.asarray(N))]
    for i, R in enumerate(correlations):
        P = np.linalg.inv(R)
        one = np.ones(7)
        expected = (z[i] @ P @ z[i], one @ P @ z[i] / np.sqrt(one @ P @ one), P @ z[i] / np.sqrt(np.diag(P)),
                    N @ P @ z[i] / np.sqrt(np.einsum("kl,lm,km->k", N, P, N)))
        for got, want in zip(per_row, expected):
            np.testing.assert_allclose(got[i], want, rtol=1e-11, atol=1e-12)
        shared = whitened_statistics(jnp.asarray(z[i:i + 1]), jnp.asarray(factors[i]), jnp.asarray(N))
        for got, want in zip(shared, per_row):
            np.testing.assert_allclose(np.asarray(got)[0], want[i], rtol=1e-12)
    weights = np.asarray(omnibus_weights(7))
    assert weights.shape == (23,) and weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("c, rho", [(16, 0.9), (6, 0.3)])
def test_the_omnibus_is_calibrated_under_strong_correlation(c, rho):
    """100 000 fresh NumPy draws of z ~ N(0, R): the referred omnibus p-values reject within 4 SEs of α (the
    fresh draws' and the simulated law's Monte Carlo errors added)."""
    A = lattice_adjacency(c)
    R = _car_correlation(A, rho)
    null_law = omnibus_null_law(jnp.asarray(R), jnp.asarray(_neighbourhoods(A)))
    assert null_law.shape == (NULL_DRAWS,) and np.all(np.diff(np.asarray(null_law)) >= 0)
    z = np.random.default_rng(c).standard_normal((100_000, c)) @ np.linalg.cholesky(R).T
    p = np.exp(_omnibus_log_p(z, R, _neighbourhoods(A), null_law))
    for alpha in (0.05, 0.01, 0.002):
        se = math.sqrt(alpha * (1 - alpha) * (1 / len(p) + 1 / NULL_DRAWS))
        assert abs(np.mean(p < alpha) - alpha) < 4 * se, (alpha, np.mean(p < alpha))


def test_the_omnibus_stays_near_the_best_single_test_for_each_kind_of_effect():
    """Power at α = 0.05 (each test at its own simulated 5% quantile) for an effect on one region, on a
    contiguous group of 3–5 regions and on every region, c = 16 at ρ = 0.3 and 0.9: the omnibus is within
    0.06 (+ 4 SEs of the difference) of the better of the whitened χ² (MOSTest's statistic) and the
    per-region CCT in every cell, and more than 0.1 above each of them and of the burden in some cell."""
    c = 16
    A = lattice_adjacency(c)
    N = _neighbourhoods(A)
    rng = np.random.default_rng(7)
    behind = {"quadratic": 0.0, "burden": 0.0, "cct": 0.0}  # the most each falls short of the omnibus
    for rho, effect in ((0.3, {"one": 3.0, "group": 1.6, "all": 0.6}), (0.9, {"one": 2.4, "group": 1.7, "all": 1.3})):
        R = _car_correlation(A, rho)
        root = np.linalg.cholesky(R)
        null_law = omnibus_null_law(jnp.asarray(R), jnp.asarray(N))

        def p_values(z):
            quadratic, burden, _, _ = (np.asarray(x) for x in whitened_statistics(jnp.asarray(z), jnp.asarray(root),
                                                                                   jnp.asarray(N)))
            per_region = 2 * stats.norm.sf(np.abs(z))
            cct = 0.5 - np.arctan(np.mean(np.tan((0.5 - per_region) * np.pi), axis=1)) / np.pi
            return {"omnibus": np.exp(_omnibus_log_p(z, R, N, null_law)), "quadratic": stats.chi2.sf(quadratic, c),
                    "burden": 2 * stats.norm.sf(np.abs(burden)), "cct": cct}

        null = p_values(rng.standard_normal((40_000, c)) @ root.T)
        thresholds = {test: np.quantile(p, 0.05) for test, p in null.items()}
        for pattern, size in effect.items():
            mean = np.zeros((3_000, c))
            for row in mean:
                regions = {"one": lambda: rng.integers(c, size=1), "all": lambda: np.arange(c),
                           "group": lambda: contiguous_regions(rng, A, int(rng.integers(3, 6)))}[pattern]()
                row[regions] = size * rng.choice([-1.0, 1.0])
            alternative = p_values(mean + rng.standard_normal(mean.shape) @ root.T)
            power = {test: np.mean(p <= thresholds[test]) for test, p in alternative.items()}
            best = max(power[test] for test in ("quadratic", "cct"))
            se = math.sqrt(2 * 0.25 / 3_000)
            assert power["omnibus"] > best - 0.06 - 4 * se, (rho, pattern, power)
            for test in behind:
                behind[test] = max(behind[test], power["omnibus"] - power[test])
    assert all(gap > 0.1 for gap in behind.values()), behind
