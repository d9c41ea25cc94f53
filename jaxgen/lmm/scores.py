"""Marginal score tests of SNPs against the null model: per region, and over all regions at once.

For SNP j (a rotated column x of X̃) and region k, with V_k = diag(v_ik) the null model's variances and
r_k its GLS residual (:mod:`jaxgen.lmm.null`), the score and its exact null variance given the null
model's parameters are

    s_jk = xᵀV_k⁻¹r_k,        I_jk = xᵀV_k⁻¹x − (C̃ᵀV_k⁻¹x)ᵀ(C̃ᵀV_k⁻¹C̃)⁻¹(C̃ᵀV_k⁻¹x),

so z_jk = s_jk/√I_jk ~ N(0, 1), with the GLS effect β̂_jk = s_jk/I_jk and se 1/√I_jk (the standard LMM
score test; for one region it is the test GEMMA's ``-lmm 3`` computes). Marginal: it does not
condition on the other SNPs' fitted effects. Over regions, with R the correlation between regions:

    Corr(z_jk, z_jl) = R_kl · G_kl / √(G_kk G_ll),    G_kl = Σ_i x_i² / √(v_ik v_il),

which is R itself when the regions share h² (up to the covariates' projection, O(m/n)). The tests:

* ``cct``: the Cauchy combination of the c per-region p-values (valid under any dependence);
* ``spatial``: T_j = z_jᵀ Corr(z_j)⁻¹ z_j ~ χ²_c with the CAR correlation R(ρ̂) of the null model;
* ``empirical``: the same with the shrunk empirical correlation of the whitened residuals
  (MOSTest-style, after the kinship rotation);
* ``omnibus``: the Cauchy combination of the three (the default).

All p-values are kept in log form (:func:`jaxgen.stats.chi2.chi2_log_sf`, ``log_ndtr``) and stay exact
far beyond float32's range. One jit-compiled function of (null model, a block of SNPs), vectorized over
SNPs, so that a genome can be streamed through it block by block.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular
from jax.scipy.special import log_ndtr

from jaxgen.lmm.null import NullModel
from jaxgen.stats.chi2 import chi2_log_sf
from jaxgen.stats.cct import cct_log

__all__ = ["TESTS", "ScoreTests", "score_tests"]

TESTS = ("omnibus", "cct", "spatial", "empirical")
_HIGHEST = jax.lax.Precision.HIGHEST


class ScoreTests(NamedTuple):
    """Per (SNP, region): beta, se, z, log_p (p, c), the GLS effect per unit of the tested column, its
    se, the score z and log(2Φ(−|z|)). Per SNP: log_p_omnibus, log_p_cct, log_p_spatial,
    log_p_empirical (p,), natural logs of the SNP-level p-values."""

    beta: jnp.ndarray
    se: jnp.ndarray
    z: jnp.ndarray
    log_p: jnp.ndarray
    log_p_omnibus: jnp.ndarray
    log_p_cct: jnp.ndarray
    log_p_spatial: jnp.ndarray
    log_p_empirical: jnp.ndarray

    def log_p_of(self, test: str) -> jnp.ndarray:
        """The SNP-level log p-values (p,) of one of :data:`TESTS`."""
        if test not in TESTS:
            raise ValueError(f"test must be one of {TESTS}, got {test!r}")
        return getattr(self, f"log_p_{test}")


@jax.jit
def score_tests(null: NullModel, X) -> ScoreTests:
    """Score tests of every column of X (n, p), rotated like the null model's data, against ``null``."""
    X = jnp.asarray(X, null.inverse_variance.dtype)
    inv_v = null.inverse_variance
    scores = _mm(X.T, null.weighted_residual)  # s (p, c)
    projected = jnp.einsum("im,ik,ij->jkm", null.covariates, inv_v, X, precision=_HIGHEST)  # C̃ᵀV_k⁻¹x (p, c, m)
    correction = jnp.einsum("jkm,kml,jkl->jk", projected, null.information_inverse, projected, precision=_HIGHEST)
    information = _mm((X * X).T, inv_v) - correction  # I (p, c)
    z = scores * jax.lax.rsqrt(information)
    log_p = jnp.log(2.0) + log_ndtr(-jnp.abs(z))
    log_p_cct = cct_log(log_p, axis=1)
    shape = _correlation_shape(null, X)
    log_p_spatial = _quadratic_log_p(z, null.spatial_correlation, shape)
    log_p_empirical = _quadratic_log_p(z, null.empirical_correlation, shape)
    log_p_omnibus = cct_log(jnp.stack([log_p_cct, log_p_spatial, log_p_empirical], axis=1), axis=1)
    return ScoreTests(beta=scores / information, se=jax.lax.rsqrt(information), z=z, log_p=log_p,
                      log_p_omnibus=log_p_omnibus, log_p_cct=log_p_cct, log_p_spatial=log_p_spatial,
                      log_p_empirical=log_p_empirical)


def _correlation_shape(null: NullModel, X):
    """G_kl/√(G_kk G_ll) per SNP (p, c, c) when the regions' row scales differ; None when they do not."""
    if not null.heritability_differs:
        return None
    root = jnp.sqrt(null.inverse_variance)
    n, c = root.shape
    pairs = (root[:, :, None] * root[:, None, :]).reshape(n, c * c)
    G = _mm((X * X).T, pairs).reshape(-1, c, c)  # (p, c, c)
    scale = jnp.sqrt(jnp.diagonal(G, axis1=1, axis2=2))
    return G / (scale[:, :, None] * scale[:, None, :])


def _quadratic_log_p(z, correlation, shape):
    """log P(χ²_c > zᵀΣ⁻¹z) per SNP for z (p, c), with Σ = correlation (c, c), times ``shape`` (p, c, c) if given."""
    if shape is None:
        factor = jnp.linalg.cholesky(correlation)
        white = solve_triangular(factor, z.T, lower=True).T
    else:
        factor = jnp.linalg.cholesky(correlation[None] * shape)
        white = solve_triangular(factor, z[:, :, None], lower=True)[..., 0]
    return chi2_log_sf(jnp.sum(white * white, axis=1), z.shape[1])


def _mm(a, b):
    return jnp.matmul(a, b, precision=_HIGHEST)
