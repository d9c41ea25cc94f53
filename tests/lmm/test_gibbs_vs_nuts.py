"""The custom Gibbs kernel and NumPyro's NUTS sample the same posterior of the same model."""

import arviz as az
import numpy as np
import pytest

from jaxgen import lmm
from jaxgen.data import simulate_spatial_lmm


@pytest.fixture(scope="module")
def both_fits():
    d = simulate_spatial_lmm(11, n=150, p=6, c=5, n_causal=2, rho=0.6, h2=0.4, effect=0.3, graph="ring")
    priors = lmm.Priors(tau_shape=2.0, tau_rate=0.05)
    return {method: lmm.fit(d.Y, d.X, d.adjacency, covariates=d.covariates, kinship=d.kinship, method=method,
                            num_warmup=500, num_samples=1000, progress=False, priors=priors, seed=3)
            for method in ("gibbs", "nuts")}


@pytest.mark.parametrize("name", ["B", "Gamma", "tau2", "sigma2", "h2", "rho"])
def test_posterior_means_agree_within_monte_carlo_error(both_fits, name):
    """|mean_gibbs − mean_nuts| < 4.5 joint MCSE for every element (~100 elements in all)."""
    means = {m: np.asarray(r.draws[name]).mean(axis=(0, 1)) for m, r in both_fits.items()}
    mcse = {m: az.mcse(r.posterior, var_names=[name], method="mean")[name].values for m, r in both_fits.items()}
    standardized = (means["gibbs"] - means["nuts"]) / np.sqrt(mcse["gibbs"] ** 2 + mcse["nuts"] ** 2)
    assert np.all(np.abs(standardized) < 4.5)


@pytest.mark.parametrize("name", ["B", "Gamma", "tau2", "sigma2", "h2", "rho"])
def test_posterior_sds_agree_within_monte_carlo_error(both_fits, name):
    """|sd_gibbs − sd_nuts| < 4.5 joint MCSE of the sd (ArviZ's mcse(method="sd")) for every element.

    A fixed ratio bound flipped with the versions a fresh install resolves: τ²'s sd is a heavy-tailed
    statistic whose Monte Carlo error is itself about 8% here.
    """
    sds = {m: np.asarray(r.draws[name]).std(axis=(0, 1), ddof=1) for m, r in both_fits.items()}
    mcse = {m: az.mcse(r.posterior, var_names=[name], method="sd")[name].values for m, r in both_fits.items()}
    standardized = (sds["gibbs"] - sds["nuts"]) / np.sqrt(mcse["gibbs"] ** 2 + mcse["nuts"] ** 2)
    assert np.all(np.abs(standardized) < 4.5)
