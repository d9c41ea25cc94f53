"""JCBSCCA reproduces the authors' jcbscca.m iterate for iterate (float64), its stopping rule, its
K ≠ 2 generalization, and refuses bad input clearly."""

import itertools

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from jaxgen.cca import JCBSCCA, cross_validate
from jaxgen.cca.cv import kfold_masks
from jaxgen.cca.jcbscca import fuse_modalities
from jaxgen.data import simulate_multitask_cca

MATLAB_EPS = 2.220446049250313e-16


def zscore(A):
    return (A - A.mean(axis=0)) / A.std(axis=0, ddof=1)


def get_connectivity(data, alpha=2):
    """get_connectivity.m: corr(data).^alpha without its diagonal, L = diag(row sums) − that."""
    A = np.corrcoef(data, rowvar=False) ** alpha
    A = A - np.diag(np.diag(A))
    return np.diag(A.sum(axis=1)) - A


def flsa_2c(v, tau):
    """The code's two-modality fused step on v (q, 2)."""
    dx = (v[:, 0] - v[:, 1]) / 2
    dx = np.sign(dx) * np.minimum(np.abs(dx), tau)
    return np.column_stack([v[:, 0] - dx, v[:, 1] + dx])


def all_pairs_prox(v, tau):
    """argmin_W ½‖W − v‖² + τ Σ_{k<j}|w_k − w_j| row by row, through its dual: W = v − τDᵀz with
    z = argmin_{|z| ≤ 1} ‖v − τDᵀz‖ (a bounded least-squares problem, solved exactly by BVLS)."""
    q, K = v.shape
    pairs = list(itertools.combinations(range(K), 2))
    if not pairs:
        return v.copy()
    D = np.zeros((len(pairs), K))
    for e, (k, j) in enumerate(pairs):
        D[e, k], D[e, j] = 1.0, -1.0
    out = np.empty_like(v)
    for i in range(q):
        z = lsq_linear(tau * D.T, v[i], bounds=(-1, 1), method="bvls", tol=1e-14).x
        out[i] = v[i] - tau * D.T @ z
    return out


def soft(x, lam):
    """The code's soft(): threshold at the lam-th largest |x| (descending sort), then unit norm."""
    th = np.sort(np.abs(x))[::-1][lam - 1]
    y = np.sign(x) * np.maximum(np.abs(x) - th, 0)
    return y / np.sqrt(np.sum(y ** 2))


def vsoft(x, lam):
    """The code's vsoft() on x (q, K): each column sorted descending, then temp(lam) indexes the
    column-major array — the first modality — for one threshold; joint Frobenius normalization."""
    temp = -np.sort(-np.abs(x), axis=0)
    th = temp.flatten(order="F")[lam - 1]
    y = np.sign(x) * np.maximum(np.abs(x) - th, 0)
    return y / np.sqrt(np.sum(y ** 2))


def reference_jcbscca(X, Ys, Hx, Hys, para, max_iter=400, err=0.005):
    """jcbscca.m line by line in NumPy (modalities as columns of v), with u0 = 1/p, v0 = 1/q as in
    example_simulation.m. para = [β₁, β₂, λ₁, λ₂₁ … λ₂K, τ]. For K ≠ 2 the fused step is the
    all-pairs proximal step and the fused objective term runs over all pairs (the generalization).
    Returns u (p,), v (q, K), the objective per iteration and the iteration count."""
    n_img, n_snp, n_class = Ys[0].shape[1], X.shape[1], len(Ys)
    u0, v0 = np.ones(n_snp) / n_snp, np.ones(n_img) / n_img
    u_new = u0.copy()
    v = np.tile(v0[:, None], (1, n_class))
    d1 = 1 / np.sqrt(u_new ** 2 + MATLAB_EPS)
    d2 = [1 / np.sqrt(v[:, ic] ** 2 + MATLAB_EPS) for ic in range(n_class)]
    diff_obj = err * 10
    lambda1, lambda2, tau = para[2], para[3:3 + n_class], para[3 + n_class]
    obj = []
    for i in range(1, max_iter + 1):
        beta_1, beta_2 = para[0], para[1]
        u = u0.copy()
        for ic in range(n_class):
            u = u + X.T @ (Ys[ic] @ v[:, ic] / n_img)
        u = u + lambda1 * np.diag(Hx @ u_new) @ (np.diag(d1) @ u_new)
        u_new = soft(u, int(np.trunc(beta_1)))
        u = u_new
        d1 = 1 / np.sqrt(u ** 2 + MATLAB_EPS)
        for ic in range(n_class):
            v[:, ic] = Ys[ic].T @ (X @ u / n_snp) \
                + lambda2[ic] * np.diag(Hys[ic] @ v[:, ic]) @ (np.diag(d2[ic]) @ v[:, ic])
        v_new = flsa_2c(v, tau) if n_class == 2 else all_pairs_prox(v, tau)
        v = vsoft(v_new, int(np.trunc(beta_2)))
        d2 = [1 / np.sqrt(v[:, ic] ** 2 + MATLAB_EPS) for ic in range(n_class)]
        for ic in range(n_class):                       # assigned, not added: the last modality remains
            value = -u @ X.T @ Ys[ic] @ v[:, ic] + lambda2[ic] * v[:, ic] @ Hys[ic] @ v[:, ic] \
                + beta_2 * np.sum(np.abs(v[:, ic]))
        fusion = sum(np.sum(np.abs(v[:, k] - v[:, j])) for k, j in itertools.combinations(range(n_class), 2))
        obj.append(value + beta_1 * np.sum(np.abs(u)) + tau * fusion + lambda1 * u @ Hx @ u)
        if i != 1:
            diff_obj = abs((obj[-1] - obj[-2]) / obj[-2])
        if diff_obj < err:
            break
    u = u / np.sqrt(u @ X.T @ X @ u)
    v = np.column_stack([v[:, ic] / np.sqrt(v[:, ic] @ Ys[ic].T @ Ys[ic] @ v[:, ic]) for ic in range(n_class)])
    return u, v, np.array(obj), i


def study_data(seed, n, p, q, ccc):
    d = simulate_multitask_cca(seed, n=n, p=p, q=q, n_tasks=len(ccc), ccc=ccc)
    return d.X, list(d.Ys)


def fit_both(X, Ys, para, max_iter, tol):
    """The estimator and the transcription on the same data and connectivity penalties."""
    K = len(Ys)
    Hx, Hys = get_connectivity(X), [get_connectivity(Y) for Y in Ys]
    fit = JCBSCCA(n_keep_x=para[0], n_keep_y=para[1], lam1=para[2], lam2=tuple(para[3:3 + K]), tau=para[3 + K],
                  tol=tol, max_iter=max_iter).fit(X, Ys, Lx=Hx, Ly=np.stack(Hys))
    reference = reference_jcbscca(zscore(X), [zscore(Y) for Y in Ys], Hx, Hys, para, max_iter=max_iter, err=tol)
    return fit, reference


TWO_MODALITIES = [  # (seed, n, p, q, ccc, para = [β₁, β₂, λ₁, λ₂₁, λ₂₂, τ])
    (1, 80, 30, 12, (0.9, 0.6), [10, 5, 0.1, 0.1, 0.1, 0.1]),          # the example script's λ's and τ
    (2, 60, 41, 17, (0.8, 0.3), [25, 9, 1.0, 0.4, 2.0, 0.02]),
    (3, 100, 23, 9, (0.7, 0.7), [2, 9, 0.0, 3.0, 0.0, 5.0]),           # β at the ends of their ranges
    (4, 70, 35, 14, (0.9, 0.2), [35, 2, 2.5, 0.0, 0.7, 0.6]),
]


@pytest.mark.parametrize("seed, n, p, q, ccc, para", TWO_MODALITIES)
def test_iterates_match_the_published_code(seed, n, p, q, ccc, para):
    X, Ys = study_data(seed, n, p, q, ccc)
    for max_iter in (1, 2, 9, 60):
        fit, (u, v, _, n_iter) = fit_both(X, Ys, para, max_iter, tol=0.0)
        assert fit.n_iter_ == n_iter == max_iter and not fit.converged_
        np.testing.assert_allclose(fit.U_, np.column_stack([u, u]), rtol=0, atol=1e-10 * np.abs(u).max())
        np.testing.assert_allclose(fit.V_, v, rtol=0, atol=1e-10 * np.abs(v).max())


@pytest.mark.parametrize("tol", [0.005, 1e-4, 1e-6])
def test_stopping_rule_is_the_relative_objective_change(tol):
    X, Ys = study_data(5, 90, 28, 11, (0.9, 0.5))
    para = [12, 6, 0.3, 0.1, 0.2, 0.05]
    fit, (u, v, obj, n_iter) = fit_both(X, Ys, para, 400, tol)
    changes = np.abs(np.diff(obj) / obj[:-1])
    assert np.all(np.abs(changes - tol) > 1e-9 * tol)                   # no iteration is a coin toss
    first = 2 + int(np.argmax(changes < tol))                           # iteration numbers start at 1
    assert fit.converged_ and fit.n_iter_ == n_iter == first
    np.testing.assert_allclose(fit.V_, v, rtol=0, atol=1e-10 * np.abs(v).max())


def test_tol_zero_runs_exactly_max_iter():
    X, Ys = study_data(6, 50, 12, 6, (0.9, 0.5))
    fit = JCBSCCA(n_keep_x=6, n_keep_y=4, tol=0, max_iter=37).fit(X, Ys)
    assert fit.n_iter_ == 37 and not fit.converged_


def test_defaults_are_the_code_and_its_connectivity():
    """Omitted Laplacians are get_connectivity(·, 2) of the data; None cardinalities are p and q;
    one λ₂ is every modality's; the defaults are the code's (tol 0.005, 400 iterations)."""
    X, Ys = study_data(7, 60, 15, 8, (0.9, 0.5))
    est = JCBSCCA()
    assert (est.tol, est.max_iter, est.lam1, est.lam2, est.tau) == (0.005, 400, 0.1, 0.1, 0.1)
    fit = est.fit(X, Ys)
    _, (u, v, _, n_iter) = fit_both(X, Ys, [15, 8, 0.1, 0.1, 0.1, 0.1], 400, 0.005)
    assert fit.n_iter_ == n_iter
    np.testing.assert_allclose(fit.U_[:, 0], u, rtol=0, atol=1e-10 * np.abs(u).max())
    np.testing.assert_allclose(fit.V_, v, rtol=0, atol=1e-10 * np.abs(v).max())


def test_cardinality_follows_the_first_modality():
    """β₁ − 1 SNPs are kept; the region threshold is modality 1's β₂-th largest, so modality 1 keeps
    β₂ − 1 regions and modality 2 whatever exceeds that threshold."""
    X, Ys = study_data(8, 80, 20, 10, (0.9, 0.6))
    fit = JCBSCCA(n_keep_x=7, n_keep_y=5, tau=0.0, tol=0, max_iter=5).fit(X, Ys)
    assert np.all((fit.U_ != 0).sum(axis=0) == 6) and (fit.V_[:, 0] != 0).sum() == 4
    assert (fit.V_[:, 1] != 0).sum() == 7                               # not 4: the threshold is modality 1's


@pytest.mark.parametrize("K", [1, 2, 3, 5])
def test_fused_step_is_the_all_pairs_proximal_step(K):
    rng = np.random.default_rng(K)
    B = rng.standard_normal((30, K))
    B[:5] = np.round(B[:5], 0)                                          # ties within rows
    for tau in (0.0, 0.05, 0.4, 3.0):
        np.testing.assert_allclose(np.asarray(fuse_modalities(B, tau)), all_pairs_prox(B, tau), rtol=0, atol=1e-10)
    if K == 2:
        np.testing.assert_allclose(np.asarray(fuse_modalities(B, 0.4)), flsa_2c(B, 0.4), rtol=0, atol=1e-15)


@pytest.mark.parametrize("ccc, para", [((0.9,), [8, 5, 0.2, 0.3, 0.0]),
                                       ((0.9, 0.5, 0.2), [8, 5, 0.2, 0.3, 0.1, 1.0, 0.08])])
def test_other_numbers_of_modalities(ccc, para):
    """K = 1 (no fused step) and K = 3 (all-pairs fused step) against the transcription."""
    X, Ys = study_data(9, 70, 18, 9, ccc)
    fit, (u, v, _, n_iter) = fit_both(X, Ys, para, 25, tol=0.0)
    assert fit.U_.shape == (18, len(ccc)) and fit.n_iter_ == n_iter == 25
    np.testing.assert_allclose(fit.U_, np.tile(u[:, None], len(ccc)), rtol=0, atol=1e-10 * np.abs(u).max())
    np.testing.assert_allclose(fit.V_, v, rtol=0, atol=1e-10 * np.abs(v).max())


def test_cardinality_grid_is_a_grid_like_any_other():
    X, Ys = study_data(10, 60, 16, 8, (0.9, 0.5))
    grid = {"n_keep_x": [4, 12], "n_keep_y": [3, 6], "lam2": [0.1, (0.5, 2.0)]}
    cv = cross_validate(JCBSCCA(max_iter=50), X, Ys, param_grid=grid, cv=3, seed=1, progress=False)
    assert len(cv.params) == 8 and cv.test_corr.shape == (8, 3, 2)
    train = kfold_masks(60, 3, seed=1).astype(bool)
    for g in (0, 7):
        setting = cv.params[g]
        for f, rows in enumerate(train):
            fit = JCBSCCA(max_iter=50, **setting).fit(X[rows], [Y[rows] for Y in Ys],
                                                      get_connectivity(X), np.stack([get_connectivity(Y) for Y in Ys]))
            assert fit.n_iter_ == cv.n_iter[g, f]
            np.testing.assert_allclose(cv.test_corr[g, f], fit.score(X[~rows], [Y[~rows] for Y in Ys]), atol=1e-10)
    assert cv.params[7]["lam2"] == (0.5, 2.0) and cv.params[0]["n_keep_x"] == 4


@pytest.mark.parametrize("params, message", [
    (dict(lam2=(0.1, 0.2, 0.3)), r"lam2 has 3 values but the data have K=2 modalities"),
    (dict(lam1=(0.1, 0.2)), r"lam1 must be one number"),
    (dict(n_keep_x=1), r"n_keep_x must be a whole number between 2 and p \(SNPs\) = 12, got 1"),
    (dict(n_keep_x=13), r"n_keep_x must be a whole number between 2 and p \(SNPs\) = 12, got 13"),
    (dict(n_keep_y=2.5), r"n_keep_y must be a whole number between 2 and q \(regions\) = 6, got 2.5"),
    (dict(n_keep_y=7), r"n_keep_y must be a whole number between 2 and q \(regions\) = 6, got 7"),
    (dict(tau=-0.1), r"tau must be a finite number >= 0"),
    (dict(lam2=(0.1, np.nan)), r"lam2 must be a finite number >= 0"),
    (dict(variant="mm"), r"variant must be 'published', got 'mm'"),
])
def test_bad_input_is_refused(params, message):
    X, Ys = study_data(6, 50, 12, 6, (0.9, 0.5))
    with pytest.raises(ValueError, match=message):
        JCBSCCA(**params).fit(X, Ys)


def test_an_emptied_modality_is_reported_as_such():
    """With τ = 0 and β₂ = 2 modality 2 keeps no region here, and the code's final scaling gives NaN."""
    X, Ys = study_data(4, 70, 35, 14, (0.9, 0.2))
    with pytest.raises(FloatingPointError, match=r"non-finite V \(region weights\): a modality kept no region"):
        JCBSCCA(n_keep_y=2, tau=0.0).fit(X, Ys)


def test_bad_grid_values_are_refused_before_any_fit():
    X, Ys = study_data(6, 50, 12, 6, (0.9, 0.5))
    with pytest.raises(ValueError, match=r"n_keep_y must be a whole number between 2 and q \(regions\) = 6"):
        cross_validate(JCBSCCA(), X, Ys, param_grid={"n_keep_y": [3, 8]}, progress=False)
    with pytest.raises(ValueError, match=r"lam2 has 1 values but the data have K=2"):
        cross_validate(JCBSCCA(), X, Ys, param_grid={"lam2": [(0.1,)]}, progress=False)


def test_vmapped_and_sequential_fits_agree():
    """A GPU vmaps a batch of settings (traced cardinalities, per-task λ₂ of shape (G, K)); a CPU
    runs them one after another: the same fits."""
    from functools import partial

    from jaxgen.cca.batch import fit_and_score, map_fits
    from jaxgen.cca.cv import stack_settings

    X, Ys = study_data(11, 60, 14, 7, (0.9, 0.5))
    Hx, Hy = get_connectivity(X), np.stack([get_connectivity(Y) for Y in Ys])
    settings = stack_settings([dict(n_keep_x=float(a), n_keep_y=float(b), lam1=0.1, lam2=lam2, tau=0.05)
                               for a, b, lam2 in [(3, 4, (0.1, 0.1)), (9, 6, (1.0, 0.2)), (14, 5, (0.0, 3.0))]])
    ones = np.ones(60)
    fit = partial(fit_and_score, JCBSCCA.solver, True, X, np.stack(Ys), Hx, Hy, np.arange(14), ones, ones,
                  tol=np.asarray(0.005), max_iter=np.asarray(400))
    sequential, vmapped = (map_fits(platform)(lambda h: fit(hyper=h), settings) for platform in ("cpu", "gpu"))
    np.testing.assert_allclose(vmapped.solution.V, sequential.solution.V, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(vmapped.solution.n_iter, sequential.solution.n_iter)
    assert np.all(np.isfinite(sequential.solution.V))
