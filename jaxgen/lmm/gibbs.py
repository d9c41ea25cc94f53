"""Blocked Gibbs sampler of the spatial LMM: pure block updates, their composition, a NumPyro kernel.

Conditionals (derived from :func:`jaxgen.lmm.model.spatial_lmm_model`; θ = [Γ; B], (m + p, c)):

* θ | · ~ MN(P⁻¹W̃ᵀD⁻¹Ỹ, P⁻¹, σ²Q(ρ)⁻¹), P = W̃ᵀD⁻¹W̃ + diag(1/v), v = (g², …, g², τ₁², …, τ_p²),
  D = diag(d_i(h²)); one Cholesky of P and one of Q.
* τ_j² | · ~ InvGamma(a_τ + c/2, b_τ + b_jᵀQb_j / (2σ²)).
* σ² | · ~ InvGamma(a_σ + (n + m + p)c/2, b_σ + ½[Σ_i r_iᵀQr_i/d_i + Σ_l θ_lᵀQθ_l/v_l]).
* h² | · ∝ Π_i d_i^{-c/2} exp(−r_iᵀQr_i / (2σ²d_i)) on (0, 1): slice sampling, O(n) per evaluation.
* ρ | · ∝ |Q(ρ)|^{(n+m+p)/2} exp(−(S_D − ρS_A)/(2σ²)) on (0, ρ_max): slice sampling, O(c) per
  evaluation (log|Q(ρ)| from the CAR spectrum; the quadratic form is linear in ρ).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_solve, solve_triangular
from numpyro.infer.mcmc import MCMCKernel
from numpyro.util import is_prng_key

from jaxgen.graphs.car import car_correlated_columns, car_precision
from jaxgen.lmm.data import LMMData
from jaxgen.lmm.model import spatial_lmm_model
from jaxgen.lmm.priors import Priors
from jaxgen.lmm.slice import slice_sample_bounded

__all__ = ["GibbsState", "Params", "QuadraticForms", "SpatialGibbs", "gibbs_sweep", "init_params", "quadratic_forms"]

_HIGHEST = jax.lax.Precision.HIGHEST


class Params(NamedTuple):
    """One point of the chain: Gamma (m, c), B (p, c), tau2 (p,), sigma2, h2, rho (scalars)."""

    Gamma: jnp.ndarray
    B: jnp.ndarray
    tau2: jnp.ndarray
    sigma2: jnp.ndarray
    h2: jnp.ndarray
    rho: jnp.ndarray

    def sites(self, has_kinship: bool) -> dict:
        """The model's latent sites as a dict (``h2`` only with kinship)."""
        sites = self._asdict()
        if not has_kinship:
            del sites["h2"]
        return sites


class GibbsState(NamedTuple):
    """Kernel state: ``z`` the latent sites (dict), ``rng_key``."""

    z: dict
    rng_key: jnp.ndarray


def init_params(key, data: LMMData, priors: Priors) -> Params:
    """Dispersed starting values: ρ, h² uniform, σ² around the data scale, τ² from its prior."""
    k_rho, k_h2, k_sigma, k_tau = jax.random.split(key, 4)
    dtype = data.Y.dtype
    m, p, c = data.n_covariates, data.n_snps, data.Y.shape[1]
    scale = jnp.mean(jnp.var(data.Y, axis=0)) * jnp.mean(data.car.degrees)
    return Params(
        Gamma=jnp.zeros((m, c), dtype),
        B=jnp.zeros((p, c), dtype),
        tau2=priors.tau_rate / jax.random.gamma(k_tau, priors.tau_shape, (p,), dtype),
        sigma2=scale * jnp.exp(0.5 * jax.random.normal(k_sigma, (), dtype)),
        h2=jax.random.uniform(k_h2, (), dtype, 0.05, 0.95) if data.has_kinship else jnp.zeros((), dtype),
        rho=jax.random.uniform(k_rho, (), dtype, 0.05, 0.95) * priors.rho_max,
    )


def _theta(params: Params):
    return jnp.concatenate([params.Gamma, params.B], axis=0)


def _prior_variances(params: Params, priors: Priors, m: int):
    """v (m + p,): g² for covariate rows, τ_j² for SNP rows."""
    return jnp.concatenate([jnp.full((m,), priors.gamma_variance, params.tau2.dtype), params.tau2])


class QuadraticForms(NamedTuple):
    """Row-wise CAR quadratic forms r_iᵀQ(ρ)r_i = degree_i − ρ·adjacent_i, kept in two parts so that
    they hold for every ρ; computed once per sweep from θ (no later block changes θ).

    residual_degree, residual_adjacent : (n,) r_iᵀD_Ar_i and r_iᵀAr_i for the rows of Ỹ − W̃θ.
    theta_degree, theta_adjacent : (m + p,) the same for the rows of θ = [Γ; B].
    """

    residual_degree: jnp.ndarray
    residual_adjacent: jnp.ndarray
    theta_degree: jnp.ndarray
    theta_adjacent: jnp.ndarray

    def residual(self, rho):
        """r_iᵀQ(ρ)r_i (n,)."""
        return self.residual_degree - rho * self.residual_adjacent

    def theta(self, rho):
        """θ_lᵀQ(ρ)θ_l (m + p,)."""
        return self.theta_degree - rho * self.theta_adjacent


def quadratic_forms(params: Params, data: LMMData) -> QuadraticForms:
    """The residual and coefficient rows' quadratic forms, in one pass over the stacked rows."""
    n = data.Y.shape[0]
    theta = _theta(params)
    residual = data.Y - jnp.matmul(data.W, theta, precision=_HIGHEST)
    rows = jnp.concatenate([residual, theta], axis=0)                    # (n + m + p, c)
    degree = jnp.matmul(rows * rows, data.car.degrees, precision=_HIGHEST)
    adjacent = jnp.sum(rows * jnp.matmul(rows, data.adjacency, precision=_HIGHEST), axis=-1)
    return QuadraticForms(degree[:n], adjacent[:n], degree[n:], adjacent[n:])


def draw_coefficients(key, params: Params, data: LMMData, priors: Priors) -> Params:
    """θ = [Γ; B] jointly from its matrix-normal conditional MN(P⁻¹W̃ᵀD⁻¹Ỹ, P⁻¹, σ²Q(ρ)⁻¹).

    With P = LLᵀ and Q = RRᵀ: θ = L⁻ᵀ(L⁻¹W̃ᵀD⁻¹Ỹ + σZR⁻¹), Z (m + p, c) iid N(0, 1); one product
    gives P and W̃ᵀD⁻¹Ỹ together, and two triangular solves with L give the mean and the noise.
    """
    k = data.W.shape[1]
    inv_d = 1.0 / data.row_scales(params.h2)
    weighted = jnp.concatenate([data.W, data.Y], axis=1) * inv_d[:, None]
    gram = jnp.matmul(data.W.T, weighted, precision=_HIGHEST)            # (k, k + c)
    P = gram[:, :k] + jnp.diag(1.0 / _prior_variances(params, priors, data.n_covariates))
    jitter = jnp.finfo(P.dtype).eps * 16 * jnp.mean(jnp.diag(P))
    L = jnp.linalg.cholesky(P + jitter * jnp.eye(k, dtype=P.dtype))
    z = jax.random.normal(key, (k, data.Y.shape[1]), P.dtype)
    noise = car_correlated_columns(z, car_precision(data.adjacency, params.rho))  # rows of ZR⁻¹
    half = solve_triangular(L, gram[:, k:], lower=True) + jnp.sqrt(params.sigma2) * noise
    theta = solve_triangular(L, half, trans="T", lower=True)
    return params._replace(Gamma=theta[:data.n_covariates], B=theta[data.n_covariates:])


def draw_tau2(key, params: Params, forms: QuadraticForms, data: LMMData, priors: Priors) -> Params:
    """τ_j² from InvGamma(a_τ + c/2, b_τ + b_jᵀQb_j/(2σ²)), all j at once."""
    c = data.Y.shape[1]
    quad = forms.theta(params.rho)[data.n_covariates:]
    rate = priors.tau_rate + 0.5 * quad / params.sigma2
    return params._replace(tau2=rate / jax.random.gamma(key, priors.tau_shape + 0.5 * c, rate.shape, rate.dtype))


def draw_sigma2(key, params: Params, forms: QuadraticForms, data: LMMData, priors: Priors) -> Params:
    """σ² from its inverse-gamma conditional (likelihood and both coefficient priors)."""
    n, c = data.Y.shape
    k = data.W.shape[1]
    inv_d = 1.0 / data.row_scales(params.h2)
    inv_v = 1.0 / _prior_variances(params, priors, data.n_covariates)
    quad = jnp.sum(forms.residual(params.rho) * inv_d) + jnp.sum(forms.theta(params.rho) * inv_v)
    shape = priors.sigma_shape + 0.5 * (n + k) * c
    rate = priors.sigma_rate + 0.5 * quad
    return params._replace(sigma2=rate / jax.random.gamma(key, shape, (), rate.dtype))


def draw_h2(key, params: Params, forms: QuadraticForms, data: LMMData) -> Params:
    """h² by slice sampling its exact conditional on (0, 1), O(n) per evaluation; a no-op without kinship."""
    if not data.has_kinship:
        return params
    c = data.Y.shape[1]
    row_quad = forms.residual(params.rho)

    def log_density(h2):
        d = data.row_scales(h2)
        return -0.5 * c * jnp.sum(jnp.log(d)) - 0.5 * jnp.sum(row_quad / d) / params.sigma2

    return params._replace(h2=slice_sample_bounded(key, params.h2, log_density, 0.0, 1.0))


def draw_rho(key, params: Params, forms: QuadraticForms, data: LMMData, priors: Priors) -> Params:
    """ρ by slice sampling its exact conditional on (0, ρ_max); O(c) per density evaluation."""
    inv_d = 1.0 / data.row_scales(params.h2)
    inv_v = 1.0 / _prior_variances(params, priors, data.n_covariates)
    s_degree = jnp.sum(forms.residual_degree * inv_d) + jnp.sum(forms.theta_degree * inv_v)
    s_adjacent = jnp.sum(forms.residual_adjacent * inv_d) + jnp.sum(forms.theta_adjacent * inv_v)
    n_rows = data.Y.shape[0] + data.W.shape[1]

    def log_density(rho):
        return 0.5 * n_rows * data.car.logdet(rho) - 0.5 * (s_degree - rho * s_adjacent) / params.sigma2

    return params._replace(rho=slice_sample_bounded(key, params.rho, log_density, 0.0, priors.rho_max))


def gibbs_sweep(key, params: Params, data: LMMData, priors: Priors) -> Params:
    """One systematic-scan sweep: θ, τ², σ², h², ρ, each from its full conditional.

    θ is drawn first; the quadratic forms its rows and residuals enter are then computed once and
    shared by the four scalar/vector blocks, which never change θ.
    """
    k_theta, k_tau, k_sigma, k_h2, k_rho = jax.random.split(key, 5)
    params = draw_coefficients(k_theta, params, data, priors)
    forms = quadratic_forms(params, data)
    params = draw_tau2(k_tau, params, forms, data, priors)
    params = draw_sigma2(k_sigma, params, forms, data, priors)
    params = draw_h2(k_h2, params, forms, data)
    return draw_rho(k_rho, params, forms, data, priors)


class SpatialGibbs(MCMCKernel):
    """NumPyro ``MCMCKernel`` running :func:`gibbs_sweep` for :func:`spatial_lmm_model`.

    Use as ``MCMC(SpatialGibbs(), ...).run(key, data, priors)`` with ``data`` from
    :func:`jaxgen.lmm.prepare_data`; ``chain_method="vectorized"`` vmaps the chains. The kernel reads
    the priors from the model's own arguments, so the conditionals use the model's hyperparameters.
    """

    sample_field = "z"

    def __init__(self, model=spatial_lmm_model):
        if model is not spatial_lmm_model:
            raise ValueError("SpatialGibbs samples jaxgen.lmm.spatial_lmm_model only; "
                             "use NUTS for other models")
        self._model = model
        self._sample_fn = None

    @property
    def model(self):
        return self._model

    @staticmethod
    def _bind(model_args, model_kwargs):
        """(data, priors) from the model's call arguments."""
        model_kwargs = model_kwargs or {}
        args = list(model_args) + [None] * (2 - len(model_args))
        data = model_kwargs.get("data", args[0])
        priors = model_kwargs.get("priors", args[1]) or Priors()
        if not isinstance(data, LMMData):
            raise ValueError("SpatialGibbs needs the model's data argument: an LMMData from prepare_data")
        return data, priors

    def init(self, rng_key, num_warmup, init_params, model_args, model_kwargs):
        data, priors = self._bind(model_args, model_kwargs)
        has_kinship = data.has_kinship

        def init_one(key):
            key, sub = jax.random.split(key)
            params = init_params_from(sub, init_params, data, priors)
            return GibbsState(params.sites(has_kinship), key)

        def sample_one(state, data, priors):
            key, sub = jax.random.split(state.rng_key)
            params = gibbs_sweep(sub, params_from_sites(state.z), data, priors)
            return GibbsState(params.sites(data.has_kinship), key)

        if is_prng_key(rng_key):
            self._sample_fn = sample_one
            return init_one(rng_key)
        self._sample_fn = jax.vmap(sample_one, in_axes=(0, None, None))
        return jax.vmap(init_one)(rng_key)

    def sample(self, state, model_args, model_kwargs):
        data, priors = self._bind(model_args, model_kwargs)
        return self._sample_fn(state, data, priors)


def params_from_sites(sites: dict) -> Params:
    """Params from a dict of latent sites (``h2`` absent means 0)."""
    return Params(**{"h2": jnp.zeros_like(sites["rho"]), **sites})


def init_params_from(key, user_params, data: LMMData, priors: Priors) -> Params:
    """Starting point: dispersed random values, overridden by any sites the user gives."""
    params = init_params(key, data, priors)
    if user_params:
        params = params._replace(**{k: jnp.asarray(v, data.Y.dtype) for k, v in user_params.items()})
    return params
