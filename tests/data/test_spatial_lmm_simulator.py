"""simulate_spatial_lmm: shapes, determinism, and that its truth is what generated the data."""

import numpy as np
import pytest

from jaxgen.data import simulate_spatial_lmm, standardize_columns
from jaxgen.graphs import car_precision, validate_adjacency


def test_shapes_ids_and_ingredients():
    d = simulate_spatial_lmm(1, n=103, p=25, c=10, n_causal=3, rho=0.5, h2=0.4)
    assert d.Y.shape == (103, 10) and d.X.shape == (103, 25)
    assert d.covariates.shape == (103, 3) and np.all(d.covariates[:, 0] == 1)
    assert d.adjacency.shape == (10, 10) and d.kinship.shape == (103, 103)
    assert set(np.unique(d.X)) <= {0.0, 1.0, 2.0} and np.all(d.X.std(axis=0) > 0)
    validate_adjacency(d.adjacency)
    assert np.linalg.eigvalsh(d.kinship).min() > -1e-12
    assert len(d.subject_ids) == 103 and len(d.snp_ids) == 25 and len(d.region_names) == 10
    assert d.truth.B.shape == (25, 10) and d.truth.causal.sum() == 3
    np.testing.assert_array_equal(d.truth.causal, d.truth.causal_mask.any(axis=1))


def test_same_seed_same_study_other_seed_other_study():
    a = simulate_spatial_lmm(7, n=60, p=10, c=6, n_causal=2, rho=0.3, h2=0.2)
    b = simulate_spatial_lmm(7, n=60, p=10, c=6, n_causal=2, rho=0.3, h2=0.2)
    c = simulate_spatial_lmm(8, n=60, p=10, c=6, n_causal=2, rho=0.3, h2=0.2)
    np.testing.assert_array_equal(a.Y, b.Y)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.Y, c.Y)


def test_causal_snps_act_on_spatially_contiguous_regions():
    d = simulate_spatial_lmm(2, n=50, p=40, c=25, n_causal=6, rho=0.5, h2=0.0, regions_per_snp=5)
    for j in np.flatnonzero(d.truth.causal):
        group = np.flatnonzero(d.truth.causal_mask[j])
        assert group.size == 5
        sub = d.adjacency[np.ix_(group, group)]
        reached, frontier = {0}, [0]  # the group's induced subgraph is connected
        while frontier:
            k = frontier.pop()
            for nb in np.flatnonzero(sub[k]):
                if nb not in reached:
                    reached.add(nb)
                    frontier.append(nb)
        assert len(reached) == group.size


def test_null_has_no_effects():
    d = simulate_spatial_lmm(3, n=40, p=10, c=4, n_causal=0, rho=0.2, h2=0.1)
    assert not d.truth.B.any() and not d.truth.causal.any()


def test_residuals_have_the_car_column_covariance_and_kinship_row_covariance():
    """Rotate the true residual by the kinship eigenvectors and rescale rows: what is left must be
    iid rows with covariance σ²(D_A − ρA)⁻¹. K is block-diagonal by family (checked), so the
    rotation is done family by family. Tolerance: 5 Monte Carlo standard errors."""
    rho, h2, sigma2, n, family = 0.8, 0.5, 2.0, 8000, 4
    d = simulate_spatial_lmm(4, n=n, p=5, c=6, n_causal=2, rho=rho, h2=h2, sigma2=sigma2,
                             graph="ring", family_size=family)
    X_std, _, _ = standardize_columns(d.X)
    residual = d.Y - d.covariates @ d.truth.Gamma - X_std @ d.truth.B
    blocks = np.kron(np.eye(n // family), np.ones((family, family)))
    assert not np.any(d.kinship[blocks == 0])
    white_rows = np.empty_like(residual)
    for start in range(0, n, family):
        rows = slice(start, start + family)
        lam, U = np.linalg.eigh(d.kinship[rows, rows])
        white_rows[rows] = (U.T @ residual[rows]) / np.sqrt(h2 * lam + 1 - h2)[:, None]
    expected = sigma2 * np.linalg.inv(np.asarray(car_precision(d.adjacency, rho)))
    empirical = white_rows.T @ white_rows / n
    se = np.sqrt((expected ** 2 + np.outer(np.diag(expected), np.diag(expected))) / n)
    assert np.all(np.abs(empirical - expected) < 5 * se)


@pytest.mark.parametrize("kwargs, message", [
    (dict(rho=1.0), "rho"), (dict(h2=1.2), "h2"), (dict(n_causal=99), "n_causal"),
    (dict(sigma2=0.0), "sigma2"), (dict(c=1), "c >= 2"),
])
def test_bad_arguments_are_refused(kwargs, message):
    args = dict(seed=0, n=30, p=10, c=5, n_causal=1, rho=0.5, h2=0.2) | kwargs
    with pytest.raises(ValueError, match=message):
        simulate_spatial_lmm(**args)
