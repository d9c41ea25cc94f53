"""Mass-univariate OLS: one regression per (SNP, QT), in closed form, the classic baseline.

For every SNP j and QT k, y_k = Cγ + x_j β + ε with ε ~ N(0, σ²I). By Frisch–Waugh–Lovell, with M
the projection off the covariates, β̂ = (Mx_j)ᵀ(My_k) / ‖Mx_j‖², and t = β̂/se(β̂) has a Student t
distribution with n − m − 1 degrees of freedom under β = 0. All p × c fits are a few matrix
products.

P-values below the floating-point range (about 1e-38 in float32, where ``pvalue`` is 0) keep their
size in ``log_pvalue``, the natural log computed without underflow (:func:`student_t_two_sided_log`),
ready for :func:`jaxgen.stats.cct_log` or a −log10 p plot.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax.scipy.special import betainc

from jaxgen.stats.tails import log_betainc_tail

__all__ = ["UnivariateFit", "mass_univariate_ols", "student_t_two_sided", "student_t_two_sided_log"]


class UnivariateFit(NamedTuple):
    """beta, se, t, pvalue, log_pvalue (natural log, no underflow) : (p, c) per (SNP, QT);
    df : residual degrees of freedom (an int, or (p, 1) when calls were missing)."""

    beta: jnp.ndarray
    se: jnp.ndarray
    t: jnp.ndarray
    pvalue: jnp.ndarray
    df: int
    log_pvalue: jnp.ndarray | None = None


def student_t_two_sided(t, df):
    """Two-sided p-value P(|T| > |t|) of Student's t with ``df`` degrees of freedom."""
    return betainc(0.5 * df, 0.5, df / (df + t * t))


def student_t_two_sided_log(t, df):
    """log P(|T| > |t|) for Student's t with ``df`` degrees of freedom, without underflow.

    The p-value is the regularized incomplete beta I_x(df/2, 1/2) at x = df/(df + t²). Where it is
    at least √tiny of the dtype its log is taken directly; below, I_x(a, b) = x^a (1−x)^b h / (a B(a, b))
    is evaluated in logs (:func:`jaxgen.stats.tails.log_betainc_tail`), with log x = −log1p(t²/df)
    formed so that t² may overflow.
    """
    t = jnp.abs(jnp.asarray(t))
    df = jnp.asarray(df, t.dtype)
    a, b = 0.5 * df, jnp.asarray(0.5, t.dtype)
    t_squared = t * t
    big = t_squared > df
    safe_t = jnp.where(t > 0, t, 1.0)
    log1p_ratio = jnp.where(big, 2 * jnp.log(safe_t) - jnp.log(df) + jnp.log1p(df / jnp.where(big, t_squared, 1.0)),
                            jnp.log1p(t_squared / df))
    log_x = -log1p_ratio
    log_one_minus_x = -jnp.log1p(df / jnp.where(t > 0, t_squared, 1.0))
    p = betainc(a, b, df / (df + t_squared))
    return jnp.where(t > 0, log_betainc_tail(p, a, b, log_x, log_one_minus_x), 0.0)


def mass_univariate_ols(Y, X, covariates=None) -> UnivariateFit:
    """Fit y_k ~ covariates + x_j for every SNP j and QT k.

    Y : (n, c) QTs; X : (n, p) SNPs (any scale; β is per unit of X), NaN for a missing call;
    covariates : (n, m) including an intercept column (default: intercept only).
    A subject with a missing call of SNP j is left out of SNP j's fits only, as PLINK's ``--glm``
    does; ``df`` is then (p, 1), each SNP's own n_j − m − 1.
    """
    Y, X = jnp.asarray(Y), jnp.asarray(X, dtype=jnp.asarray(Y).dtype)
    n = Y.shape[0]
    C = jnp.ones((n, 1), Y.dtype) if covariates is None else jnp.asarray(covariates, Y.dtype)
    called = ~jnp.isnan(X)
    Qc, _ = jnp.linalg.qr(C)
    # Residuals on the covariates over all subjects: a fit on any subset of them is unchanged by
    # this (it only adds a combination of the covariates), and the sums below then cancel little.
    Y_res = Y - Qc @ (Qc.T @ Y)
    X_filled = jnp.where(called, X, jnp.sum(jnp.where(called, X, 0.0), axis=0) / jnp.sum(called, axis=0))
    X_res = X_filled - Qc @ (Qc.T @ X_filled)
    if bool(jnp.all(called)):
        sxx = jnp.sum(X_res * X_res, axis=0)[:, None]  # (p, 1)
        sxy = X_res.T @ Y_res  # (p, c)
        syy = jnp.sum(Y_res * Y_res, axis=0)[None, :]  # (1, c)
        df = n - C.shape[1] - 1
    else:
        sxx, sxy, syy = _sums_over_called(Y_res, X_res, C, called.astype(Y.dtype))
        df = jnp.sum(called, axis=0)[:, None] - C.shape[1] - 1
    beta = sxy / sxx
    rss = jnp.maximum(syy - beta * sxy, 0.0)
    se = jnp.sqrt(rss / df / sxx)
    t = beta / se
    return UnivariateFit(beta=beta, se=se, t=t, pvalue=student_t_two_sided(t, df), df=df,
                         log_pvalue=student_t_two_sided_log(t, df))


def _sums_over_called(Y, X, C, W):
    """Σ over SNP j's called subjects of the residual products, after projecting out the covariates
    on those subjects: sxx (p, 1), sxy (p, c), syy (p, c).

    Y (n, c), X (n, p) residuals on C (n, m); W (n, p) 1.0 where SNP j was called. With G_j = CᵀW_jC,
    b_x = CᵀW_jx_j and B_y = CᵀW_jY: sxx = x_jᵀW_jx_j − b_xᵀG_j⁻¹b_x, and likewise for the others.
    """
    (n, c), m = Y.shape, C.shape[1]
    X = jnp.where(W > 0, X, 0.0)
    gram = jnp.einsum("nj,na,nb->jab", W, C, C)                                        # (p, m, m)
    b_x = C.T @ (W * X)                                                                 # (m, p)
    b_y = (W.T @ (C[:, :, None] * Y[:, None, :]).reshape(n, m * c)).reshape(-1, m, c)  # (p, m, c)
    solved = jnp.linalg.solve(gram, jnp.concatenate([b_x.T[:, :, None], b_y], axis=2))  # (p, m, 1 + c)
    sxx = jnp.sum(W * X * X, axis=0) - jnp.sum(b_x.T * solved[:, :, 0], axis=1)
    sxy = (W * X).T @ Y - jnp.einsum("ja,jak->jk", b_x.T, solved[:, :, 1:])
    syy = W.T @ (Y * Y) - jnp.sum(b_y * solved[:, :, 1:], axis=1)
    return sxx[:, None], sxy, syy
