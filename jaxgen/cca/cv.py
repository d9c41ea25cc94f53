"""Cross-validation of a CCA method over a hyperparameter grid as one compiled computation.

Folds are row masks of one shape, so every (setting, fold) fit — and, when nested, every inner fit of
every outer fold — runs in a single compiled call, the settings split over the devices and each
device's share vmapped on a GPU, fit after fit on a CPU (:mod:`jaxgen.cca.batch`); standardization
and Gram matrices are computed once per fold and shared by all settings.
"""

from __future__ import annotations

import itertools
import sys
import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from jaxgen.cca.batch import check_batch_memory, grid_by_split, per_split
from jaxgen.cca.data import check_inputs, check_masks
from jaxgen.cca.estimator import CCAEstimator
from jaxgen.runtime import batch_mesh, single_threaded_blas, spread_over_devices

__all__ = ["CVResult", "NestedCVResult", "cross_validate", "kfold_masks", "stack_settings"]


@dataclass(frozen=True)
class NestedCVResult:
    """Nested CV: for each outer fold o, the setting chosen by inner CV on its training rows and the
    correlations of that setting refitted on them. test_corr, train_corr : (n_outer, K)."""

    params: list
    train_corr: np.ndarray
    test_corr: np.ndarray


@dataclass(frozen=True)
class CVResult:
    """Cross-validation of G settings over F folds with K tasks.

    params : list of G dicts (the grid).  train_corr, test_corr : (G, F, K) canonical correlations.
    n_iter, converged : (G, F).  best_index, best_params : the setting with the highest mean test
    correlation (over folds and tasks).  best_estimator : a clone with best_params refitted on all
    rows.  nested : NestedCVResult when ``nested=True``, else None.
    """

    params: list
    train_corr: np.ndarray
    test_corr: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    best_index: int
    best_params: dict
    best_estimator: CCAEstimator
    nested: NestedCVResult | None

    @property
    def mean_test_corr(self) -> np.ndarray:
        """(G, K) test correlation averaged over folds."""
        return self.test_corr.mean(axis=1)

    def table(self) -> pd.DataFrame:
        """One row per setting: its parameters, mean train/test correlation per task, convergence."""
        rows = pd.DataFrame(self.params)
        K = self.test_corr.shape[2]
        for k in range(K):
            rows[f"train_corr_{k}"] = self.train_corr[:, :, k].mean(axis=1)
            rows[f"test_corr_{k}"] = self.test_corr[:, :, k].mean(axis=1)
            rows[f"test_corr_sd_{k}"] = self.test_corr[:, :, k].std(axis=1, ddof=1)
        rows["mean_test_corr"] = self.test_corr.mean(axis=(1, 2))
        rows["all_converged"] = self.converged.all(axis=1)
        return rows


def kfold_masks(n: int, cv: int, seed: int, rows=None) -> np.ndarray:
    """(cv, n) 0/1 training masks of a shuffled K-fold split of ``rows`` (default all n rows);
    rows outside ``rows`` are in no fold. The test rows of fold f are ``rows`` minus its training rows."""
    rows = np.arange(n) if rows is None else np.asarray(rows)
    if not 2 <= cv <= rows.size:
        raise ValueError(f"cv must be between 2 and the number of rows ({rows.size}), got {cv}")
    folds = np.array_split(np.random.default_rng(seed).permutation(rows), cv)
    masks = np.zeros((cv, n))
    for f, test in enumerate(folds):
        masks[f, rows] = 1.0
        masks[f, test] = 0.0
    return masks


def cross_validate(estimator: CCAEstimator, X, Ys, *, Lx=None, Ly=None, param_grid: dict, cv: int = 5,
                   seed: int = 0, nested: bool = False, progress: bool = True) -> CVResult:
    """K-fold cross-validation of ``estimator`` over ``param_grid`` (name → values; full product).

    X (n, p), Ys (K of (n, q) or (K, n, q)), Lx (p, p), Ly ((q, q) or (K, q, q)) as in ``fit``. The
    Laplacians are computed once from all rows when omitted (they use X and the Y_k alone, never the
    X–Y association). With ``nested=True`` an outer ``cv``-fold loop reports the test correlation of
    the setting chosen by an inner ``cv``-fold CV on each outer training set — an unbiased estimate of
    the whole tuning procedure — in the same compiled call as the plain CV.
    """
    inputs = check_inputs(X, Ys, Lx, Ly)
    grid = _expand_grid(estimator, param_grid, inputs)
    n = inputs.X.shape[0]
    hyper_grid = stack_settings(grid)

    plain = kfold_masks(n, cv, seed)
    train, test, outer = [plain], [1.0 - plain], None
    if nested:
        outer = kfold_masks(n, cv, seed + 1)
        for o, outer_train in enumerate(outer):
            inner = kfold_masks(n, cv, seed + 2 + o, np.flatnonzero(outer_train))
            train.append(inner)
            test.append(outer_train - inner)
    train, test = np.concatenate(train), np.concatenate(test)
    if estimator.standardize:
        check_masks(inputs, train, "training fold {s}")

    mesh = batch_mesh()
    check_batch_memory((n, inputs.X.shape[1], *inputs.Ys.shape[::2]), len(grid) * train.shape[0], train.shape[0],
                       mesh)
    run = grid_by_split(estimator.solver, bool(estimator.standardize), mesh)
    hyper_grid, n_settings = spread_over_devices(hyper_grid, mesh.devices.flat)
    label = f"{type(estimator).__name__} CV: {len(grid)} settings × {train.shape[0]} folds"
    with _Stopwatch(label, progress), single_threaded_blas():
        result = run(inputs.X, inputs.Ys, inputs.Lx, inputs.Ly, estimator.snp_groups(inputs), train, test,
                     hyper_grid, jnp.asarray(estimator.tol, float), jnp.asarray(int(estimator.max_iter)))
        result = jax.tree.map(lambda a: a[:, :n_settings], _to_numpy(result))
    # Leading axes are (split, setting); report (setting, fold).
    train_corr, test_corr = (np.swapaxes(a, 0, 1) for a in (result.train_corr, result.test_corr))
    n_iter, converged = (np.swapaxes(a, 0, 1) for a in (result.solution.n_iter, result.solution.converged))
    best = _best(test_corr[:, :cv])
    best_params = grid[best]
    refit = _clone(estimator, best_params).fit(inputs.X, inputs.Ys, inputs.Lx, inputs.Ly)
    refit.snp_names_, refit.region_names_ = inputs.snp_names, inputs.region_names
    nested_result = None
    if nested:
        nested_result = _outer_scores(estimator, inputs, grid, test_corr[:, cv:], outer, progress)
    return CVResult(params=grid, train_corr=train_corr[:, :cv], test_corr=test_corr[:, :cv],
                    n_iter=n_iter[:, :cv], converged=converged[:, :cv], best_index=best,
                    best_params=best_params, best_estimator=refit, nested=nested_result)


def _outer_scores(estimator, inputs, grid, inner_test_corr, outer, progress) -> NestedCVResult:
    """Pick each outer fold's setting from its inner folds, then refit all outer folds in one call."""
    n_outer = outer.shape[0]
    chosen = [_best(block) for block in np.split(inner_test_corr, n_outer, axis=1)]
    params = [grid[g] for g in chosen]
    mesh = batch_mesh()
    run = per_split(estimator.solver, bool(estimator.standardize), mesh)
    refits, _ = spread_over_devices({"train": outer, "test": 1.0 - outer, "hyper": stack_settings(params)},
                                    mesh.devices.flat)
    with _Stopwatch(f"{type(estimator).__name__} nested CV: {n_outer} outer refits", progress), \
            single_threaded_blas():
        result = run(inputs.X, inputs.Ys, inputs.Lx, inputs.Ly, estimator.snp_groups(inputs), refits["train"],
                     refits["test"], refits["hyper"], jnp.asarray(estimator.tol, float),
                     jnp.asarray(int(estimator.max_iter)))
        result = jax.tree.map(lambda a: a[:n_outer], _to_numpy(result))
    return NestedCVResult(params=params, train_corr=result.train_corr, test_corr=result.test_corr)


def _expand_grid(estimator, param_grid, inputs) -> list[dict]:
    """The full grid as a list of complete hyperparameter dicts (grid values over the estimator's),
    each checked against the data ``inputs`` as ``fit`` checks it. A per-task hyperparameter's values
    may be numbers or sequences of K numbers."""
    if not param_grid:
        raise ValueError("param_grid must name at least one hyperparameter")
    unknown = sorted(set(param_grid) - set(estimator._hyper_names))
    if unknown:
        raise ValueError(f"{type(estimator).__name__} cannot cross-validate {unknown}; "
                         f"numeric hyperparameters: {list(estimator._hyper_names)}")
    base = estimator.hyper(inputs)
    names = list(param_grid)
    grid = []
    for values in itertools.product(*(_grid_values(param_grid[name]) for name in names)):
        setting = dict(base, **dict(zip(names, values)))
        grid.append(_clone(estimator, setting).hyper(inputs))    # same checks and values as fit
    return grid


def _grid_values(values) -> list:
    """A grid's values for one hyperparameter: a sequence of values (numbers, or sequences of K
    numbers for a per-task hyperparameter), or one number."""
    return list(values) if isinstance(values, list | tuple | np.ndarray | jax.Array) else [values]


def stack_settings(settings: list[dict]) -> dict:
    """Hyperparameter dicts → one dict of arrays with a leading axis (G,): what a batch of fits takes.
    A per-task value given as one number in some settings and as K numbers in others is broadcast."""
    stacked = {}
    for name in settings[0]:
        values = [np.asarray(s[name], dtype=float) for s in settings]
        shape = np.broadcast_shapes(*(v.shape for v in values))
        stacked[name] = jnp.asarray(np.stack([np.broadcast_to(v, shape) for v in values]))
    return stacked


def _best(test_corr) -> int:
    """Index of the setting (axis 0) with the highest mean test correlation; failed fits never win."""
    score = np.nan_to_num(test_corr.mean(axis=tuple(range(1, test_corr.ndim))), nan=-np.inf)
    if not np.isfinite(score).any():
        raise FloatingPointError("every setting of the grid failed (non-finite weights): "
                                 "increase the penalties or ridge terms")
    return int(np.argmax(score))


def _clone(estimator, params) -> CCAEstimator:
    return type(estimator)(**dict(estimator.get_params(), **params))


def _to_numpy(tree):
    return jax.tree_util.tree_map(np.asarray, tree)


class _Stopwatch:
    """Report a long computation's start and duration on stderr (when ``enabled``)."""

    def __init__(self, label: str, enabled: bool):
        self.label, self.enabled = label, enabled

    def __enter__(self):
        self.start = time.perf_counter()
        if self.enabled:
            print(f"{self.label} …", end="", file=sys.stderr, flush=True)
        return self

    def __exit__(self, *exc):
        if self.enabled:
            print(f" done in {time.perf_counter() - self.start:.1f} s", file=sys.stderr, flush=True)
