"""Adjacency checks, CAR log-determinant and Laplacians."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.graphs import CARSpectrum, car_precision, lattice_adjacency, laplacian, ring_adjacency, validate_adjacency


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.9, 0.999])
def test_car_logdet_from_spectrum_matches_dense_logdet(rho):
    A = lattice_adjacency(11)
    A[0, 5] = A[5, 0] = 2.5  # weighted edges too
    spectrum = CARSpectrum.from_adjacency(A)
    sign, expected = np.linalg.slogdet(np.asarray(car_precision(A, rho)))
    assert sign == 1
    assert float(spectrum.logdet(rho)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.97])
def test_car_correlated_rows_have_covariance_q_inverse(rho):
    """z T(ρ)ᵀ from the spectrum: with z = I the rows stack Tᵀ, and TTᵀ equals Q(ρ)⁻¹ exactly."""
    A = lattice_adjacency(12)
    spectrum = CARSpectrum.from_adjacency(A)
    rows = np.asarray(spectrum.correlated_rows(jnp.eye(A.shape[0]), rho))
    np.testing.assert_allclose(rows.T @ rows, np.linalg.inv(np.asarray(car_precision(A, rho))), rtol=1e-12, atol=1e-12)


def test_builders_give_valid_graphs_with_expected_degrees():
    np.testing.assert_array_equal(ring_adjacency(6).sum(axis=1), 2)
    L = lattice_adjacency(9)  # 3 x 3 grid: corners 2, edges 3, centre 4
    np.testing.assert_array_equal(L.sum(axis=1), [2, 3, 2, 3, 4, 3, 2, 3, 2])
    validate_adjacency(lattice_adjacency(7))


@pytest.mark.parametrize("A, message", [
    (np.ones((3, 2)), "square"),
    (np.array([[0, 1.0], [0.5, 0]]), "symmetric"),
    (np.array([[0, -1.0], [-1.0, 0]]), "non-negative"),
    (np.array([[1.0, 1], [1, 0]]), "zero diagonal"),
    (np.array([[0, 1.0, 0], [1, 0, 0], [0, 0, 0]]), r"isolated regions .*\[2\]"),
    (np.array([[0, np.nan], [np.nan, 0]]), "non-finite"),
    (np.array([[1.0]]), "zero diagonal"),
    (np.zeros((0, 0)), "at least 1 region"),
])
def test_invalid_adjacency_is_refused(A, message):
    with pytest.raises(ValueError, match=message):
        validate_adjacency(A)


def test_laplacian_quadratic_form_is_weighted_squared_differences():
    rng = np.random.default_rng(0)
    W = rng.uniform(size=(5, 5))
    W = W + W.T
    x = rng.standard_normal(5)
    expected = 0.5 * sum(W[i, j] * (x[i] - x[j]) ** 2 for i in range(5) for j in range(5) if i != j)
    assert x @ laplacian(W) @ x == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.7])
def test_one_region_has_car_precision_one(rho):
    """A single QT: the 1 × 1 adjacency [0] is valid and Q(ρ) = 1 for every ρ (log|Q| = 0, draws iid)."""
    A = np.zeros((1, 1))
    spectrum = CARSpectrum.from_adjacency(A)
    np.testing.assert_array_equal(np.asarray(car_precision(A, rho)), [[1.0]])
    assert float(spectrum.logdet(rho)) == 0.0
    z = np.array([[0.3], [-1.2]])
    np.testing.assert_allclose(np.asarray(spectrum.correlated_rows(jnp.asarray(z), rho)), z)


def test_a_kinship_singular_to_float32_rounding_is_accepted_and_a_wrong_one_refused():
    """A GRM of fewer SNPs than subjects is singular: float32 products leave its zero eigenvalues at a few
    ±1e-6·max, which is rounding (clipped to 0); a matrix that is no kinship is refused."""
    from jaxgen.graphs import kinship_eigen

    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.standard_normal((30, 30)))[0]
    lam = np.concatenate([np.linspace(1.0, 3.0, 10), np.zeros(20)])
    for smallest, accepted in ((-1e-5 * 3.0, True), (-3e-2, False)):
        lam[-1] = smallest
        K = (U * lam) @ U.T
        if accepted:
            values, _ = kinship_eigen(K, 30)
            assert values.min() == 0.0 and np.isclose(values.max(), 3.0)
        else:
            with pytest.raises(ValueError, match="kinship is not positive semi-definite: smallest eigenvalue -0.03"):
                kinship_eigen(K, 30)
