"""Mass-univariate OLS against a direct least-squares fit per (SNP, QT) and SciPy's t distribution."""

import numpy as np
import pytest
from scipy import stats

from jaxgen.data import simulate_spatial_lmm
from jaxgen.stats import mass_univariate_ols


def test_every_pair_matches_its_own_least_squares_fit():
    d = simulate_spatial_lmm(0, n=120, p=6, c=4, n_causal=2, rho=0.5, h2=0.0, effect=0.5)
    fit = mass_univariate_ols(d.Y, d.X, d.covariates)
    for j in range(6):
        design = np.column_stack([d.covariates, d.X[:, j]])
        inv = np.linalg.inv(design.T @ design)
        for k in range(4):
            coef = inv @ design.T @ d.Y[:, k]
            resid = d.Y[:, k] - design @ coef
            se = np.sqrt(resid @ resid / (120 - 4) * inv[-1, -1])
            assert float(fit.beta[j, k]) == pytest.approx(coef[-1], rel=1e-10)
            assert float(fit.se[j, k]) == pytest.approx(se, rel=1e-10)
            assert float(fit.pvalue[j, k]) == pytest.approx(2 * stats.t.sf(abs(coef[-1] / se), 116), rel=1e-9)


def test_null_pvalues_are_uniform():
    rng = np.random.default_rng(1)
    Y, X = rng.standard_normal((200, 50)), rng.binomial(2, 0.3, size=(200, 40)).astype(float)
    p = np.asarray(mass_univariate_ols(Y, X).pvalue).ravel()
    assert stats.kstest(p, "uniform").pvalue > 0.001


def test_log_pvalues_do_not_underflow_in_float32():
    """Strong effects give p far below float32's range (pvalue = 0); log_pvalue stays exact: against
    mpmath's regularized incomplete beta at the fit's own t, and equal to log(pvalue) where p is normal."""
    import jax.numpy as jnp
    import mpmath

    rng = np.random.default_rng(2)
    X = rng.binomial(2, 0.4, size=(80, 3)).astype(np.float32)
    Y = np.column_stack([X[:, 0] + 0.05 * rng.standard_normal(80), rng.standard_normal(80),
                         X[:, 2] + 0.5 * rng.standard_normal(80)]).astype(np.float32)
    fit = mass_univariate_ols(jnp.asarray(Y), jnp.asarray(X))
    assert fit.log_pvalue.dtype == jnp.float32 and float(fit.pvalue[0, 0]) == 0.0
    t, df = np.asarray(fit.t, dtype=np.float64), fit.df
    mpmath.mp.dps = 30
    for j, k in [(0, 0), (2, 2), (1, 1), (0, 1)]:
        x = mpmath.mpf(df) / (df + mpmath.mpf(float(t[j, k])) ** 2)
        expected = float(mpmath.log(mpmath.betainc(df / 2, 0.5, 0, x, regularized=True)))
        assert float(fit.log_pvalue[j, k]) == pytest.approx(expected, rel=2e-5, abs=2e-5)
    assert float(fit.log_pvalue[0, 0]) < -200
    normal = np.asarray(fit.pvalue) > 1e-30
    np.testing.assert_allclose(np.asarray(fit.log_pvalue)[normal], np.log(np.asarray(fit.pvalue)[normal]), rtol=1e-6)
