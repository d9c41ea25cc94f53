"""SNP–QT association statistics from a fitted posterior, calibrated under the null.

The plain z = E[b_jk]/sd[b_jk] inherits the prior's shrinkage and is conservative under the null.
jaxgen uses a *shrinkage-adjusted conditional score* instead. Given the hyperparameters, the
posterior mean of θ = [Γ; B] is a linear smoother of the rotated QTs, θ̂ = SỸ with
S = P⁻¹W̃ᵀD⁻¹ (the same for every QT column). The score of SNP j on QT k, conditional on the
other SNPs' fitted effects, is

    N_jk = x*_jᵀD⁻¹(ỹ_k − X̃_{−j} b̂_{−j,k}) = a_jᵀ ỹ_k,
    a_j = D⁻¹x*_j − S_Bᵀ(X̃ᵀD⁻¹x*_j) + (x*_jᵀD⁻¹x̃_j) S_jᵀ,

where x*_j = x̃_j − C̃(C̃ᵀD⁻¹C̃)⁻¹C̃ᵀD⁻¹x̃_j is SNP j adjusted for the covariates (so Γ cancels) and
S_B are the SNP rows of S. Under b_j = 0 the rows of Ỹ have covariance σ²d_iQ(ρ)⁻¹, so N_jk is
exactly N(0, σ²[Q⁻¹]_kk · a_jᵀDa_j) whatever the other effects. This variance carries the
estimation noise of SNPs in LD with j, in both directions. Hence

    z_jk = a_jᵀỹ_k / sqrt(σ² [Q(ρ)⁻¹]_kk a_jᵀDa_j),     p = 2Φ(−|z_jk|) (kept in log form),

with h², ρ and the prior precisions E[1/τ_j²] at their posterior means from the MCMC draws. σ² is
the residual variance of the same smoother, unbiased given those: with F = W̃ᵀD⁻¹W̃, P = F + prior
precisions and E = Ỹ − W̃θ̂,

    σ̂² = Σ_i e_iᵀQ(ρ)e_i / d_i  /  (c · (n − 2 tr(P⁻¹F) + tr((P⁻¹F)²))).

(The posterior mean of σ² is biased low under the null here. B's prior is scaled by σ² too, and
with many near-null SNPs the posterior trades σ² against τ². The plug-in above keeps the null
distribution exact.)
SNP-level tests combine these over QTs with the Cauchy combination test, which is valid under
their dependence. Calibration under the null is checked by the tests and by the study in
benchmarks/.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve

from jaxgen.graphs.car import car_precision

from jaxgen.lmm.data import LMMData
from jaxgen.lmm.model import car_quadratic
from jaxgen.lmm.priors import Priors

__all__ = ["conditional_scores"]

_HIGHEST = jax.lax.Precision.HIGHEST


def _mm(a, b):
    return jnp.matmul(a, b, precision=_HIGHEST)


@jax.jit
def conditional_scores(draws: dict, data: LMMData, priors: Priors = Priors()):
    """Shrinkage-adjusted conditional score statistics z (p, c) from posterior draws.

    draws : latent sites, each (chains, draws, ...); the hyperparameters enter through their
    posterior means.
    """
    m = data.n_covariates
    n, c = data.Y.shape
    h2 = jnp.mean(draws["h2"]) if "h2" in draws else 0.0
    rho = jnp.mean(draws["rho"])
    prior_precision = jnp.concatenate([jnp.full((m,), 1.0 / priors.gamma_variance, data.Y.dtype),
                                       jnp.mean(1.0 / draws["tau2"], axis=(0, 1))])
    inv_d = 1.0 / data.row_scales(h2)
    W, C, X = data.W, data.W[:, :m], data.W[:, m:]
    Q = car_precision(data.adjacency, rho)

    Wd = W * inv_d[:, None]
    F = _mm(W.T, Wd)
    P_factor = cho_factor(F + jnp.diag(prior_precision))
    P_inv_F = cho_solve(P_factor, F)
    smoother = cho_solve(P_factor, Wd.T)  # S (m + p, n)
    residual = data.Y - _mm(W, _mm(smoother, data.Y))
    residual_dof = n - 2 * jnp.trace(P_inv_F) + jnp.sum(P_inv_F * P_inv_F.T)
    sigma2 = car_quadratic(residual, inv_d, data.adjacency, data.car.degrees, rho) / (c * residual_dof)

    S_B = smoother[m:]
    Cd = C * inv_d[:, None]
    X_adj = X - C @ jnp.linalg.solve(_mm(C.T, Cd), _mm(Cd.T, X))  # x*_j, (n, p)
    Xd = X_adj * inv_d[:, None]
    cross = _mm(Xd.T, X)  # x*_jᵀD⁻¹x̃_l, (p, p); its diagonal is x*_jᵀD⁻¹x*_j
    A = Xd - _mm(S_B.T, (cross - jnp.diag(jnp.diag(cross))).T)  # a_j, (n, p)
    numerator = _mm(A.T, data.Y)  # (p, c)
    row_variance = jnp.sum(A * A / inv_d[:, None], axis=0)  # a_jᵀDa_j, (p,)
    column_variance = sigma2 * jnp.diag(jnp.linalg.inv(Q))  # σ²[Q⁻¹]_kk, (c,)
    return numerator / jnp.sqrt(row_variance[:, None] * column_variance[None, :])
