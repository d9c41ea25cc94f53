"""Each Gibbs block draws from the exact conditional; the model density is the dense Gaussian one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxgen.data import simulate_spatial_lmm
from jaxgen.lmm import MatrixNormalCAR, Priors, prepare_data
from jaxgen.lmm.gibbs import Params, draw_coefficients, draw_sigma2, quadratic_forms
from jaxgen.lmm.slice import slice_sample_bounded
from jaxgen.graphs import CARSpectrum, lattice_adjacency


@pytest.fixture(scope="module")
def small_study():
    d = simulate_spatial_lmm(2, n=40, p=3, c=4, n_causal=1, rho=0.5, h2=0.3, effect=0.5, graph="ring")
    data, _ = prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship)
    return d, data


def exact_coefficient_posterior(d, sigma2, h2, rho, prior_var):
    """Mean and covariance of vec(θ) (column-major: one QT after another) by dense GLS on the
    *unrotated* data: vec(Y) ~ N((I ⊗ W) vec θ, σ² Q⁻¹ ⊗ (h²K + (1 − h²)I)), vec θ ~ N(0, σ² Q⁻¹ ⊗ diag(v))."""
    from jaxgen.data import standardize_columns

    X_std, _, _ = standardize_columns(d.X)
    W = np.column_stack([d.covariates, X_std])
    n, c = d.Y.shape
    Q_inv = np.linalg.inv(np.diag(d.adjacency.sum(1)) - rho * d.adjacency)
    row_cov = h2 * d.kinship + (1 - h2) * np.eye(n)
    lik_cov = sigma2 * np.kron(Q_inv, row_cov)
    prior_cov = sigma2 * np.kron(Q_inv, np.diag(prior_var))
    design = np.kron(np.eye(c), W)
    precision = design.T @ np.linalg.solve(lik_cov, design) + np.linalg.inv(prior_cov)
    cov = np.linalg.inv(precision)
    mean = cov @ design.T @ np.linalg.solve(lik_cov, d.Y.T.ravel())
    return mean, cov


def test_coefficient_block_matches_the_exact_matrix_normal_posterior(small_study):
    """With σ², h², ρ and τ² held fixed, 40 000 draws of [Γ; B]: mean within 5 MC standard errors,
    covariance within 5 MC standard errors of the exact (dense Kronecker) posterior."""
    d, data = small_study
    m, p, c = data.n_covariates, data.n_snps, data.Y.shape[1]
    params = Params(Gamma=jnp.zeros((m, c)), B=jnp.zeros((p, c)), tau2=jnp.array([0.5, 0.1, 2.0]),
                    sigma2=jnp.array(1.3), h2=jnp.array(0.3), rho=jnp.array(0.5))
    priors = Priors()
    keys = jax.random.split(jax.random.key(0), 40_000)
    out = jax.vmap(lambda k: draw_coefficients(k, params, data, priors))(keys)
    theta = np.concatenate([np.asarray(out.Gamma), np.asarray(out.B)], axis=1)  # (draws, m + p, c)
    samples = theta.transpose(0, 2, 1).reshape(len(keys), -1)  # vec, one QT after another
    prior_var = np.r_[np.full(m, priors.gamma_variance), np.asarray(params.tau2)]
    mean, cov = exact_coefficient_posterior(d, 1.3, 0.3, 0.5, prior_var)
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(samples.mean(0) - mean) < 5 * sd / np.sqrt(len(keys)))
    empirical = np.cov(samples.T)
    cov_se = np.sqrt((cov ** 2 + np.outer(np.diag(cov), np.diag(cov))) / len(keys))
    assert np.all(np.abs(empirical - cov) < 5 * cov_se)


def test_sigma2_block_matches_its_inverse_gamma_conditional(small_study):
    d, data = small_study
    m, p, c = data.n_covariates, data.n_snps, data.Y.shape[1]
    rng = np.random.default_rng(1)
    params = Params(Gamma=jnp.asarray(rng.normal(size=(m, c))), B=jnp.asarray(rng.normal(0, 0.2, (p, c))),
                    tau2=jnp.array([0.5, 0.1, 2.0]), sigma2=jnp.array(1.0), h2=jnp.array(0.3), rho=jnp.array(0.5))
    priors = Priors()
    forms = quadratic_forms(params, data)
    draws = np.asarray(jax.vmap(lambda k: draw_sigma2(k, params, forms, data, priors).sigma2)(
        jax.random.split(jax.random.key(1), 20_000)))
    # independent computation of the conditional's rate on the unrotated data
    from jaxgen.data import standardize_columns

    X_std, _, _ = standardize_columns(d.X)
    Q = np.diag(d.adjacency.sum(1)) - 0.5 * d.adjacency
    resid = d.Y - d.covariates @ np.asarray(params.Gamma) - X_std @ np.asarray(params.B)
    row_cov = 0.3 * d.kinship + 0.7 * np.eye(d.Y.shape[0])
    quad = np.trace(Q @ resid.T @ np.linalg.solve(row_cov, resid))
    theta = np.vstack([params.Gamma, params.B])
    v = np.r_[np.full(m, priors.gamma_variance), np.asarray(params.tau2)]
    quad += np.trace(Q @ theta.T @ (theta / v[:, None]))
    shape = priors.sigma_shape + 0.5 * (d.Y.shape[0] + m + p) * c
    rate = priors.sigma_rate + 0.5 * quad
    assert stats.kstest(draws, stats.invgamma(shape, scale=rate).cdf).pvalue > 1e-3


def test_slice_sampler_leaves_a_bounded_target_invariant():
    """Chains of slice updates on Beta(2.5, 4) restricted to (0, 1): draws follow the Beta law."""
    target = lambda x: 1.5 * jnp.log(x) + 3.0 * jnp.log1p(-x)

    def chain(key):
        def step(x, k):
            x = slice_sample_bounded(k, x, target, 0.0, 1.0)
            return x, x
        return jax.lax.scan(step, jnp.array(0.5), jax.random.split(key, 200))[1][-1]

    finals = np.asarray(jax.vmap(chain)(jax.random.split(jax.random.key(2), 4000)))
    assert stats.kstest(finals, stats.beta(2.5, 4).cdf).pvalue > 1e-3


def test_matrix_normal_car_density_equals_the_dense_gaussian():
    A = lattice_adjacency(4)
    car = CARSpectrum.from_adjacency(A)
    rng = np.random.default_rng(3)
    loc, value = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    scale, sigma2, rho = np.array([0.5, 1.0, 2.0]), 1.7, 0.8
    dist = MatrixNormalCAR(jnp.asarray(loc), jnp.asarray(scale), sigma2, rho, jnp.asarray(A), car)
    Q_inv = np.linalg.inv(np.diag(A.sum(1)) - rho * A)
    expected = sum(stats.multivariate_normal(loc[i], sigma2 * scale[i] * Q_inv).logpdf(value[i]) for i in range(3))
    assert float(dist.log_prob(jnp.asarray(value))) == pytest.approx(expected, rel=1e-12)
    draws = np.asarray(dist.sample(jax.random.key(0), (20000,)))
    np.testing.assert_allclose(np.cov(draws[:, 1, :].T), sigma2 * scale[1] * Q_inv, rtol=0.05, atol=0.02)
