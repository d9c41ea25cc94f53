"""Model comparison: the pointwise log likelihood against a dense multivariate normal, and PSIS-LOO telling a
strongly spatial study from the ρ = 0 model."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from jaxgen import lmm
from jaxgen.data import simulate_spatial_lmm, unit_scale_covariates
from jaxgen.graphs import car_precision


@pytest.fixture(scope="module")
def family_study():
    return simulate_spatial_lmm(2, n=12, p=3, c=3, n_causal=1, rho=0.6, h2=0.5, effect=0.5, graph="ring")


def _parameters(rng, m, p, c, with_h2):
    """Two draws (chains 1, draws 2) of every site, at arbitrary values in the support."""
    draws = {"Gamma": rng.normal(size=(1, 2, m, c)), "B": rng.normal(size=(1, 2, p, c)),
             "tau2": rng.uniform(0.5, 2, size=(1, 2, p)), "sigma2": rng.uniform(0.5, 2, size=(1, 2)),
             "rho": np.array([[0.3, 0.85]])}
    if with_h2:
        draws["h2"] = np.array([[0.2, 0.7]])
    return draws


@pytest.mark.parametrize("with_kinship", [True, False], ids=["kinship", "no-kinship"])
def test_pointwise_terms_sum_to_the_dense_normal_density_of_the_data(family_study, with_kinship):
    """Σ_i log p(ỹ_i | θ) equals log N(vec Y; vec(CΓ + X̃B), σ² V(h²) ⊗ Q(ρ)⁻¹) of the unrotated data, V = h²K + (1 − h²)I,
    and each term equals scipy's c-variate density of its rotated row."""
    d = family_study
    kinship = d.kinship if with_kinship else None
    data, info = lmm.prepare_data(d.Y, d.X, d.adjacency, d.covariates, kinship)
    rng = np.random.default_rng(0)
    draws = _parameters(rng, d.covariates.shape[1], d.X.shape[1], d.Y.shape[1], with_kinship)
    pointwise = np.asarray(lmm.pointwise_log_likelihood(draws, data))
    assert pointwise.shape == (1, 2, 12)
    X_std = (d.X - info["snp_mean"]) / info["snp_sd"]
    n = d.Y.shape[0]
    for s in range(2):
        Gamma, B, sigma2, rho = (draws[k][0, s] for k in ("Gamma", "B", "sigma2", "rho"))
        h2 = draws["h2"][0, s] if with_kinship else 0.0
        V = h2 * d.kinship + (1 - h2) * np.eye(n) if with_kinship else np.eye(n)
        Q_inv = np.linalg.inv(np.asarray(car_precision(d.adjacency, rho)))
        mean = unit_scale_covariates(d.covariates) @ Gamma + X_std @ B  # the model's unit-scale covariates
        dense = multivariate_normal(mean.ravel(), sigma2 * np.kron(V, Q_inv)).logpdf(d.Y.ravel())
        np.testing.assert_allclose(pointwise[0, s].sum(), dense, rtol=1e-10, atol=1e-8)
        d_i = np.asarray(data.row_scales(h2))
        rows = np.asarray(data.Y) - np.asarray(data.W) @ np.vstack([Gamma, B])
        per_row = [multivariate_normal(np.zeros(3), sigma2 * d_i[i] * Q_inv).logpdf(rows[i]) for i in range(n)]
        np.testing.assert_allclose(pointwise[0, s], per_row, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("with_kinship", [True, False], ids=["kinship", "no-kinship"])
def test_the_sampler_records_the_log_likelihood_of_its_draws(family_study, with_kinship):
    """The Gibbs driver's log likelihood of each kept draw (thinned, the sweep's own residual forms with kinship,
    formed at kept draws without) equals the one computed afterwards from the draws."""
    import jax

    from jaxgen.lmm.driver import run_gibbs_chains

    d = family_study
    data, _ = lmm.prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship if with_kinship else None)
    draws = run_gibbs_chains(jax.random.key(3), data, lmm.Priors(), num_chains=2, num_warmup=5, num_samples=6,
                             thin=2, devices=jax.devices()[:1])
    assert draws.log_likelihood.shape == (2, 6, 12)
    assert ("h2" in draws.sites) == with_kinship
    recomputed = lmm.pointwise_log_likelihood(draws.sites, data)
    np.testing.assert_allclose(draws.log_likelihood, recomputed, rtol=1e-10, atol=1e-10)
    assert np.ptp(np.asarray(draws.log_likelihood), axis=1).min() > 0     # every kept draw is a new one


def test_the_no_kinship_model_keeps_the_rotated_rows_and_their_law(family_study):
    """without_kinship: same rows, d_i = 1, and its gram is W̃ᵀ[W̃, Ỹ] at any h²."""
    d = family_study
    data, _ = lmm.prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship)
    plain = lmm.without_kinship(data)
    assert not plain.has_kinship and plain.Y is data.Y and plain.W is data.W
    W, Y = np.asarray(data.W), np.asarray(data.Y)
    np.testing.assert_allclose(np.asarray(plain.weighted_gram(0.4)), W.T @ np.column_stack([W, Y]), rtol=1e-12)


@pytest.fixture(scope="module")
def spatial_fit():
    d = simulate_spatial_lmm(1, n=60, p=2, c=5, n_causal=0, rho=0.9, h2=0.0, graph="ring", family_size=1)
    return lmm.fit(d.Y, d.X, d.adjacency, num_chains=2, num_warmup=100, num_samples=200,
                   seed=3, progress=False)


def test_loo_prefers_the_spatial_model_on_a_strongly_spatial_study(spatial_fit):
    """ρ = 0.9 on a ring of 5 regions, 60 subjects: the spatial model's ELPD beats the ρ = 0 model's by more than
    two paired standard errors (it is about five here), by PSIS-LOO and by WAIC alike."""
    log_lik = spatial_fit.posterior["log_likelihood"]["Y"]
    assert log_lik.dims == ("chain", "draw", "row") and log_lik.shape == (2, 200, 60)
    table = lmm.compare_models(spatial_fit, num_warmup=100, seed=3)
    assert list(table.index) == ["spatial", "independent"]
    loss = table.loc["independent"]
    assert loss["elpd_diff"] < -2 * loss["dse"] < 0
    assert table.loc["spatial", "elpd_waic"] - loss["elpd_waic"] > 2 * loss["dse"]
    # no Pareto-k warning here, so WAIC and PSIS-LOO agree well within their standard errors
    assert (table["diag_elpd"] == "").all()
    np.testing.assert_allclose(table["elpd_waic"], table["elpd"], atol=0.05 * table["se"].min())
    np.testing.assert_allclose(table["p_waic"], table["p"], rtol=0.05)
    independent = lmm.refit_as(spatial_fit, "independent", num_warmup=100, seed=3)
    assert np.all(np.asarray(independent.draws["rho"]) == 0.0)
    assert np.isclose(table.loc["independent", "elpd"] - table.loc["spatial", "elpd"], loss["elpd_diff"])


def test_compare_models_refuses_what_it_cannot_compare(spatial_fit):
    with pytest.raises(ValueError, match="the fit has no kinship, so it is the no-kinship model already"):
        lmm.compare_models(spatial_fit, ["spatial", "no-kinship"])
    with pytest.raises(ValueError, match="model must be one of"):
        lmm.compare_models(spatial_fit, ["spatial", "car"])
    with pytest.raises(ValueError, match="compare at least two models"):
        lmm.compare_models(spatial_fit, ["spatial"])
