"""chi2_log_sf against mpmath, in float64 and float32, from the bulk to far beyond float32's range."""

import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxgen.stats.chi2 import chi2_log_sf

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
