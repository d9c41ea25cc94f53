"""Cauchy combination test against 50-digit arithmetic, on the edges, and on bad input."""

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from jaxgen.stats import cct, cct_log


def reference_cct(pvalues, weights=None):
    """The literal formula ½ − arctan(Σ wᵢ tan((½ − pᵢ)π))/π with 50 correct significant digits.

    The working precision grows with the smallest p-value so that ½ − pᵢ and the upper tail keep
    50 digits (½ − 1e-300 needs 300 of them)."""
    pvalues = [float(x) for x in np.ravel(pvalues)]
    weights = [1.0] * len(pvalues) if weights is None else [float(x) for x in np.ravel(weights)]
    smallest = min(x for x in pvalues if x > 0)
    with mpmath.workdps(60 + 2 * math.ceil(-math.log10(smallest))):
        total = mpmath.fsum(mpmath.mpf(w) for w in weights)
        T = mpmath.fsum(mpmath.mpf(w) / total * mpmath.tan((mpmath.mpf(1) / 2 - mpmath.mpf(x)) * mpmath.pi)
                        for w, x in zip(weights, pvalues))
        return mpmath.mpf(1) / 2 - mpmath.atan(T) / mpmath.pi


def random_combinations(seed, count, low_exponent, dtype=np.float64):
    rng = np.random.default_rng(seed)
    for i in range(count):
        k = int(rng.integers(1, 25))
        exponents = rng.uniform(low_exponent, 0, k)
        if i % 4 == 0:
            p = rng.uniform(0, 1, k)  # the bulk, where terms of both signs cancel
        elif i % 4 == 1:
            p = 1 - 10 ** rng.uniform(math.log10(np.finfo(dtype).eps), 0, k)  # near 1
        else:
            p = 10 ** exponents
        # exact 0 and 1 are edge cases with tests of their own
        p = np.clip(p.astype(dtype), np.finfo(dtype).tiny, np.nextafter(dtype(1), dtype(0)))
        yield p, rng.uniform(0, 1, k).astype(dtype)


def padded(combinations, width=25):
    """Stack combinations into (count, width) arrays; padding has weight 0 and so takes no part."""
    p = np.full((len(combinations), width), 0.5, dtype=combinations[0][0].dtype)
    w = np.zeros_like(p)
    for i, (pi, wi) in enumerate(combinations):
        p[i, :pi.size], w[i, :wi.size] = pi, wi
    return p, w


def test_float64_matches_50_digit_reference_from_1e_300_to_1():
    combinations = list(random_combinations(0, 300, -300))
    p, w = padded(combinations)
    weighted, unweighted = np.asarray(cct(p, w)), np.asarray(cct(p, (w > 0).astype(float)))
    for i, (pi, wi) in enumerate(combinations):
        assert weighted[i] == pytest.approx(float(reference_cct(pi, wi)), rel=1e-12, abs=0)
        assert unweighted[i] == pytest.approx(float(reference_cct(pi)), rel=1e-12, abs=0)


@pytest.mark.parametrize("p", [1e-300, 1e-200, 1e-100, 1e-20, 1e-15, 1e-9, 1e-3, 0.25, 0.5, 0.75, 0.999999, 1 - 1e-15])
def test_single_pvalue_is_returned_unchanged(p):
    assert float(cct(np.array([p]))) == pytest.approx(p, rel=1e-14)


def test_identical_pvalues_combine_to_themselves():
    for p in [1e-250, 1e-12, 0.03, 0.4, 0.97]:
        assert float(cct(np.full(7, p))) == pytest.approx(p, rel=1e-13)


def test_tail_without_cancellation_is_about_one_over_pi_T():
    p = np.array([1e-290, 1e-280, 0.5])
    T = (1 / (math.pi * 1e-290) + 1 / (math.pi * 1e-280)) / 3
    assert float(cct(p)) == pytest.approx(1 / (math.pi * T), rel=1e-14)


def test_along_an_axis_with_weight_vector_and_full_weights():
    rng = np.random.default_rng(1)
    p = 10 ** rng.uniform(-200, 0, size=(4, 6, 5))
    w = rng.uniform(0.1, 1, size=6)
    got = np.asarray(cct(p, w, axis=1))
    assert got.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            assert got[i, j] == pytest.approx(float(reference_cct(p[i, :, j], w)), rel=1e-12)
    full_w = rng.uniform(0.1, 1, size=p.shape)
    got_full = np.asarray(cct(p, full_w, axis=0))
    assert got_full[2, 3] == pytest.approx(float(reference_cct(p[:, 2, 3], full_w[:, 2, 3])), rel=1e-12)


def test_zero_weights_leave_an_entry_out():
    p = np.array([1e-8, 0.3, 1.0])
    assert float(cct(p, [1.0, 2.0, 0.0])) == pytest.approx(float(reference_cct(p[:2], [1.0, 2.0])), rel=1e-13)


def test_float32_accurate_to_1e_5_over_the_normal_range():
    combinations = list(random_combinations(2, 300, -37, dtype=np.float32))
    p, w = padded(combinations)
    got = cct(jnp.asarray(p), jnp.asarray(w))
    assert got.dtype == jnp.float32
    for i, (pi, wi) in enumerate(combinations):
        assert float(got[i]) == pytest.approx(float(reference_cct(pi, wi)), rel=1e-5, abs=0)


def test_log_output_is_exact_including_float32_subnormal_inputs():
    p64 = np.array([1e-280, 3e-250, 0.2])
    expected = float(mpmath.log(reference_cct(p64)))
    assert float(cct(p64, log=True)) == pytest.approx(expected, rel=1e-14)
    p32 = np.array([3e-44, 2e-42, 0.5], dtype=np.float32)  # subnormal in float32
    expected32 = float(mpmath.log(reference_cct(p32)))
    assert float(cct(p32, log=True)) == pytest.approx(expected32, rel=1e-6)


def test_cct_log_takes_pvalues_below_the_floating_point_range():
    log_p = np.array([-5000.0, -4990.0, math.log(0.3)], dtype=np.float32)
    # exact: T ≈ (e^5000 + e^4990)/(3π), p ≈ 1/(πT) → log p = log 3 − log(e^5000 + e^4990)
    expected = math.log(3) - (5000 + math.log1p(math.exp(-10)))
    got = cct_log(log_p)
    assert got.dtype == jnp.float32
    assert float(got) == pytest.approx(expected, rel=1e-6)
    assert float(cct_log(np.log(np.array([1e-30, 0.4])), log=False)) == pytest.approx(
        float(reference_cct([1e-30, 0.4])), rel=1e-12)


def test_exact_zero_gives_zero_and_exact_one_gives_one():
    assert float(cct(np.array([0.0, 0.3, 0.9]))) == 0.0
    assert float(cct(np.array([0.0, 0.3]), log=True)) == -np.inf
    # tan((½ − 1)π) = −∞: the Cauchy upper tail of −∞ is 1, as in the ACAT reference code
    assert float(cct(np.array([1.0, 1e-10]))) == 1.0
    assert float(cct(np.array([1.0]))) == 1.0


def test_works_under_jit_and_vmap():
    p = np.array([[1e-100, 0.2, 0.7], [0.01, 0.02, 0.03]])
    eager = np.asarray(cct(p))
    np.testing.assert_allclose(np.asarray(jax.jit(cct)(p)), eager, rtol=1e-15)
    np.testing.assert_allclose(np.asarray(jax.vmap(cct)(p)), eager, rtol=1e-15)


def test_invalid_combination_under_jit_is_nan_not_garbage():
    out = np.asarray(jax.jit(cct)(jnp.array([[0.2, 1.5], [0.0, 1.0], [0.1, 0.2]])))
    assert np.isnan(out[0]) and np.isnan(out[1]) and np.isfinite(out[2])


@pytest.mark.parametrize("pvalues, weights, message", [
    ([0.1, np.nan], None, "NaN"),
    ([0.1, 1.2], None, r"must lie in \[0, 1\]"),
    ([-0.1, 0.2], None, r"must lie in \[0, 1\]"),
    ([0.1, 0.2], [1.0, -1.0], "non-negative"),
    ([0.1, 0.2], [0.0, 0.0], "all weights are zero"),
    ([0.1, 0.2], [1.0, np.nan], "weights contain NaN"),
    ([0.0, 1.0], None, "both a p-value of exactly 0 and one of exactly 1"),
    ([0.1, 0.2], [1.0, 1.0, 1.0], "length 3"),
    ([], None, "no entries"),
])
def test_bad_input_is_refused_with_a_clear_message(pvalues, weights, message):
    with pytest.raises(ValueError, match=message):
        cct(np.array(pvalues, dtype=float), weights)


def test_bad_log_input_is_refused():
    with pytest.raises(ValueError, match=r"log_pvalues must lie in \[-inf, 0\]"):
        cct_log(np.array([-1.0, 0.5]))
