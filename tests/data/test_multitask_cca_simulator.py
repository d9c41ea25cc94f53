"""simulate_multitask_cca: shapes, determinism, and that the true canonical structure holds."""

import numpy as np
import pytest

from jaxgen.data import simulate_multitask_cca, standardize_columns


@pytest.fixture(scope="module")
def large():
    return simulate_multitask_cca(5, n=20000, p=30, q=12)


def test_shapes_and_supports():
    d = simulate_multitask_cca(0, n=80, p=40, q=18, n_tasks=3)
    assert d.X.shape == (80, 40) and d.Ys.shape == (3, 80, 18)
    assert d.Lx.shape == (40, 40) and d.Ly.shape == (18, 18)
    assert d.truth.U.shape == (40, 3) and d.truth.V.shape == (18, 3)
    np.testing.assert_array_equal(d.truth.U != 0, np.repeat(d.truth.causal_snps[:, None], 3, axis=1))
    np.testing.assert_array_equal(d.truth.V != 0, np.repeat(d.truth.causal_regions[:, None], 3, axis=1))
    for L in (d.Lx, d.Ly):  # Laplacians: symmetric, rows sum to 0, PSD
        np.testing.assert_allclose(L, L.T)
        np.testing.assert_allclose(L.sum(axis=1), 0, atol=1e-12)
        assert np.linalg.eigvalsh(L).min() > -1e-10


def test_same_seed_same_data():
    a, b = (simulate_multitask_cca(9, n=50, p=20, q=8) for _ in range(2))
    np.testing.assert_array_equal(a.Ys, b.Ys)
    np.testing.assert_array_equal(a.X, b.X)


def test_true_weights_reach_the_requested_canonical_correlations(large):
    """corr(X̃u_k, Ỹ_k v_k) estimates ccc_k with sd ≈ (1 − ρ²)/√n; allow 4 of them."""
    X, _, _ = standardize_columns(large.X)
    for k, rho in enumerate(large.truth.ccc):
        Y, _, _ = standardize_columns(large.Ys[k])
        u_scores, v_scores = X @ large.truth.U[:, k], Y @ large.truth.V[:, k]
        assert np.corrcoef(u_scores, v_scores)[0, 1] == pytest.approx(rho, abs=4 * (1 - rho ** 2) / np.sqrt(20000) + 1e-3)
        assert u_scores.var() == pytest.approx(1, abs=0.05) and v_scores.var() == pytest.approx(1, abs=0.05)


def test_first_sample_canonical_correlation_is_near_ccc_for_the_strong_tasks(large):
    X, _, _ = standardize_columns(large.X)
    for k in (0, 1):  # ρ = 0.9, 0.5; for ρ = 0.1 the sample CCA is dominated by its upward bias
        Y, _, _ = standardize_columns(large.Ys[k])
        qx, _ = np.linalg.qr(X)
        qy, _ = np.linalg.qr(Y)
        first = np.linalg.svd(qx.T @ qy, compute_uv=False)[0]
        assert first == pytest.approx(large.truth.ccc[k], abs=0.02)


def test_region_covariance_is_the_truth_and_modalities_share_it(large):
    for k in range(3):
        np.testing.assert_allclose(np.corrcoef(large.Ys[k].T), large.truth.region_correlation, atol=0.04)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="one correlation per task"):
        simulate_multitask_cca(0, n=50, p=10, q=6, n_tasks=2, ccc=(0.9, 0.5, 0.1))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        simulate_multitask_cca(0, n=50, p=10, q=6, n_tasks=1, ccc=(1.0,))


def test_sample_moments_use_only_the_causal_block():
    """From the sample moments (a simulated genome-wide study), the modalities and truth equal those drawn with
    the full sample covariance given, and no p × p matrix is formed."""
    from jaxgen.data.multitask_cca import multitask_modalities
    from jaxgen.graphs import lattice_adjacency

    X = np.random.default_rng(0).binomial(2, 0.3, (60, 500)).astype(float)
    A = lattice_adjacency(9)
    ccc = np.array([0.5, 0.3])
    kwargs = dict(n_causal_snps=6, n_causal_regions=3)
    Ys, truth = multitask_modalities(np.random.default_rng(1), X, A, ccc, **kwargs)
    full_Ys, full = multitask_modalities(np.random.default_rng(1), X, A, ccc, snp_mean=X.mean(0),
                                         snp_covariance=np.cov(X, rowvar=False), **kwargs)
    np.testing.assert_allclose(Ys, full_Ys, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(truth.U, full.U, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(truth.V, full.V)
    assert truth.snp_correlation is None and full.snp_correlation.shape == (500, 500)
