"""The Manhattan plot and the tables it reads keep p-values far below float32's smallest number."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

import matplotlib.pyplot as plt  # noqa: E402

from jaxgen.plots import manhattan  # noqa: E402
from jaxgen.stats.tails import p_value  # noqa: E402


def test_p_values_from_float32_logs_do_not_round_to_zero():
    log_p = np.array([-100.0, -700.0, -0.5], np.float32)  # p = 3.7e-44, 9.9e-305, 0.61
    p = p_value(log_p)
    assert p.dtype == np.float64
    np.testing.assert_allclose(np.log(p), log_p.astype(float), rtol=1e-12)


def test_manhattan_draws_a_hit_stronger_than_float32_can_hold():
    log10_p = np.array([-60.0, -2.0, -0.3], np.float32)
    table = pd.DataFrame({"snp": ["a", "b", "c"], "p_value": np.exp(log10_p * np.float32(np.log(10))), "log10_p": log10_p})
    assert table["p_value"].iloc[0] == 0  # what float32 makes of p = 1e-60
    fig = manhattan(table)
    low, high = fig.axes[0].get_ylim()
    assert low == 0 and high == pytest.approx(66.0, rel=1e-6)  # 1.1 × the hit's −log10 p
    plt.close(fig)
