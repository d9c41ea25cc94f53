"""Log survival functions of the normal (two-sided), χ² and F distributions, exact far into the tail in float32
and float64.

log P(χ²_k > t) = log Q(k/2, t/2), with Q the regularized upper incomplete gamma function. Where
Q is not tiny, ``log(gammaincc)`` is exact. Deeper in the tail (Q below 1e-25, where float32 would
soon underflow) the log is computed directly from Legendre's continued fraction

    Γ(a, x) = e^{−x} x^a / (x + 1 − a − 1·(1 − a) / (x + 3 − a − 2·(2 − a) / (x + 5 − a − …))),

evaluated with the modified Lentz algorithm, so that log Q = −x + a log x − log Γ(a) − log(denominator)
never leaves the floating-point range (it converges quickly there, since x is then well above a + 1).

The F tail is a regularized incomplete beta, P(F_{d1,d2} > f) = I_x(d2/2, d1/2) at x = d2/(d2 + d1 f);
where it is tiny, I_x(a, b) = x^a (1−x)^b h / (a B(a, b)) is taken in logs, with h the continued
fraction of Numerical Recipes' ``betacf`` (modified Lentz; it converges fast for x < (a+1)/(a+b+2),
which holds whenever the p-value is that small).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betainc, betaln, erfc, gammaincc, gammaln, log_ndtr

__all__ = ["chi2_log_sf", "f_log_sf", "log_betainc_tail", "p_value", "two_sided_log_pvalue", "two_sided_pvalue"]

_CF_TERMS = 100
_DIRECT_MIN = 1e-25
_BETA_CF_TERMS = 40  # where the beta fraction is used (p < √tiny) it converges in < 10


def p_value(log_p) -> np.ndarray:
    """p-values (float64 NumPy, same shape) from natural-log p-values: exp in float32 would round every p below
    1e-38 to 0 (a strong hit would read as p = 0 in a table, and tie with every other one)."""
    return np.exp(np.asarray(log_p, dtype=np.float64))


def two_sided_log_pvalue(z):
    """log(2Φ(−|z|)) of standard normal scores z (any shape), exact far into the tail."""
    return jnp.log(2.0) + log_ndtr(-jnp.abs(z))


def two_sided_pvalue(z):
    """2Φ(−|z|) = erfc(|z|/√2) (any shape): for the bulk of a simulated null law (it underflows for |z| > 13
    in float32, where :func:`two_sided_log_pvalue` does not)."""
    return erfc(jnp.abs(z) / math.sqrt(2.0))


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


def f_log_sf(statistic, df1, df2):
    """log P(F_{df1, df2} > statistic), elementwise; statistic ≥ 0."""
    f = jnp.asarray(statistic)
    f = jnp.maximum(f.astype(jnp.result_type(f, float)), 0.0)
    d1, d2 = jnp.asarray(df1, f.dtype), jnp.asarray(df2, f.dtype)
    log_total = jnp.logaddexp(jnp.log(d2), jnp.log(d1) + jnp.log(jnp.where(f > 0, f, 1.0)))
    log_x = jnp.where(f > 0, jnp.log(d2) - log_total, 0.0)
    log_one_minus_x = jnp.where(f > 0, jnp.log(d1) + jnp.log(jnp.where(f > 0, f, 1.0)) - log_total, -jnp.inf)
    # p = I_x(d2/2, d1/2) at x = d2/(d2 + d1 f) for f ≥ 1; below, where p may round to 1 (x to 1 in float32),
    # its complement 1 − p = I_{1−x}(d1/2, d2/2). P(F > 1) is never near 0 or 1, so the side that could be
    # tiny is the one computed. One betainc call for both sides: each call site costs seconds to compile.
    upper = f >= 1.0
    value = betainc(jnp.where(upper, d2, d1) / 2, jnp.where(upper, d1, d2) / 2,
                    jnp.where(upper, d2, d1 * f) / (d2 + d1 * f))
    return jnp.where(upper, log_betainc_tail(value, d2 / 2, d1 / 2, log_x, log_one_minus_x), jnp.log1p(-value))


def log_betainc_tail(p, a, b, log_x, log_one_minus_x):
    """log I_x(a, b), given its direct value p = I_x(a, b) and log x, log(1 − x) (formed without
    underflow by the caller): log p where p ≥ √tiny, else the continued fraction in logs."""
    x = jnp.exp(log_x)
    log_cf = a * log_x + b * log_one_minus_x - betaln(a, b) - jnp.log(a) + jnp.log(_betacf(x, a, b))
    small = p < jnp.sqrt(jnp.finfo(x.dtype).tiny)
    return jnp.where(small, log_cf, jnp.log(jnp.where(small, 1.0, p)))


def _betacf(x, a, b):
    """The continued fraction h of I_x(a, b) (elementwise), by the modified Lentz method."""
    tiny = jnp.finfo(x.dtype).tiny

    def guard(value):
        return jnp.where(jnp.abs(value) < tiny, tiny, value)

    d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0))
    c = jnp.ones_like(x)

    def term(m, state):
        c, d, h = state
        m = jnp.asarray(m, x.dtype)
        even = m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m))
        d = 1.0 / guard(1.0 + even * d)
        c = guard(1.0 + even / c)
        h = h * d * c
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0))
        d = 1.0 / guard(1.0 + odd * d)
        c = guard(1.0 + odd / c)
        return c, d, h * d * c

    return jax.lax.fori_loop(1, _BETA_CF_TERMS + 1, term, (c, d, d))[2]
