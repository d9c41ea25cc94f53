"""chi2_log_sf against mpmath, in float64 and float32, from the bulk to far beyond float32's range."""

import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxgen.stats.tails import chi2_log_sf, f_log_sf

CASES = [(df, t) for df in (1, 2, 6, 16, 68, 150) for t in (0.01, 1.0, float(df), 3.0 * df + 10, 200.0, 1000.0, 5000.0)]


def _reference(df, t):
    return float(mp.log(mp.gammainc(mp.mpf(df) / 2, mp.mpf(t) / 2, mp.inf, regularized=True)))


@pytest.mark.parametrize("dtype, rtol", [(jnp.float64, 1e-12), (jnp.float32, 5e-5)])
def test_log_survival_matches_high_precision(dtype, rtol):
    df, t = np.array(CASES).T
    got = np.asarray(chi2_log_sf(jnp.asarray(t, dtype), jnp.asarray(df, dtype)), float)
    expected = np.array([_reference(*case) for case in CASES])
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


def test_tail_below_float32_range_stays_finite():
    """P(χ²_16 > 2000) ≈ e^-927: far below float32's smallest number, still exact in log form."""
    got = float(chi2_log_sf(jnp.float32(2000.0), jnp.float32(16.0)))
    assert np.isfinite(got) and got == pytest.approx(_reference(16, 2000.0), rel=1e-5)


# small statistics (p near 1) are where float32 loses x = d2/(d2 + d1 f) to rounding
F_CASES = [(d1, d2, f) for d1 in (1, 6, 68) for d2 in (20, 300) for f in (1e-6, 1e-3, 0.05, 0.5, 1.0, 3.0, 30.0, 300.0, 1e4)]


def _f_reference(d1, d2, f):
    x = mp.mpf(d2) / (d2 + d1 * mp.mpf(f))
    return float(mp.log(mp.betainc(mp.mpf(d2) / 2, mp.mpf(d1) / 2, 0, x, regularized=True)))


@pytest.mark.parametrize("dtype, rtol", [(jnp.float64, 1e-10), (jnp.float32, 5e-5)])
def test_f_log_survival_matches_high_precision(dtype, rtol):
    d1, d2, f = np.array(F_CASES).T
    got = np.asarray(f_log_sf(jnp.asarray(f, dtype), jnp.asarray(d1, dtype), jnp.asarray(d2, dtype)), float)
    expected = np.array([_f_reference(*case) for case in F_CASES])
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)
