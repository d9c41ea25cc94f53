"""Association tests: null p-values are calibrated; causal SNPs are found at moderate effects."""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import lmm
from jaxgen.data import simulate_spatial_lmm
from jaxgen.lmm import prepare_data
from jaxgen.lmm.association import conditional_scores

FIT = dict(num_chains=2, num_warmup=300, num_samples=600, progress=False)


def test_score_is_standard_normal_at_the_true_hyperparameters():
    """With the generating ρ, h² and a fixed τ², every (SNP, QT) statistic is exactly N(0, 1)
    under the null. 20 studies × 720 statistics: the variance's standard error would be 0.012 if they
    were independent; statistics of one study are correlated, so allow 0.05."""
    z = []
    for rep in range(20):
        d = simulate_spatial_lmm(300 + rep, n=300, p=80, c=9, n_causal=0, rho=0.7, h2=0.3)
        data, _ = prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship)
        fixed = {"h2": jnp.full((1, 1), 0.3), "rho": jnp.full((1, 1), 0.7), "sigma2": jnp.ones((1, 1)),
                 "tau2": jnp.full((1, 1, 80), 0.05)}
        z.append(np.asarray(conditional_scores(fixed, data)).ravel())
    z = np.concatenate(z)
    assert abs(z.var() - 1) < 0.05
    assert abs(np.mean(np.abs(z) > 1.96) - 0.05) < 0.012


@pytest.mark.slow
def test_null_snp_level_rejection_rate_is_nominal():
    """6 null studies × 80 SNPs: the rate at α = 0.05 lies in [0.02, 0.085] (nominal ± ~2.5 SE,
    SNPs in LD blocks being correlated), and likewise at the (SNP, QT) level."""
    snp_p, pair_p = [], []
    for rep in range(6):
        d = simulate_spatial_lmm(100 + rep, n=300, p=80, c=9, n_causal=0, rho=0.7, h2=0.3)
        fit = lmm.fit(d.Y, d.X, d.adjacency, covariates=d.covariates, kinship=d.kinship, seed=rep, **FIT)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", lmm.ConvergenceGateWarning)
            snp_p.append(fit.snp_tests()["p_value"].to_numpy())
        pair_p.append(fit.associations()["p_value"].to_numpy())
    snp_p, pair_p = np.concatenate(snp_p), np.concatenate(pair_p)
    assert 0.02 <= np.mean(snp_p < 0.05) <= 0.085
    assert 0.03 <= np.mean(pair_p < 0.05) <= 0.075
    assert 0.17 <= np.mean(pair_p < 0.2) <= 0.23


def test_causal_snps_are_recovered_at_moderate_effects():
    d = simulate_spatial_lmm(7, n=400, p=40, c=9, n_causal=4, rho=0.7, h2=0.3, effect=0.2)
    fit = lmm.fit(d.Y, d.X, d.adjacency, covariates=d.covariates, kinship=d.kinship, snp_ids=d.snp_ids,
                  num_chains=2, num_warmup=300, num_samples=600, progress=False)
    tests = fit.snp_tests().set_index("snp").loc[d.snp_ids]
    causal_p = tests["p_value"].to_numpy()[d.truth.causal]
    assert np.all(causal_p < 0.05 / 40)  # Bonferroni over SNPs
    top = tests.sort_values("p_value").index[:4]
    assert set(top) == {d.snp_ids[j] for j in np.flatnonzero(d.truth.causal)}
    # effect estimates point the right way on the truly affected regions
    table = fit.associations()
    affected = d.truth.causal_mask.ravel()
    assert np.mean(np.sign(table["mean"].to_numpy()[affected]) == np.sign(d.truth.B.ravel()[affected])) > 0.9
