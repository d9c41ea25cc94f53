"""The spatial-correlated multitask LMM as a NumPyro model: the single source of truth.

Rotated data (see :mod:`jaxgen.lmm.data`): rows ỹ_i of Ỹ (n, c), rows w̃_i of W̃ = [C̃, X̃] (n, m + p).

    ρ ~ Uniform(0, ρ_max),  σ² ~ InvGamma(a_σ, b_σ),  h² ~ Uniform(0, 1) (with kinship only)
    τ_j² ~ InvGamma(a_τ, b_τ)                              j = 1..p
    Γ_l ~ N(0, σ² g² Q(ρ)⁻¹)                                covariate rows l = 1..m
    B_j ~ N(0, σ² τ_j² Q(ρ)⁻¹)                              SNP rows j = 1..p
    ỹ_i ~ N(Γᵀc̃_i + Bᵀx̃_i, σ² d_i Q(ρ)⁻¹),  d_i = h²λ_i + 1 − h²

with Q(ρ) = D_A − ρA. Every matrix-normal term above is a :class:`MatrixNormalCAR`, whose density
costs O(rows·c²) with log|Q(ρ)| from the CAR spectrum (no Cholesky), so NUTS is as fast as it can be.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints

from jaxgen.graphs.car import CARSpectrum
from jaxgen.lmm.data import LMMData
from jaxgen.lmm.priors import Priors

__all__ = ["MatrixNormalCAR", "car_quadratic", "observation_distribution", "row_log_density",
           "spatial_lmm_model"]


def car_quadratic(rows, row_weights, adjacency, degrees, rho):
    """Σ_i w_i r_iᵀ Q(ρ) r_i for rows r_i (rows, c) and weights (rows,), as one weighted sum."""
    weighted = rows * row_weights[:, None]
    return jnp.sum(weighted * rows * degrees) - rho * jnp.sum(weighted * (rows @ adjacency))


class MatrixNormalCAR(dist.Distribution):
    """Independent rows r_i ~ N(loc_i, σ² s_i Q(ρ)⁻¹), Q(ρ) = D_A − ρA.

    loc : (rows, c); row_scale : (rows,) positive s_i; sigma2, rho : scalars; adjacency : (c, c);
    car : CARSpectrum of the adjacency. Event shape (rows, c).
    """

    arg_constraints = {"loc": constraints.real_matrix, "row_scale": constraints.positive,
                       "sigma2": constraints.positive}
    support = constraints.real_matrix
    reparametrized_params = ["loc"]

    def __init__(self, loc, row_scale, sigma2, rho, adjacency, car: CARSpectrum, *, validate_args=None):
        self.loc, self.row_scale, self.sigma2, self.rho = loc, row_scale, sigma2, rho
        self.adjacency, self.car = adjacency, car
        super().__init__(batch_shape=(), event_shape=jnp.shape(loc), validate_args=validate_args)

    def sample(self, key, sample_shape=()):
        z = jax.random.normal(key, tuple(sample_shape) + self.event_shape, self.loc.dtype)
        scale = jnp.sqrt(self.sigma2 * self.row_scale)[:, None]
        return self.loc + scale * self.car.correlated_rows(z, self.rho)

    def log_prob(self, value):
        rows, c = self.event_shape
        quad = car_quadratic(value - self.loc, 1.0 / self.row_scale, self.adjacency, self.car.degrees, self.rho)
        return (-0.5 * rows * c * jnp.log(2 * jnp.pi * self.sigma2)
                - 0.5 * c * jnp.sum(jnp.log(self.row_scale))
                + 0.5 * rows * self.car.logdet(self.rho)
                - 0.5 * quad / self.sigma2)

    def row_log_prob(self, value):
        """The log density of each row (rows,), a c-variate normal: the terms of :meth:`log_prob`."""
        degree, adjacent = self.car.row_forms(self.car.rotate(value - self.loc))
        return row_log_density(degree - self.rho * adjacent, self.row_scale, self.sigma2, self.rho, self.car)


def row_log_density(row_forms, row_scale, sigma2, rho, car: CARSpectrum):
    """log N(r_i; 0, σ² s_i Q(ρ)⁻¹) of rows r_i (rows,) given their forms r_iᵀQ(ρ)r_i (rows,) and scales s_i."""
    c = car.degrees.shape[0]
    return (-0.5 * c * jnp.log(2 * jnp.pi * sigma2 * row_scale) + 0.5 * car.logdet(rho)
            - 0.5 * row_forms / (sigma2 * row_scale))


def spatial_lmm_model(data: LMMData, priors: Priors = Priors()):
    """NumPyro model of the spatial multitask LMM (see the module docstring).

    Sites: ``rho``, ``sigma2``, ``h2`` (with kinship), ``tau2`` (p,), ``Gamma`` (m, c), ``B`` (p, c),
    and the observed ``Y``.
    """
    m, p = data.n_covariates, data.n_snps
    c = data.Y.shape[1]
    dtype = data.Y.dtype
    rho = numpyro.sample("rho", dist.Uniform(jnp.zeros((), dtype), priors.rho_max))
    sigma2 = numpyro.sample("sigma2", dist.InverseGamma(jnp.asarray(priors.sigma_shape, dtype), priors.sigma_rate))
    h2 = numpyro.sample("h2", dist.Uniform(jnp.zeros((), dtype), 1.0)) if data.has_kinship else 0.0
    tau2 = numpyro.sample("tau2", dist.InverseGamma(jnp.asarray(priors.tau_shape, dtype), priors.tau_rate).expand([p]))

    def car_rows(loc, row_scale):
        return MatrixNormalCAR(loc, row_scale, sigma2, rho, data.adjacency, data.car)

    Gamma = numpyro.sample("Gamma", car_rows(jnp.zeros((m, c), dtype), jnp.full((m,), priors.gamma_variance, dtype)))
    B = numpyro.sample("B", car_rows(jnp.zeros((p, c), dtype), tau2))
    numpyro.sample("Y", observation_distribution(data, Gamma, B, sigma2, h2, rho), obs=data.Y)


def observation_distribution(data: LMMData, Gamma, B, sigma2, h2, rho) -> MatrixNormalCAR:
    """The law of the rotated rows given the parameters: ỹ_i ~ N(Γᵀc̃_i + Bᵀx̃_i, σ² d_i(h²) Q(ρ)⁻¹)."""
    m = data.n_covariates
    mean = data.W[:, :m] @ Gamma + data.W[:, m:] @ B
    return MatrixNormalCAR(mean, data.row_scales(h2), sigma2, rho, data.adjacency, data.car)
