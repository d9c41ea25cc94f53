"""Mass-univariate OLS: one regression per (SNP, QT), in closed form, the classic baseline.

For every SNP j and QT k, y_k = Cγ + x_j β + ε with ε ~ N(0, σ²I). By Frisch–Waugh–Lovell, with M
the projection off the covariates, β̂ = (Mx_j)ᵀ(My_k) / ‖Mx_j‖², and t = β̂/se(β̂) has a Student t
distribution with n − m − 1 degrees of freedom under β = 0. All p × c fits are a few matrix
products.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax.scipy.special import betainc

__all__ = ["UnivariateFit", "mass_univariate_ols", "student_t_two_sided"]


class UnivariateFit(NamedTuple):
    """beta, se, t, pvalue : (p, c) per (SNP, QT); df : residual degrees of freedom."""

    beta: jnp.ndarray
    se: jnp.ndarray
    t: jnp.ndarray
    pvalue: jnp.ndarray
    df: int


def student_t_two_sided(t, df):
    """Two-sided p-value P(|T| > |t|) of Student's t with ``df`` degrees of freedom."""
    return betainc(0.5 * df, 0.5, df / (df + t * t))


def mass_univariate_ols(Y, X, covariates=None) -> UnivariateFit:
    """Fit y_k ~ covariates + x_j for every SNP j and QT k.

    Y : (n, c) QTs; X : (n, p) SNPs (any scale; β is per unit of X); covariates : (n, m) including
    an intercept column (default: intercept only).
    """
    Y, X = jnp.asarray(Y), jnp.asarray(X, dtype=jnp.asarray(Y).dtype)
    n = Y.shape[0]
    C = jnp.ones((n, 1), Y.dtype) if covariates is None else jnp.asarray(covariates, Y.dtype)
    Qc, _ = jnp.linalg.qr(C)
    Y_res = Y - Qc @ (Qc.T @ Y)
    X_res = X - Qc @ (Qc.T @ X)
    sxx = jnp.sum(X_res * X_res, axis=0)[:, None]  # (p, 1)
    sxy = X_res.T @ Y_res  # (p, c)
    syy = jnp.sum(Y_res * Y_res, axis=0)[None, :]  # (1, c)
    beta = sxy / sxx
    df = n - C.shape[1] - 1
    rss = jnp.maximum(syy - beta * sxy, 0.0)
    se = jnp.sqrt(rss / df / sxx)
    t = beta / se
    return UnivariateFit(beta=beta, se=se, t=t, pvalue=student_t_two_sided(t, df), df=df)
