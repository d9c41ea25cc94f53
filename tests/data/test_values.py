"""Values that overflow standardization are refused by name; extreme outliers are warned about."""

import numpy as np
import pandas as pd
import pytest

from jaxgen import cca, lmm
from jaxgen.data.values import OUTLIER_Z, ExtremeValueWarning, checked_matrix, outliers, overflowing_column
from jaxgen.graphs import ring_adjacency


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_overflow_limit_is_the_sum_of_squares_reaching_the_dtype_range(dtype):
    """One value x among zeros (n = 10): Σ(x − x̄)² = 0.9x², refused from 0.9x² > 1e-3·max(dtype)."""
    critical = np.sqrt(1e-3 * float(np.finfo(dtype).max) / 0.9)
    column = np.zeros((10, 2))
    column[4, 1] = 0.99 * critical
    assert overflowing_column(column, dtype) is None
    column[4, 1] = 1.01 * critical
    assert overflowing_column(column, dtype) == (4, 1)
    column[4, 1] = 1e308                                   # its plain sum of squares would be inf
    assert overflowing_column(column, np.float64) == (4, 1)


def test_outliers_are_robust_z_scores_beyond_the_threshold():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(50, 3))
    M[7, 2] = 40.0
    M[:, 0] = np.r_[np.zeros(45), np.ones(5)]             # MAD 0: not screened
    column = M[:, 2]
    z = abs(40.0 - np.median(column)) / (1.4826 * np.median(np.abs(column - np.median(column))))
    found = outliers(M)
    assert [(i, j) for i, j, _ in found] == [(7, 2)] and found[0][2] == pytest.approx(z, rel=1e-12)
    assert z > OUTLIER_Z and outliers(M, threshold=z + 1) == []


def _lmm_inputs():
    rng = np.random.default_rng(1)
    ids = [f"s{i:02d}" for i in range(20)]
    Y = pd.DataFrame(rng.normal(size=(20, 3)), index=ids, columns=["a", "b", "c"])
    X = pd.DataFrame(rng.integers(0, 3, size=(20, 2)).astype(float), index=ids, columns=["rs1", "rs2"])
    return Y, X


def test_lmm_refuses_a_value_that_overflows_and_names_its_cell():
    Y, X = _lmm_inputs()
    Y.iloc[3, 1] = 1e308
    with pytest.raises(ValueError, match=r"Y at row 3 \(subject 's03'\), column 1 \('b'\) holds 1e\+308: too large "
                                         r"to standardize the column in float64"):
        lmm.fit(Y, X, ring_adjacency(3), num_chains=1, num_warmup=1, num_samples=1, progress=False)
    Y.iloc[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"Y has 1 missing or non-finite values, the first at row 3 \(subject 's03'\)"):
        lmm.fit(Y, X, ring_adjacency(3), num_chains=1, num_warmup=1, num_samples=1, progress=False)


def test_cca_refuses_overflow_and_warns_about_an_outlier_by_subject():
    Y, X = _lmm_inputs()
    big = Y.copy()
    big.iloc[5, 0] = 1e160
    with pytest.raises(ValueError, match=r"Ys\[1\] at row 5 \(subject 's05'\), column 0 \('a'\) holds 1e\+160"):
        cca.MTS2CCA(max_iter=5).fit(X, [Y, big])
    Y.iloc[5, 0] = 1e3
    with pytest.warns(ExtremeValueWarning, match=r"Ys\[0\]: 1 extreme values \(robust z > 10\): row 5 "
                                                  r"\(subject 's05'\), column 0 \('a'\) holds 1000"):
        cca.MTS2CCA(max_iter=5).fit(X, [Y])
    with pytest.raises(ValueError, match=r"covariates must be numeric"):
        checked_matrix([["x"]], "covariates")
