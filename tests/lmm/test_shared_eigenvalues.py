"""Rows sharing a kinship eigenvalue enter the Gibbs sampler's Gram matrix as one precomputed sum:
equal to the dense GLS product on the unrotated data, for every kind of kinship."""

import numpy as np
import pytest

from jaxgen.data import simulate_spatial_lmm, standardize_columns, unit_scale_covariates
from jaxgen.lmm import prepare_data
from jaxgen.lmm.data import shared_eigenvalue_groups


def _kinships(d, rng):
    n = d.Y.shape[0]
    genotypes = standardize_columns(rng.binomial(2, 0.3, size=(n, 15)).astype(float))[0]
    spread = rng.normal(size=(n, n))
    return {"pedigree (families of 4)": d.kinship, "genomic, rank 15": genotypes @ genotypes.T / 15,
            "all eigenvalues distinct": spread @ spread.T / n + np.eye(n), "none": None}


@pytest.mark.parametrize("kind", ["pedigree (families of 4)", "genomic, rank 15", "all eigenvalues distinct", "none"])
def test_weighted_gram_equals_the_dense_product(kind):
    d = simulate_spatial_lmm(4, n=48, p=5, c=3, n_causal=1, rho=0.5, h2=0.3, effect=0.3)
    K = _kinships(d, np.random.default_rng(0))[kind]
    data, _ = prepare_data(d.Y, d.X, d.adjacency, d.covariates, K)
    W = np.column_stack([unit_scale_covariates(d.covariates), standardize_columns(d.X)[0]])
    n = len(W)
    for h2 in (0.0, 0.35, 0.9):
        row_cov = np.eye(n) if K is None else h2 * K + (1 - h2) * np.eye(n)
        expected = W.T @ np.linalg.solve(row_cov, np.column_stack([W, d.Y]))
        np.testing.assert_allclose(np.asarray(data.weighted_gram(h2)), expected, rtol=1e-9, atol=1e-9)
    groups = {"pedigree (families of 4)": (0, 4), "genomic, rank 15": (15, 1), "all eigenvalues distinct": (n, 0),
              "none": (0, 1)}[kind]
    assert (data.n_direct, 0 if data.shared_grams is None else len(data.shared_grams)) == groups


def test_groups_keep_the_largest_runs_and_set_them_to_their_mean():
    lam = np.array([3.0, 1.0, 1.0 + 1e-12, 2.0, 5.0, 1.0 - 1e-12, 2.0, 0.5])
    order, n_direct, starts, values = shared_eigenvalue_groups(lam)
    assert sorted(order) == list(range(8)) and n_direct == 3 and list(starts) == [3, 6, 8]
    assert set(order[:3]) == {0, 4, 7} and set(order[3:6]) == {1, 2, 5} and set(order[6:]) == {3, 6}
    np.testing.assert_allclose(values, [1.0, 2.0], rtol=0, atol=1e-15)
    order, n_direct, starts, values = shared_eigenvalue_groups(lam, max_groups=1)
    assert n_direct == 5 and list(starts) == [5, 8] and set(order[5:]) == {1, 2, 5}
