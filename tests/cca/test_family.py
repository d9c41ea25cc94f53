"""TCCA solves what its docstring states; the shared estimator API behaves like sklearn."""

import numpy as np
import pytest

from jaxgen.cca import JCBSCCA, MTGSCCA, MTS2CCA, MTSCCA, SCCA, TCCA
from jaxgen.data import simulate_multitask_cca


@pytest.fixture(scope="module")
def study():
    return simulate_multitask_cca(21, n=240, p=18, q=9, n_tasks=2, ccc=(0.9, 0.6))


def standardized(A):
    return (A - A.mean(axis=0)) / A.std(axis=0, ddof=1)


def inv_sqrt(C):
    w, Q = np.linalg.eigh(C)
    return Q @ np.diag(w ** -0.5) @ Q.T


def test_tcca_is_the_best_rank_one_fit_of_the_materialized_tensor(study):
    d = study
    eps = 0.05
    fit = TCCA(eps=eps, n_starts=40, tol=1e-13, max_iter=5000).fit(d.X, d.Ys)
    views = [standardized(d.X)] + [standardized(Y) for Y in d.Ys]
    n = views[0].shape[0]
    whiteners = [inv_sqrt(Z.T @ Z / (n - 1) + eps * np.eye(Z.shape[1])) for Z in views]
    white = [Z @ W for Z, W in zip(views, whiteners)]
    M = np.einsum("ni,nj,nk->ijk", *white) / n                         # the whitened covariance tensor
    # whitened factors of the fit, unit norm
    h = [np.linalg.solve(whiteners[0], fit.U_[:, 0])] + \
        [np.linalg.solve(whiteners[k + 1], fit.V_[:, k]) for k in range(2)]
    h = [v / np.linalg.norm(v) for v in h]
    value = abs(np.einsum("ijk,i,j,k->", M, *h))
    # stationarity: contracting all but one mode returns that mode's factor times the value
    np.testing.assert_allclose(np.abs(np.einsum("ijk,j,k->i", M, h[1], h[2])), value * np.abs(h[0]), atol=1e-8)
    np.testing.assert_allclose(np.abs(np.einsum("ijk,i,j->k", M, h[0], h[1])), value * np.abs(h[2]), atol=1e-8)
    # and no random start of the higher-order power method does better
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b, c = (rng.standard_normal(s) for s in M.shape)
        for _ in range(300):
            a = np.einsum("ijk,j,k->i", M, b, c); a /= np.linalg.norm(a)
            b = np.einsum("ijk,i,k->j", M, a, c); b /= np.linalg.norm(b)
            c = np.einsum("ijk,i,j->k", M, a, b); c /= np.linalg.norm(c)
        assert abs(np.einsum("ijk,i,j,k->", M, a, b, c)) <= value + 1e-9
    assert np.all(fit.train_correlations_ >= 0)
    np.testing.assert_allclose(fit.U_[:, 0], fit.U_[:, 1])


def test_tcca_with_two_views_is_regularized_cca(study):
    d = study
    fit = TCCA(eps=1e-3, tol=1e-14, max_iter=5000).fit(d.X, [d.Ys[0]])
    Zx, Zy = standardized(d.X), standardized(d.Ys[0])
    n = Zx.shape[0]
    Wx = inv_sqrt(Zx.T @ Zx / (n - 1) + 1e-3 * np.eye(18))
    Wy = inv_sqrt(Zy.T @ Zy / (n - 1) + 1e-3 * np.eye(9))
    left, _, right = np.linalg.svd(Wx @ (Zx.T @ Zy / n) @ Wy)
    u, v = Wx @ left[:, 0], Wy @ right[0]
    expected = np.corrcoef(Zx @ u, Zy @ v)[0, 1]
    assert abs(fit.train_correlations_[0] - abs(expected)) < 1e-9


@pytest.mark.parametrize("cls", [MTS2CCA, MTSCCA, MTGSCCA, SCCA, JCBSCCA, TCCA])
def test_estimator_api(cls, study):
    d = study
    est = cls(max_iter=50)
    assert est.get_params()["max_iter"] == 50 and repr(est).startswith(cls.__name__ + "(")
    assert est.set_params(tol=1e-3) is est and est.tol == 1e-3
    with pytest.raises(ValueError, match="has no parameter"):
        est.set_params(bogus=1)
    with pytest.raises(RuntimeError, match="not fitted"):
        est.score(d.X, d.Ys)
    assert est.fit(d.X, d.Ys, d.Lx, d.Ly) is est
    assert est.U_.shape == (18, 2) and est.V_.shape == (9, 2) and 1 <= est.n_iter_ <= 50
    x_scores, y_scores = est.transform(d.X, d.Ys)
    assert x_scores.shape == y_scores.shape == (240, 2)
    np.testing.assert_allclose(est.score(d.X, list(d.Ys)), est.train_correlations_, atol=1e-10)
    again = cls(max_iter=50, tol=1e-3).fit(d.X, d.Ys, d.Lx, d.Ly)
    np.testing.assert_array_equal(again.U_, est.U_)                     # same input, same result
    with pytest.raises(ValueError, match=r"fitted on \(p, K, q\)"):
        est.transform(d.X[:, :-1], d.Ys)


def test_standardize_false_takes_the_data_as_given(study):
    d = study
    X, Ys = standardized(d.X), np.stack([standardized(Y) for Y in d.Ys])
    a = MTS2CCA(standardize=False).fit(X, Ys, d.Lx, d.Ly)
    b = MTS2CCA().fit(d.X, d.Ys, d.Lx, d.Ly)
    np.testing.assert_allclose(a.U_, b.U_, atol=1e-10)


def test_default_laplacians_come_from_the_data_correlations(study):
    from jaxgen.graphs import correlation_laplacian
    d = study
    built = MTS2CCA().fit(d.X, d.Ys)
    Ly = np.stack([correlation_laplacian(np.corrcoef(Y, rowvar=False)) for Y in d.Ys])
    given = MTS2CCA().fit(d.X, d.Ys, correlation_laplacian(np.corrcoef(d.X, rowvar=False)), Ly)
    np.testing.assert_allclose(built.U_, given.U_, atol=1e-12)
