"""Vectorized convergence diagnostics equal ArviZ's, element by element; the gate warns before sampling."""

import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest

from jaxgen import lmm
from jaxgen.lmm.diagnostics import _quantile, _sort_with_order, chain_diagnostics, diagnostics_table


def _ar1(rng, shape, phi):
    """AR(1) chains along axis 1 of ``shape`` (chains, draws, ...), stationary start."""
    noise = rng.normal(size=shape)
    chains = np.empty(shape)
    chains[:, 0] = noise[:, 0] / np.sqrt(1 - phi ** 2)
    for t in range(1, shape[1]):
        chains[:, t] = phi * chains[:, t - 1] + noise[:, t]
    return chains


def _cases():
    rng = np.random.default_rng(11)
    shifted = rng.normal(size=(4, 120, 5)) + np.array([0.0, 0.0, 0.5, 3.0])[:, None, None]
    return {
        "independent draws": rng.normal(size=(4, 150, 3, 2)),
        "autocorrelated (second direct stage)": _ar1(rng, (3, 200, 6), 0.6),
        "sticky chains (FFT for every lag)": _ar1(rng, (4, 150, 4), 0.99),
        "not converged (chains apart)": shifted,
        "ties (integer draws)": rng.integers(0, 4, size=(4, 80, 5)).astype(float),
        "float32, odd number of draws": _ar1(rng, (3, 161, 6), 0.3).astype(np.float32),
        "float32 ties and signs": np.round(_ar1(rng, (4, 100, 5), 0.4), 1).astype(np.float32),
        "one chain": _ar1(rng, (1, 200, 3), 0.5),
        "a constant entry": np.concatenate([rng.normal(size=(2, 60, 2)), np.full((2, 60, 1), 2.5)], axis=2),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_rhat_and_ess_equal_arviz_entry_by_entry(name):
    draws = _cases()[name]
    tree = az.from_dict({"posterior": {"x": draws}})
    expected = {"rhat": az.rhat(tree)["x"].values, "ess_bulk": az.ess(tree, method="bulk")["x"].values,
                "ess_tail": az.ess(tree, method="tail")["x"].values}
    got = chain_diagnostics(draws)._asdict()
    for key, value in expected.items():
        assert got[key].shape == draws.shape[2:]
        np.testing.assert_array_equal(np.isnan(got[key]), np.isnan(value))
        np.testing.assert_allclose(got[key], value, rtol=1e-10, atol=0, err_msg=key)


def test_not_converged_chains_fail_and_mixing_chains_pass():
    apart = chain_diagnostics(_cases()["not converged (chains apart)"])
    assert (apart.rhat > 1.3).all() and (apart.ess_bulk < 20).all()        # of 480 draws
    mixing = chain_diagnostics(_cases()["independent draws"])
    assert (mixing.rhat < 1.05).all() and (mixing.ess_bulk > 300).all()    # of 600 draws


def test_diagnostics_table_equals_arviz_summary():
    rng = np.random.default_rng(3)
    tree = az.from_dict({"posterior": {"B": _ar1(rng, (3, 120, 2, 3), 0.4), "rho": rng.normal(size=(3, 120))}},
                        dims={"B": ["snp", "qt"]}, coords={"snp": ["rs1", "rs2"], "qt": ["a", "b", "c"]})
    expected = pd.DataFrame(az.summary(tree, kind="diagnostics"))
    got = diagnostics_table(tree["posterior"])
    assert list(got.index) == list(expected.index) and list(got.columns) == list(expected.columns)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-10)
    assert list(diagnostics_table(tree["posterior"], ["rho"]).index) == ["rho"]


@pytest.mark.parametrize("draws", [120, 121])
def test_diagnostics_table_statistics_are_numpys(draws):
    """With ``statistics``: the pooled mean, sd and 2.5%/97.5% quantiles of each element (numpy's own), then the
    diagnostics unchanged."""
    rng = np.random.default_rng(draws)
    B = _ar1(rng, (3, draws, 2, 3), 0.4)
    tree = az.from_dict({"posterior": {"B": B}}, dims={"B": ["snp", "qt"]},
                        coords={"snp": ["rs1", "rs2"], "qt": ["a", "b", "c"]})
    got = diagnostics_table(tree["posterior"], statistics=True)
    assert list(got.columns) == ["mean", "sd", "q2.5", "q97.5", *diagnostics_table(tree["posterior"]).columns]
    pooled = B.reshape(-1, 6)
    np.testing.assert_allclose(got["mean"], pooled.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got["sd"], pooled.std(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_array_equal(got[["q2.5", "q97.5"]].to_numpy(), np.quantile(pooled, [0.025, 0.975], axis=0).T)
    np.testing.assert_array_equal(got.iloc[:, 4:].to_numpy(), diagnostics_table(tree["posterior"]).to_numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [8, 601, 4000])
def test_tail_quantiles_are_numpys_bit_for_bit(dtype, size):
    ordered = np.sort(np.random.default_rng(size).normal(size=(5, size)).astype(dtype), axis=1)
    for prob in (1 - 0.89, 0.89, 0.05, 0.95, 0.5):
        expected = np.array([np.quantile(row, prob) for row in ordered])
        got = _quantile(ordered, prob)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_fit_warns_before_sampling_when_the_gate_is_out_of_reach():
    n = 30
    Y, X, adjacency = np.full((n, 3), np.nan), np.ones((n, 2)), np.ones((3, 3)) - np.eye(3)
    # the warning comes before any work: the bad QTs are refused only afterwards
    with pytest.warns(lmm.ConvergenceGateWarning, match="2 chains × 150 draws = 300 draws cannot reach"), \
            pytest.raises(ValueError, match="Y has"):
        lmm.fit(Y, X, adjacency, num_chains=2, num_samples=150, ess_min=400)
    with pytest.warns(lmm.ConvergenceGateWarning, match="at least 101 samples per chain"), pytest.raises(ValueError):
        lmm.fit(Y, X, adjacency, num_chains=4, num_samples=100, ess_min=401)
    with warnings.catch_warnings():
        warnings.simplefilter("error", lmm.ConvergenceGateWarning)
        with pytest.raises(ValueError, match="Y has"):
            lmm.fit(Y, X, adjacency, num_chains=2, num_samples=200, ess_min=400)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sort_with_order_is_a_stable_argsort(dtype):
    values = np.round(np.random.default_rng(3).normal(size=(6, 500)), 1).astype(dtype)
    values[0, :6] = [0.0, -0.0, np.inf, -np.inf, np.finfo(dtype).tiny, -np.finfo(dtype).max]
    ordered, order = _sort_with_order(values)
    expected = np.argsort(values, axis=1, kind="stable")
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(ordered, np.take_along_axis(values, expected, axis=1))
    assert ordered.dtype == values.dtype
