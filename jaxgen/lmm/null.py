"""The null model of the SNP tests: covariates + kinship + correlation between regions, no SNP effects.

Fitted once (NumPy, float64), then every SNP is tested against it (:mod:`jaxgen.lmm.scores`). In the
kinship-rotated basis (:mod:`jaxgen.lmm.data`) the rows of Ỹ are independent, and region k's value for
subject i has variance v_ik = σ²_k d_ik with d_ik = h²_k λ_i + 1 − h²_k. Two ways to fit:

``heritability="per-region"`` (the default)
    Each region gets its own (h²_k, σ²_k, γ_k) by exact REML of the univariate LMM
    y_k ~ N(Cγ_k, σ²_k(h²_k K + (1 − h²_k) I)), the model of GEMMA's or GCTA's per-trait REML. Real
    cortical measures differ in heritability (0.1 to 0.6), and a test that plugs in one shared h²
    under-corrects the most heritable regions. The correlation between regions is then estimated from
    the whitened residuals ε_ik = r_ik / √v_ik: ρ by maximum likelihood under the CAR correlation
    R(ρ) = corr(Q(ρ)⁻¹), Q(ρ) = D_A − ρA, and an empirical correlation shrunk towards the identity
    (Schäfer & Strimmer 2005).

``heritability="shared"``
    The seed's separable model: ỹ_i ~ N(Γᵀc̃_i, σ² d_i Q(ρ)⁻¹) with one h². Given h², Γ̂ is GLS and
    does not depend on ρ, σ² profiles out, and log|Q(ρ)| comes from the CAR spectrum, so exact REML
    (or ML) over (h², ρ) costs O(n·m·c + n·c²) per h² and O(c) per ρ. Then σ²_k = σ²[Q(ρ̂)⁻¹]_kk.

Both maximizations are one-dimensional and bounded: a grid, then golden-section search around its best
point (vectorized over regions), which also finds maxima on the boundary (h² = 0 for unrelated subjects).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.lmm.data import LMMData

__all__ = ["NullModel", "fit_null_model", "separable_loglik", "region_loglik"]

H2_MAX = 1.0 - 1e-5  # d_i = h²λ_i + 1 − h² stays positive when the kinship is singular (GCTA/GEMMA bound alike)
RHO_MAX = 0.999
_GRID = 41
_GOLDEN_STEPS = 60


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class NullModel:
    """A fitted null model, in the kinship-rotated basis, as the score tests read it (a pytree).

    h2, sigma2 : (c,) per-region heritability and variance scale: v_ik = σ²_k (h²_k λ_i + 1 − h²_k).
    rho : CAR correlation parameter; spatial_correlation : (c, c) R(ρ̂) = corr(Q(ρ̂)⁻¹).
    empirical_correlation : (c, c) shrunk correlation of the whitened residuals; shrinkage : its weight
        on the identity.
    inverse_variance : (n, c) 1 / v_ik; weighted_residual : (n, c) r_ik / v_ik with r the GLS residual.
    covariates : (n, m) rotated covariates C̃; information_inverse : (c, m, m) (C̃ᵀV_k⁻¹C̃)⁻¹.
    gamma : (m, c) GLS covariate effects. loglik : the maximized (restricted) log-likelihood.
    heritability, method : how it was fitted (static).
    """

    h2: jnp.ndarray
    sigma2: jnp.ndarray
    rho: jnp.ndarray
    spatial_correlation: jnp.ndarray
    empirical_correlation: jnp.ndarray
    shrinkage: jnp.ndarray
    inverse_variance: jnp.ndarray
    weighted_residual: jnp.ndarray
    covariates: jnp.ndarray
    information_inverse: jnp.ndarray
    gamma: jnp.ndarray
    loglik: jnp.ndarray
    heritability: str = field(default="per-region", metadata={"static": True})
    method: str = field(default="reml", metadata={"static": True})

    @property
    def heritability_differs(self) -> bool:
        """Whether the regions' row scales differ (then z's correlation depends on the SNP)."""
        return self.heritability == "per-region"

    def summary(self, region_names=None) -> dict:
        """Plain-Python estimates for logs and reports."""
        names = region_names or [f"region{k}" for k in range(len(self.h2))]
        return {"heritability": self.heritability, "method": self.method, "rho": float(self.rho),
                "shrinkage": float(self.shrinkage), "loglik": float(self.loglik),
                "h2": dict(zip(names, map(float, self.h2))), "sigma2": dict(zip(names, map(float, self.sigma2)))}


def fit_null_model(data: LMMData, *, heritability: str = "per-region", method: str = "reml") -> NullModel:
    """Fit the null model to a prepared study (its SNP columns are ignored).

    data : :class:`LMMData` (rotated QTs (n, c), covariates, kinship eigenvalues, CAR spectrum).
    heritability : "per-region" (h²_k per region) or "shared" (the seed's separable model).
    method : "reml" (default) or "ml".
    """
    if heritability not in ("per-region", "shared"):
        raise ValueError(f"heritability must be 'per-region' or 'shared', got {heritability!r}")
    if method not in ("reml", "ml"):
        raise ValueError(f"method must be 'reml' or 'ml', got {method!r}")
    m = data.n_covariates
    Y = np.asarray(data.Y, float)
    C = np.asarray(data.W[:, :m], float)
    lam = None if data.kinship_eigenvalues is None else np.asarray(data.kinship_eigenvalues, float)
    car = tuple(np.asarray(a, float) for a in data.car)
    A = np.asarray(data.adjacency, float)
    reml = method == "reml"
    n, c = Y.shape
    if n - m < 2:
        raise ValueError(f"{n} subjects and {m} covariates leave no degrees of freedom for the null model")

    if heritability == "shared":
        h2, rho, sigma2, loglik = _fit_separable(Y, C, lam, car, A, reml)
        q_inv = _car_covariance(car, rho)
        h2 = np.full(c, h2)
        sigma2 = sigma2 * np.diag(q_inv)
    else:
        h2 = (np.zeros(c) if lam is None else
              _maximize(lambda h: region_loglik(h, Y, C, lam, reml)[0], np.zeros(c), np.full(c, H2_MAX)))
        loglik_k, _, sigma2 = region_loglik(h2, Y, C, lam, reml)
        loglik = float(np.sum(loglik_k))

    d = _row_scales(h2, lam, n)
    gamma, residual, information = _gls(Y, C, 1.0 / d)
    inverse_variance = 1.0 / (d * sigma2)
    whitened = residual * np.sqrt(inverse_variance)
    scatter = whitened.T @ whitened
    if heritability == "per-region":
        rho = float(_maximize(lambda r: _correlation_loglik(r, scatter, n - m, car, A), np.zeros(1),
                              np.full(1, RHO_MAX))[0])
    empirical, shrinkage = _shrunk_correlation(whitened)
    dtype = data.Y.dtype
    arrays = dict(h2=h2, sigma2=sigma2, rho=np.asarray(rho), spatial_correlation=_car_correlation(car, rho),
                  empirical_correlation=empirical, shrinkage=np.asarray(shrinkage),
                  inverse_variance=inverse_variance, weighted_residual=residual * inverse_variance,
                  covariates=C, information_inverse=np.linalg.inv(information) * sigma2[:, None, None],
                  gamma=gamma, loglik=np.asarray(loglik))
    return NullModel(**{k: jnp.asarray(v, dtype) for k, v in arrays.items()}, heritability=heritability,
                     method=method)


def region_loglik(h2, Y, C, lam, reml=True):
    """Profiled (restricted) log-likelihood of each region's univariate LMM at heritabilities h2.

    h2 : (c,) one value per region (or (k, c) for k candidates each); Y : (n, c); C : (n, m);
    lam : (n,) kinship eigenvalues or None. Returns (loglik (…, c), gamma (…, c, m), sigma2 (…, c)).
    """
    n, m = C.shape
    h2 = np.asarray(h2, float)
    d = _row_scales(h2[..., None, :], lam, n)  # (…, n, c)
    w = 1.0 / d
    information = np.einsum("im,...ik,il->...kml", C, w, C)
    gamma = np.linalg.solve(information, np.einsum("im,...ik->...km", C, Y * w)[..., None])[..., 0]
    residual = Y - np.einsum("im,...km->...ik", C, gamma)
    dof = n - m if reml else n
    sigma2 = np.sum(residual * residual * w, axis=-2) / dof
    loglik = -0.5 * (dof * (np.log(2 * np.pi * sigma2) + 1.0) + np.sum(np.log(d), axis=-2))
    if reml:
        loglik = loglik - 0.5 * (np.linalg.slogdet(information)[1] - np.linalg.slogdet(C.T @ C)[1])
    return loglik, gamma, sigma2


def separable_loglik(h2, rho, Y, C, lam, car, A, reml=True):
    """Profiled (restricted) log-likelihood of the separable model at h² and each ρ, σ² at its maximum.

    h2 : scalar; rho : scalar or (k,); Y : (n, c); C : (n, m); lam : (n,) or None;
    car : (degrees, eigenvalues, eigenvectors); A : (c, c). Returns (loglik, σ̂²), shaped like rho.
    """
    return _separable_profile(_separable_parts(h2, Y, C, lam, reml), rho, car, A)


def _separable_parts(h2, Y, C, lam, reml):
    """What the separable likelihood needs from h² alone: (S = EᵀD⁻¹E (c, c), dof, the terms free of ρ).

    E is the GLS residual given h²; the ρ-free terms are c·Σ log d_i (+ c·log|C̃ᵀD⁻¹C̃| − c·log|CᵀC| for REML).
    """
    n, m = C.shape
    c = Y.shape[1]
    d = _row_scales(np.asarray(h2, float), lam, n)
    _, residual, information = _gls(Y, C, 1.0 / d)
    scatter = residual.T @ (residual / d[:, None])
    constant = c * np.sum(np.log(d))
    if reml:
        constant += c * (np.linalg.slogdet(information)[1] - np.linalg.slogdet(C.T @ C)[1])
    return scatter, (n - m if reml else n), constant


def _separable_profile(parts, rho, car, A):
    """(loglik, σ̂²) at each ρ from :func:`_separable_parts`: tr(Q(ρ)S) = tr(D_A S) − ρ tr(AS), O(c) per ρ."""
    scatter, dof, constant = parts
    degrees, omega, _ = car
    c = scatter.shape[0]
    rho = np.asarray(rho, float)
    sigma2 = (np.sum(degrees * np.diag(scatter)) - rho * np.sum(A * scatter)) / (dof * c)
    logdet_q = np.sum(np.log(degrees)) + np.sum(np.log1p(-np.multiply.outer(rho, omega)), axis=-1)
    loglik = -0.5 * (dof * c * (np.log(2 * np.pi * sigma2) + 1.0) - dof * logdet_q + constant)
    return loglik, sigma2


def _fit_separable(Y, C, lam, car, A, reml):
    """(h², ρ, σ², loglik) of the separable model: ρ maximized for each h², then h²."""
    def best_rho(parts):
        rho = _maximize(lambda r: _separable_profile(parts, r, car, A)[0], np.zeros(1), np.full(1, RHO_MAX))
        return float(rho[0])

    def profile(h2_candidates):
        values = []
        for h2 in h2_candidates:
            parts = _separable_parts(h2, Y, C, lam, reml)
            values.append(_separable_profile(parts, best_rho(parts), car, A)[0])
        return np.array(values)

    h2 = 0.0 if lam is None else float(_maximize(profile, np.zeros(1), np.full(1, H2_MAX))[0])
    parts = _separable_parts(h2, Y, C, lam, reml)
    rho = best_rho(parts)
    loglik, sigma2 = _separable_profile(parts, rho, car, A)
    return h2, rho, float(sigma2), float(loglik)


def _gls(Y, C, w):
    """GLS of each column of Y (n, c) on C (n, m) with row weights w ((n, c), or (n,) shared by all).

    Returns gamma (m, c), residual (n, c) and the information C̃ᵀWC̃ ((c, m, m), or (m, m) when shared).
    """
    if w.ndim == 1:
        information = C.T @ (C * w[:, None])
        gamma = np.linalg.solve(information, (C * w[:, None]).T @ Y)
        return gamma, Y - C @ gamma, information
    information = np.einsum("im,ik,il->kml", C, w, C)
    gamma = np.linalg.solve(information, np.einsum("im,ik->km", C, Y * w)[..., None])[..., 0].T
    return gamma, Y - C @ gamma, information


def _row_scales(h2, lam, n):
    """d = h²λ + 1 − h², broadcasting h2 (…, 1 or c) against λ (n, 1); ones without kinship."""
    column = (n, 1) if np.ndim(h2) else (n,)
    if lam is None:
        return np.ones(np.broadcast_shapes(np.shape(h2), column))
    return h2 * lam.reshape(column) + (1.0 - h2)


def _car_covariance(car, rho):
    """Q(ρ)⁻¹ (c, c) from the CAR spectrum: D_A^{-1/2} V (I − ρΩ)⁻¹ Vᵀ D_A^{-1/2}."""
    degrees, omega, V = car
    T = V / np.sqrt(degrees)[:, None] / np.sqrt(1.0 - rho * omega)
    return T @ T.T


def _car_correlation(car, rho):
    """R(ρ) = corr(Q(ρ)⁻¹) (c, c)."""
    covariance = _car_covariance(car, rho)
    scale = np.sqrt(np.diag(covariance))
    return covariance / np.outer(scale, scale)


def _correlation_loglik(rho, scatter, count, car, A):
    """Gaussian log-likelihood of ``count`` rows with scatter matrix S (c, c) under R(ρ), per candidate ρ (k,).

    With q = diag(Q(ρ)⁻¹): log|R| = −log|Q| − Σ log q_k and R⁻¹ = diag(√q) Q diag(√q), all O(c²) per ρ.
    """
    degrees, omega, V = car
    out = []
    for r in np.atleast_1d(rho):
        q = np.sum(V * V / (1.0 - r * omega), axis=1) / degrees
        logdet_q = np.sum(np.log(degrees)) + np.sum(np.log1p(-r * omega))
        precision = (np.diag(degrees) - r * A) * np.sqrt(np.outer(q, q))
        out.append(-0.5 * (count * (-logdet_q - np.sum(np.log(q))) + np.sum(precision * scatter)))
    return np.array(out)


def _shrunk_correlation(whitened):
    """Correlation (c, c) of the columns of ``whitened`` (n, c), shrunk towards I by Schäfer & Strimmer's
    (2005) estimated optimal weight λ* = Σ_{k≠l} Var(r_kl) / Σ_{k≠l} r_kl². Returns (R, λ*)."""
    n = whitened.shape[0]
    z = (whitened - whitened.mean(axis=0)) / whitened.std(axis=0, ddof=1)
    products = z[:, :, None] * z[:, None, :]
    corr = products.sum(axis=0) / (n - 1)
    variance = n / (n - 1) ** 3 * np.sum((products - products.mean(axis=0)) ** 2, axis=0)
    off = ~np.eye(z.shape[1], dtype=bool)
    denominator = np.sum(corr[off] ** 2)
    weight = 1.0 if denominator == 0 else float(np.clip(np.sum(variance[off]) / denominator, 0.0, 1.0))
    shrunk = (1.0 - weight) * corr
    np.fill_diagonal(shrunk, 1.0)
    return shrunk, weight


def _maximize(f, lo, hi):
    """Maximize k independent bounded 1-D functions at once: f maps points (k,) to values (k,).

    A grid of 41 points, then 60 golden-section steps in the bracket around each best grid point
    (bracket shrinks by 0.618 per step: far below float64 resolution of the parameters at the end).
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    grid = lo + (hi - lo) * np.linspace(0.0, 1.0, _GRID)[:, None]  # (G, k)
    values = np.stack([f(g) for g in grid])
    best = np.argmax(values, axis=0)
    cols = np.arange(lo.size)
    a = grid[np.maximum(best - 1, 0), cols]
    b = grid[np.minimum(best + 1, _GRID - 1), cols]
    best_x, best_v = grid[best, cols], values[best, cols]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    x1, x2 = b - ratio * (b - a), a + ratio * (b - a)
    f1, f2 = f(x1), f(x2)
    for _ in range(_GOLDEN_STEPS):
        left = f1 >= f2  # the maximum lies in [a, x2]; else in [x1, b]
        a, b = np.where(left, a, x1), np.where(left, x2, b)
        x1, x2 = np.where(left, b - ratio * (b - a), x2), np.where(left, x1, a + ratio * (b - a))
        probe = f(np.where(left, x1, x2))
        f1, f2 = np.where(left, probe, f2), np.where(left, f1, probe)
    x = np.where(f1 >= f2, x1, x2)
    v = np.maximum(f1, f2)
    return np.where(best_v > v, best_x, x)
