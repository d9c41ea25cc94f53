"""MTS2CCA reproduces the published algorithm's iterates (float64) and the exact unpenalized CCA."""

import numpy as np
import pytest

from jaxgen.cca import MTS2CCA, MTSCCA, SCCA
from jaxgen.data import simulate_multitask_cca

EPS = 2.220446e-16


def reference_mts2cca(X, Ys, Lx, Lys, beta1, beta2, lam1, lam2, r1, r2, max_iter, tol=0.0):
    """A plain NumPy transcription of the algorithm in the issue, one modality at a time (LU solves)."""
    standardize = lambda A: (A - A.mean(axis=0)) / A.std(axis=0, ddof=1)  # noqa: E731
    X, Ys = standardize(X), [standardize(Y) for Y in Ys]
    K, p, q = len(Ys), X.shape[1], Ys[0].shape[1]
    U, V, d1, d2 = np.ones((p, K)), np.ones((q, K)), np.ones(p), np.ones(q)
    XX = X.T @ X
    for it in range(1, max_iter + 1):
        U_old, V_old = U, V
        rhs = np.column_stack([X.T @ (Ys[k] @ V[:, k]) for k in range(K)])
        U = np.linalg.solve((1 + r1) * XX + lam1 * Lx + beta1 * np.diag(d1), rhs)
        U = U / np.sqrt(np.einsum("ik,ij,jk->k", U, XX, U))
        d1 = 1 / (2 * np.sqrt(np.sum(U ** 2 + EPS, axis=1)))
        V = np.empty((q, K))
        for k in range(K):
            YY = Ys[k].T @ Ys[k]
            v = np.linalg.solve((1 + r2) * YY + lam2 * Lys[k] + beta2 * np.diag(d2), Ys[k].T @ (X @ U[:, k]))
            V[:, k] = v / np.sqrt(v @ YY @ v)
        d2 = 1 / (2 * np.sqrt(np.sum(V ** 2 + EPS, axis=1)))
        change = max(np.linalg.norm(U - U_old) / np.linalg.norm(U_old),
                     np.linalg.norm(V - V_old) / np.linalg.norm(V_old))
        if change < tol:
            break
    return U, V, it


@pytest.fixture(scope="module")
def study():
    return simulate_multitask_cca(11, n=150, p=37, q=13, n_tasks=3, ccc=(0.8, 0.4, 0.2))


SETTINGS = [dict(beta1=1.0, beta2=1.0, lam1=1.0, lam2=1.0, r1=1.0, r2=1.0),
            dict(beta1=7.5, beta2=0.3, lam1=0.05, lam2=4.0, r1=0.0, r2=2.5),
            dict(beta1=40.0, beta2=25.0, lam1=3.0, lam2=0.0, r1=0.2, r2=0.0)]


@pytest.mark.parametrize("params", SETTINGS)
@pytest.mark.parametrize("max_iter", [1, 2, 9, 120])
def test_iterates_match_the_reference_algorithm(study, params, max_iter):
    d = study
    rng = np.random.default_rng(max_iter)
    Lys = [d.Ly * s for s in rng.uniform(0.5, 2.0, size=3)]          # one Laplacian per modality
    fit = MTS2CCA(tol=0, max_iter=max_iter, **params).fit(d.X, list(d.Ys), d.Lx, np.stack(Lys))
    U, V, _ = reference_mts2cca(d.X, list(d.Ys), d.Lx, Lys, max_iter=max_iter, **params)
    assert fit.n_iter_ == max_iter and not fit.converged_
    np.testing.assert_allclose(fit.U_, U, rtol=0, atol=1e-10 * np.abs(U).max())
    np.testing.assert_allclose(fit.V_, V, rtol=0, atol=1e-10 * np.abs(V).max())


def test_stopping_rule_matches_the_reference(study):
    d = study
    fit = MTS2CCA(tol=1e-6, max_iter=500).fit(d.X, d.Ys, d.Lx, d.Ly)
    U, V, n_iter = reference_mts2cca(d.X, list(d.Ys), d.Lx, [d.Ly] * 3, max_iter=500, tol=1e-6,
                                     **SETTINGS[0])
    assert fit.converged_ and fit.n_iter_ == n_iter < 500
    np.testing.assert_allclose(fit.U_, U, atol=1e-10)


def exact_first_canonical_pair(X, Y):
    """First canonical correlation and X weight from the SVD of Cxx^{-1/2} Cxy Cyy^{-1/2}."""
    X, Y = X - X.mean(axis=0), Y - Y.mean(axis=0)

    def inv_sqrt(C):
        w, Q = np.linalg.eigh(C)
        return Q @ np.diag(w ** -0.5) @ Q.T

    Wx, Wy = inv_sqrt(X.T @ X), inv_sqrt(Y.T @ Y)
    left, sv, _ = np.linalg.svd(Wx @ X.T @ Y @ Wy)
    return sv[0], Wx @ left[:, 0]


@pytest.mark.parametrize("estimator", [MTS2CCA(beta1=0, beta2=0, lam1=0, lam2=0, tol=0, max_iter=3000),
                                       MTSCCA(beta1=0, beta2=0, alpha1=0, alpha2=0, r1=0, r2=0, tol=0,
                                              max_iter=3000),
                                       SCCA(alpha1=0, alpha2=0, tol=0, max_iter=3000)])
def test_unpenalized_single_task_is_plain_cca(estimator):
    rng = np.random.default_rng(3)
    n, p, q = 400, 12, 7
    latent = rng.standard_normal(n)
    X = rng.standard_normal((n, p)) + np.outer(latent, rng.uniform(0.2, 1, p))
    Y = rng.standard_normal((n, q)) + np.outer(latent, rng.uniform(0.2, 1, q))
    rho, u = exact_first_canonical_pair(X, Y)
    fit = estimator.fit(X, [Y])
    assert abs(fit.train_correlations_[0] - rho) < 1e-10
    weights = fit.U_[:, 0] * fit.x_scale_ ** -1                        # weights on the raw columns
    cosine = abs(weights @ u) / (np.linalg.norm(weights) * np.linalg.norm(u))
    assert cosine > 1 - 1e-9
