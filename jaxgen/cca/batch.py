"""The one compiled fit on a row mask that every entry point shares, and its vmapped forms.

``fit_and_score`` standardizes on the training rows, runs a method's solver and scores the weights on
the training rows and on held-out rows. A plain fit is one call (every row trains); cross-validation
vmaps it over folds and hyperparameter grids; the permutation test vmaps it over permuted genotypes.

With several devices, :func:`jaxgen.runtime.spread_over_devices` shards the batched axis over them,
and the same compiled call runs one slice per device in parallel (see :mod:`jaxgen.runtime`).
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import NamedTuple

import jax

from jaxgen.cca.data import CCAData, canonical_correlations, masked_views
from jaxgen.cca.loop import CCASolution

__all__ = ["FitScore", "fit_and_score", "grid_by_split", "per_split"]


class FitScore(NamedTuple):
    """solution : CCASolution; train_corr, test_corr : (K,) canonical correlations; scale : the
    standardization (x_mean (p,), x_sd (p,), y_mean (K, q), y_sd (K, q)) of the training rows."""

    solution: CCASolution
    train_corr: jax.Array
    test_corr: jax.Array
    scale: tuple


@partial(jax.jit, static_argnums=(0, 1))
def fit_and_score(solver, standardize, X, Ys, Lx, Ly, groups, train_mask, test_mask, hyper, tol, max_iter):
    """Fit ``solver`` on the rows of ``train_mask`` (n,) and score on both masks.

    X : (n, p), Ys : (K, n, q) raw data; Lx (p, p); Ly (K, q, q); groups (p,) int; hyper : dict of
    scalars; tol, max_iter : scalars.
    """
    Zx, Zys, scale = masked_views(X, Ys, train_mask, standardize)
    data = CCAData(X=Zx * train_mask[:, None], Ys=Zys * train_mask[None, :, None], Lx=Lx, Ly=Ly,
                   groups=groups, mask=train_mask)
    solution = solver(data, hyper, tol, max_iter)
    return FitScore(solution=solution,
                    train_corr=canonical_correlations(Zx, Zys, solution.U, solution.V, train_mask),
                    test_corr=canonical_correlations(Zx, Zys, solution.U, solution.V, test_mask),
                    scale=scale)


@lru_cache(maxsize=None)
def grid_by_split(solver, standardize):
    """Compiled fit of every hyperparameter setting (hyper leaves (G,)) on every split (masks (S, n)).

    Outputs carry leading axes (S, G). Quantities that depend only on the split (standardization,
    Gram matrices) are computed once per split, not once per setting.
    """
    over_grid = jax.vmap(partial(fit_and_score, solver, standardize),
                         in_axes=(None, None, None, None, None, None, None, 0, None, None))
    over_splits = jax.vmap(over_grid, in_axes=(None, None, None, None, None, 0, 0, None, None, None))
    return jax.jit(over_splits)


@lru_cache(maxsize=None)
def per_split(solver, standardize, batch_x: bool = False):
    """Compiled fit of one setting per split, zipped: hyper leaves (S,), masks (S, n); with
    ``batch_x`` the genotypes are batched too (X (S, n, p), as in a permutation test)."""
    x_axis = 0 if batch_x else None
    return jax.jit(jax.vmap(partial(fit_and_score, solver, standardize),
                            in_axes=(x_axis, None, None, None, None, 0, 0, 0, None, None)))
