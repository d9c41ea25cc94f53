"""The vmapped CV equals fitting fold by fold; nested CV and the permutation test run as designed."""

import numpy as np
import pytest

from jaxgen.cca import MTS2CCA, SCCA, cross_validate, permutation_test
from jaxgen.cca.cv import kfold_masks
from jaxgen.data import simulate_multitask_cca


@pytest.fixture(scope="module")
def study():
    return simulate_multitask_cca(8, n=123, p=25, q=10, n_tasks=3, ccc=(0.9, 0.6, 0.3))


GRID = dict(beta1=[0.5, 20.0], lam2=[0.1, 3.0])


@pytest.fixture(scope="module")
def cv_result(study):
    d = study
    return cross_validate(MTS2CCA(max_iter=60), d.X, d.Ys, Lx=d.Lx, Ly=d.Ly, param_grid=GRID, cv=4, seed=5,
                          nested=True, progress=False)


def test_folds_partition_the_rows():
    masks = kfold_masks(23, 4, seed=1)
    assert np.all((1 - masks).sum(axis=0) == 1)                    # each row tested exactly once
    assert sorted((1 - masks).sum(axis=1)) == [5, 6, 6, 6]


def test_vmapped_cv_equals_looped_cv(study, cv_result):
    d = study
    masks = kfold_masks(123, 4, seed=5)
    assert len(cv_result.params) == 4 and cv_result.test_corr.shape == (4, 4, 3)
    for g, params in enumerate(cv_result.params):
        for f, train in enumerate(masks.astype(bool)):
            fit = MTS2CCA(max_iter=60, **{k: params[k] for k in GRID}).fit(d.X[train], d.Ys[:, train],
                                                                             d.Lx, d.Ly)
            assert fit.n_iter_ == cv_result.n_iter[g, f]
            np.testing.assert_allclose(cv_result.train_corr[g, f], fit.train_correlations_, atol=1e-10)
            np.testing.assert_allclose(cv_result.test_corr[g, f], fit.score(d.X[~train], d.Ys[:, ~train]),
                                       atol=1e-10)


def test_best_setting_is_refitted_on_all_rows(study, cv_result):
    d = study
    means = cv_result.test_corr.mean(axis=(1, 2))
    assert cv_result.best_index == int(np.argmax(means))
    assert cv_result.best_params == cv_result.params[cv_result.best_index]
    refit = MTS2CCA(max_iter=60, **cv_result.best_params).fit(d.X, d.Ys, d.Lx, d.Ly)
    np.testing.assert_allclose(cv_result.best_estimator.U_, refit.U_, atol=1e-12)
    table = cv_result.table()
    assert list(table["beta1"]) == [0.5, 0.5, 20.0, 20.0]
    np.testing.assert_allclose(table["mean_test_corr"], means)


def test_nested_cv_scores_each_outer_fold_with_its_inner_choice(study, cv_result):
    d = study
    nested = cv_result.nested
    assert nested.test_corr.shape == (4, 3) and len(nested.params) == 4
    outer = kfold_masks(123, 4, seed=6).astype(bool)
    for o in (0, 3):
        # the inner split cross_validate uses for outer fold o, rebuilt and fitted by hand
        inner_masks = kfold_masks(123, 4, seed=7 + o, rows=np.flatnonzero(outer[o]))
        scores = []
        for params in cv_result.params:
            per_fold = []
            for m in inner_masks.astype(bool):
                test = outer[o] & ~m
                fit = MTS2CCA(max_iter=60, **{k: params[k] for k in GRID}).fit(d.X[m], d.Ys[:, m], d.Lx, d.Ly)
                per_fold.append(fit.score(d.X[test], d.Ys[:, test]))
            scores.append(np.mean(per_fold))
        chosen = cv_result.params[int(np.argmax(scores))]
        assert nested.params[o] == chosen
        fit = MTS2CCA(max_iter=60, **{k: chosen[k] for k in GRID}).fit(d.X[outer[o]], d.Ys[:, outer[o]], d.Lx, d.Ly)
        np.testing.assert_allclose(nested.test_corr[o], fit.score(d.X[~outer[o]], d.Ys[:, ~outer[o]]), atol=1e-10)


def test_grid_names_and_values_are_checked(study):
    d = study
    with pytest.raises(ValueError, match="cannot cross-validate"):
        cross_validate(MTS2CCA(), d.X, d.Ys, param_grid=dict(alpha1=[1.0]), progress=False)
    with pytest.raises(ValueError, match="beta1 must be a finite number >= 0"):
        cross_validate(MTS2CCA(), d.X, d.Ys, param_grid=dict(beta1=[1.0, -2.0]), progress=False)
    with pytest.raises(ValueError, match="cv must be between 2"):
        cross_validate(SCCA(), d.X, d.Ys, param_grid=dict(alpha1=[1.0]), cv=1, progress=False)


def test_permutation_null_equals_refits_on_shuffled_genotypes(study):
    d = study
    est = MTS2CCA(beta1=5.0, max_iter=50)
    result = permutation_test(est, d.X, d.Ys, Lx=d.Lx, Ly=d.Ly, n_permutations=30, seed=2, batch_size=8,
                              progress=False)
    order = np.random.default_rng(2).permutation(123)
    refit = MTS2CCA(beta1=5.0, max_iter=50).fit(d.X[order], d.Ys, d.Lx, d.Ly)
    np.testing.assert_allclose(result.null[0], refit.train_correlations_, atol=1e-10)
    assert result.null.shape == (30, 3)
    # the strong first task beats every shuffle; p-values are (1 + count) / (B + 1)
    assert result.p_values[0] == pytest.approx(1 / 31)
    np.testing.assert_allclose(result.p_values, (1 + (result.null >= result.observed).sum(axis=0)) / 31)


def test_permutation_p_values_are_not_small_without_association(study):
    d = study
    shuffled = d.X[np.random.default_rng(9).permutation(123)]
    result = permutation_test(MTS2CCA(beta1=5.0, max_iter=50), shuffled, d.Ys, Lx=d.Lx, Ly=d.Ly,
                              n_permutations=40, seed=1, progress=False)
    assert result.p_value > 0.05


SHARDED_RUN = """
import json, sys
import jax
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_num_cpu_devices", 3)
from jaxgen.cca import MTS2CCA, cross_validate, permutation_test
from jaxgen.data import simulate_multitask_cca
assert len(jax.devices()) == 3
d = simulate_multitask_cca(8, n=123, p=25, q=10, n_tasks=3, ccc=(0.9, 0.6, 0.3))
cv = cross_validate(MTS2CCA(max_iter=60), d.X, d.Ys, Lx=d.Lx, Ly=d.Ly, param_grid=dict(beta1=[0.5, 20.0],
                    lam2=[0.1, 3.0]), cv=4, seed=5, progress=False)
perm = permutation_test(MTS2CCA(max_iter=30), d.X, d.Ys, Lx=d.Lx, Ly=d.Ly, n_permutations=10, batch_size=4,
                        seed=3, progress=False)
json.dump({"test_corr": cv.test_corr.tolist(), "n_iter": cv.n_iter.tolist(), "null": perm.null.tolist()},
          sys.stdout)
"""


def test_cv_and_permutations_spread_over_three_cpu_devices_equal_one_device(study):
    """Four settings (padded to six) and batches of 4 and 2 shuffles (padded to six and three)
    sharded over three CPU devices in a fresh process give the single-device numbers."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", SHARDED_RUN], capture_output=True, text=True, env=env, check=True)
    sharded = json.loads(out.stdout)
    d = study
    cv = cross_validate(MTS2CCA(max_iter=60), d.X, d.Ys, Lx=d.Lx, Ly=d.Ly,
                        param_grid=dict(beta1=[0.5, 20.0], lam2=[0.1, 3.0]), cv=4, seed=5, progress=False)
    perm = permutation_test(MTS2CCA(max_iter=30), d.X, d.Ys, Lx=d.Lx, Ly=d.Ly, n_permutations=10, batch_size=4,
                            seed=3, progress=False)
    np.testing.assert_allclose(sharded["test_corr"], cv.test_corr, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(sharded["n_iter"], cv.n_iter)
    np.testing.assert_allclose(sharded["null"], perm.null, rtol=0, atol=1e-12)


def test_vmapped_and_sequential_device_shares_agree(study):
    """A GPU vmaps its share of fits, a CPU device runs them one after another: the same numbers."""
    from functools import partial

    import jax.numpy as jnp

    from jaxgen.cca.batch import fit_and_score, map_fits

    d = study
    estimator = MTS2CCA()
    settings = {**{k: jnp.full(6, v) for k, v in estimator.hyper().items()},
                "beta1": jnp.asarray([0.5, 20.0, 0.5, 20.0, 5.0, 5.0]),
                "lam2": jnp.asarray([0.1, 0.1, 3.0, 3.0, 1.0, 0.3])}
    train = (np.arange(123) % 4 != 0).astype(float)
    fit = partial(fit_and_score, estimator.solver, True, d.X, d.Ys, d.Lx, np.broadcast_to(d.Ly, (3, 10, 10)),
                  np.arange(25), train, 1.0 - train, tol=jnp.asarray(1e-5), max_iter=jnp.asarray(400))
    sequential, vmapped = (map_fits(platform)(lambda h: fit(hyper=h), settings) for platform in ("cpu", "gpu"))
    np.testing.assert_allclose(vmapped.solution.U, sequential.solution.U, rtol=0, atol=1e-12)
    np.testing.assert_allclose(vmapped.test_corr, sequential.test_corr, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(vmapped.solution.n_iter, sequential.solution.n_iter)
    assert len(set(np.asarray(sequential.solution.n_iter).tolist())) > 1      # the settings stop apart
