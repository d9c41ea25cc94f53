"""Log survival function of the χ² distribution, exact far into the tail in float32 and float64.

log P(χ²_k > t) = log Q(k/2, t/2), with Q the regularized upper incomplete gamma function. Where
Q is not tiny, ``log(gammaincc)`` is exact. Deeper in the tail (Q below 1e-25, where float32 would
soon underflow) the log is computed directly from Legendre's continued fraction

    Γ(a, x) = e^{−x} x^a / (x + 1 − a − 1·(1 − a) / (x + 3 − a − 2·(2 − a) / (x + 5 − a − …))),

evaluated with the modified Lentz algorithm, so that log Q = −x + a log x − log Γ(a) − log(denominator)
never leaves the floating-point range (it converges quickly there, since x is then well above a + 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaincc, gammaln

__all__ = ["chi2_log_sf"]

_CF_TERMS = 100
_DIRECT_MIN = 1e-25


def chi2_log_sf(statistic, df):
    """log P(χ²_df > statistic), elementwise; statistic ≥ 0, df > 0 (broadcast together)."""
    t = jnp.asarray(statistic)
    t = t.astype(jnp.result_type(t, float))
    a = jnp.asarray(df, t.dtype) / 2
    x = jnp.maximum(t, 0.0) / 2
    direct = gammaincc(a, x)
    deep_x = jnp.where(direct < _DIRECT_MIN, x, a + 2.0)  # keeps the unused branch finite
    deep = -deep_x + a * jnp.log(deep_x) - gammaln(a) - _log_legendre_denominator(a, deep_x)
    return jnp.where(direct < _DIRECT_MIN, deep, jnp.log(direct))


def _log_legendre_denominator(a, x):
    """log of the continued fraction's value D with Γ(a, x) = e^{−x}x^a / D, for x > a + 1 (modified Lentz)."""
    tiny = jnp.finfo(x.dtype).tiny * 1e4
    b = x + 1.0 - a
    c = jnp.full_like(b, 1.0 / tiny)
    d = 1.0 / b
    log_h = jnp.log(b)  # log(1/d), accumulated in logs: the fraction's value is exp(log_h)

    def step(i, carry):
        b, c, d, log_h = carry
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = jnp.where(jnp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = jnp.where(jnp.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        return b, c, d, log_h - jnp.log(jnp.abs(d * c))

    *_, log_h = jax.lax.fori_loop(1, _CF_TERMS, step, (b, c, d, log_h))
    return log_h
