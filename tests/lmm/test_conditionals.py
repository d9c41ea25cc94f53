"""Each Gibbs block draws from the exact conditional; the model density is the dense Gaussian one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxgen.data import simulate_spatial_lmm, unit_scale_covariates
from jaxgen.lmm import MatrixNormalCAR, Priors, prepare_data
from jaxgen.lmm.gibbs import Params, coefficient_posterior, draw_coefficients, draw_rho, draw_sigma2
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
    W = np.column_stack([unit_scale_covariates(d.covariates), X_std])
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
    posterior = coefficient_posterior(params, data, priors)
    out = jax.vmap(lambda k: draw_coefficients(k, params, posterior, data))(keys)
    theta = np.concatenate([np.asarray(out.Gamma), np.asarray(out.B)], axis=1)  # (draws, m + p, c)
    samples = theta.transpose(0, 2, 1).reshape(len(keys), -1)  # vec, one QT after another
    prior_var = np.r_[np.full(m, priors.gamma_variance), np.asarray(params.tau2)]
    mean, cov = exact_coefficient_posterior(d, 1.3, 0.3, 0.5, prior_var)
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(samples.mean(0) - mean) < 5 * sd / np.sqrt(len(keys)))
    empirical = np.cov(samples.T)
    cov_se = np.sqrt((cov ** 2 + np.outer(np.diag(cov), np.diag(cov))) / len(keys))
    assert np.all(np.abs(empirical - cov) < 5 * cov_se)


def marginal_row_covariance(d, h2, prior_var):
    """Σ = h²K + (1 − h²)I + W diag(v) Wᵀ (n, n) on the unrotated data: with θ integrated out,
    vec(Y) ~ N(0, σ² Q(ρ)⁻¹ ⊗ Σ)."""
    from jaxgen.data import standardize_columns

    X_std, _, _ = standardize_columns(d.X)
    W = np.column_stack([unit_scale_covariates(d.covariates), X_std])
    n = d.Y.shape[0]
    return h2 * d.kinship + (1 - h2) * np.eye(n) + W @ np.diag(prior_var) @ W.T


def collapsed_params(data):
    m, p, c = data.n_covariates, data.n_snps, data.Y.shape[1]
    return Params(Gamma=jnp.zeros((m, c)), B=jnp.zeros((p, c)), tau2=jnp.array([0.5, 0.1, 2.0]),
                  sigma2=jnp.array(1.1), h2=jnp.array(0.3), rho=jnp.array(0.5))


def test_sigma2_block_matches_its_collapsed_inverse_gamma_conditional(small_study):
    """σ² | ρ, τ², h², Y with θ integrated out, against the rate from the dense marginal covariance."""
    d, data = small_study
    params, priors = collapsed_params(data), Priors()
    posterior = coefficient_posterior(params, data, priors)
    draws = np.asarray(jax.vmap(lambda k: draw_sigma2(k, params, posterior, data, priors).sigma2)(
        jax.random.split(jax.random.key(1), 20_000)))
    prior_var = np.r_[np.full(data.n_covariates, priors.gamma_variance), np.asarray(params.tau2)]
    Sigma = marginal_row_covariance(d, 0.3, prior_var)
    Q = np.diag(d.adjacency.sum(1)) - 0.5 * d.adjacency
    n, c = d.Y.shape
    shape = priors.sigma_shape + 0.5 * n * c
    rate = priors.sigma_rate + 0.5 * np.trace(Q @ d.Y.T @ np.linalg.solve(Sigma, d.Y))
    assert stats.kstest(draws, stats.invgamma(shape, scale=rate).cdf).pvalue > 1e-3


def test_rho_block_samples_its_collapsed_conditional(small_study):
    """2000 chains of 40 ρ updates with θ integrated out follow the density in ρ of the dense
    marginal Gaussian vec(Y) ~ N(0, σ²Q(ρ)⁻¹ ⊗ Σ), normalized on a grid."""
    d, data = small_study
    params, priors = collapsed_params(data), Priors()
    posterior = coefficient_posterior(params, data, priors)

    def chain(key):
        def step(rho, k):
            return draw_rho(k, params._replace(rho=rho), posterior, data, priors).rho, None
        return jax.lax.scan(step, jnp.array(0.5), jax.random.split(key, 40))[0]

    draws = np.asarray(jax.vmap(chain)(jax.random.split(jax.random.key(4), 2000)))
    prior_var = np.r_[np.full(data.n_covariates, priors.gamma_variance), np.asarray(params.tau2)]
    Sigma = marginal_row_covariance(d, 0.3, prior_var)
    _, logdet_sigma = np.linalg.slogdet(Sigma)
    S = d.Y.T @ np.linalg.solve(Sigma, d.Y)
    n = d.Y.shape[0]

    def log_density(rho):  # the dense Gaussian log-likelihood of vec(Y) as a function of ρ
        Q = np.diag(d.adjacency.sum(1)) - rho * d.adjacency
        return 0.5 * n * np.linalg.slogdet(Q)[1] - 0.5 * np.trace(Q @ S) / 1.1

    grid = np.linspace(0.0, priors.rho_max, 4001)
    log_pdf = np.array([log_density(r) for r in grid])
    pdf = np.exp(log_pdf - log_pdf.max())
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid))])
    cdf /= cdf[-1]
    assert stats.kstest(draws, lambda x: np.interp(x, grid, cdf)).pvalue > 1e-3


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
