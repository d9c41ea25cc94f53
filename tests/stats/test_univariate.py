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
