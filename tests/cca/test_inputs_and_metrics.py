"""Bad input is refused with a message naming the problem; AUC, Laplacian and LD-block builders."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from jaxgen.cca import MTS2CCA, cross_validate, selection_auc
from jaxgen.graphs import (adjacency_laplacian, column_correlation, correlation_laplacian, group_labels, ld_blocks,
                           ld_laplacian)

rng = np.random.default_rng(0)
X = rng.standard_normal((30, 6))
Ys = rng.standard_normal((2, 30, 4))


@pytest.mark.parametrize("mutate, message", [
    (lambda X, Ys, Lx, Ly: (np.where(np.arange(6) == 2, np.nan, X), Ys, Lx, Ly),
     r"X has 30 missing or non-finite values, the first at row 0, column 2 \(nan\)"),
    (lambda X, Ys, Lx, Ly: (X, Ys[:, :-1], Lx, Ly), r"Ys\[0\] has 29 rows but X has 30"),
    (lambda X, Ys, Lx, Ly: (X, [Ys[0], Ys[1][:, :3]], Lx, Ly), r"Ys\[1\] has 3 regions but Ys\[0\] has 4"),
    (lambda X, Ys, Lx, Ly: (X, Ys[0], Lx, Ly), r"wrap a single modality"),
    (lambda X, Ys, Lx, Ly: (X, Ys, Lx[:, :-1], Ly), r"Lx must be square \(6, 6\)"),
    (lambda X, Ys, Lx, Ly: (X, Ys, Lx, np.ones((3, 4, 4))), r"Ly must be \(q, q\)"),
    (lambda X, Ys, Lx, Ly: (X, Ys, Lx + np.triu(np.ones((6, 6)), 1), Ly), r"Lx must be symmetric"),
    (lambda X, Ys, Lx, Ly: (X, Ys, -Lx, Ly), r"Lx must be positive semi-definite"),
    (lambda X, Ys, Lx, Ly: (np.column_stack([X[:, :5], np.ones(30)]), Ys, Lx, Ly), r"column 5 of X is constant"),
    (lambda X, Ys, Lx, Ly: (X, [], Lx, Ly), r"at least one modality"),
])
def test_bad_input_is_refused_clearly(mutate, message):
    Lx, Ly = correlation_laplacian(np.corrcoef(X, rowvar=False)), np.eye(4) - 0.25
    args = mutate(X, Ys, Lx, Ly)
    with pytest.raises(ValueError, match=message):
        MTS2CCA().fit(*args)


def test_bad_hyperparameters_are_refused():
    with pytest.raises(ValueError, match="beta2 must be a finite number >= 0"):
        MTS2CCA(beta2=-1).fit(X, Ys)
    with pytest.raises(ValueError, match="max_iter must be a positive integer"):
        MTS2CCA(max_iter=0).fit(X, Ys)
    with pytest.raises(ValueError, match="param_grid must name"):
        cross_validate(MTS2CCA(), X, Ys, param_grid={}, progress=False)


def test_singular_systems_raise_naming_the_weights():
    wide = rng.standard_normal((10, 40))
    with pytest.raises(FloatingPointError, match=r"non-finite U \(SNP weights\)"):
        MTS2CCA(beta1=0, lam1=0, r1=0).fit(wide, rng.standard_normal((1, 10, 3)))


def test_selection_auc_matches_sklearn_with_ties():
    truth = rng.random(50) < 0.3
    W = np.round(rng.standard_normal((50, 3)) + truth[:, None], 1)
    W[:5] = 0.0                                                         # ties at zero
    assert selection_auc(W, truth) == pytest.approx(roc_auc_score(truth, np.linalg.norm(W, axis=1)), abs=1e-12)
    assert selection_auc(W[:, 0], truth) == pytest.approx(roc_auc_score(truth, np.abs(W[:, 0])), abs=1e-12)
    with pytest.raises(ValueError, match="both true and false"):
        selection_auc(W, np.ones(50, bool))


def test_laplacian_builders():
    G = rng.integers(0, 3, size=(200, 8)).astype(float)
    G[:, 1] = np.clip(G[:, 0] + (rng.random(200) < 0.1), 0, 2)        # SNPs 0 and 1 in LD
    L = ld_laplacian(G)
    R = np.corrcoef(G, rowvar=False)
    np.testing.assert_allclose(L.sum(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(-L[0, 1], R[0, 1] ** 2)
    assert np.linalg.eigvalsh(L)[0] > -1e-12
    np.testing.assert_allclose(-correlation_laplacian(R, power=4)[0, 1], R[0, 1] ** 4)
    A = np.array([[0, 1, 0], [1, 0, 2], [0, 2, 0]], float)
    np.testing.assert_allclose(adjacency_laplacian(A), np.diag([1, 3, 2]) - A)
    with pytest.raises(ValueError, match="isolated"):
        adjacency_laplacian(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="unit diagonal"):
        correlation_laplacian(2 * R)
    blocks = ld_blocks(G)
    assert blocks[0] == blocks[1] and blocks.max() >= 4
    np.testing.assert_array_equal(group_labels(["b", "b", "a", "c"], 4), [0, 0, 1, 2])


def test_one_region_fits_with_default_laplacians_and_gives_the_multiple_correlation():
    """q = 1: the default brain Laplacian is [[0]]; unpenalized CCA is then OLS, whose canonical
    correlation is the multiple correlation R = √R² of y on X."""
    y = X @ rng.standard_normal(6) + rng.standard_normal(30)
    fitted = MTS2CCA(beta1=0, beta2=0, lam1=0, lam2=0, r1=0, r2=0, tol=0, max_iter=3).fit(X, y[None, :, None])
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    residual = yc - Xc @ np.linalg.lstsq(Xc, yc, rcond=None)[0]
    r_squared = 1 - residual @ residual / (yc @ yc)
    assert fitted.V_.shape == (1, 1)
    np.testing.assert_allclose(fitted.score(X, y[None, :, None]), [np.sqrt(r_squared)], rtol=1e-5)
    np.testing.assert_array_equal(column_correlation(y[:, None]), [[1.0]])
    with pytest.raises(ValueError, match=r"Y has constant columns \[1\]"):
        column_correlation(np.column_stack([y, np.ones(30)]), "Y")
