"""The one compiled fit on a row mask that every entry point shares, and its batched forms.

``fit_and_score`` standardizes on the training rows, runs a method's solver and scores the weights on
the training rows and on held-out rows. A plain fit is one call (every row trains); cross-validation
runs it over folds and hyperparameter grids; the permutation test over permuted genotypes.

A batch of fits is one compiled call. Its batched axis is split over the devices of a mesh
(:func:`jaxgen.runtime.batch_mesh`, ``jax.shard_map``; the devices never communicate), and each
device runs its share as the platform does best (:func:`map_fits`): vmapped on a GPU, one fit
after another on a CPU core.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec

from jaxgen.cca.data import CCAData, canonical_correlations, masked_views
from jaxgen.cca.loop import CCASolution
from jaxgen.runtime import require_memory

__all__ = ["FitScore", "check_batch_memory", "fit_and_score", "grid_by_split", "map_fits", "per_split"]


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


def check_batch_memory(shape: tuple[int, int, int, int], n_fits: int, n_splits: int, mesh,
                       batch_x: bool = False) -> None:
    """Refuse (MemoryError) a batch of ``n_fits`` fits over ``n_splits`` row masks that cannot fit on a
    device of ``mesh``. shape : (n, p, K, q).

    A fit holds its standardized views and about two (p, p) and 2K (q, q) matrices; each split its
    Gram matrices (shared by the settings); a GPU holds its whole share of the fits at once (vmapped),
    a CPU device one fit at a time. With ``batch_x`` every fit also has its own X (a permutation).
    """
    n, p, K, q = shape
    itemsize = jnp.dtype(jnp.result_type(float)).itemsize
    per_fit = 2 * p * p + 2 * K * q * q + n * (p + K * q) + (n * p if batch_x else 0)
    devices = mesh.devices.size
    at_once = -(-n_fits // devices) if _platform(mesh) != "cpu" else 1
    needed = itemsize * (at_once * per_fit + n_splits * (p * p + K * q * q))
    require_memory(needed, f"{n_fits} CCA fits ({at_once} at a time per device, n = {n}, p = {p}, K = {K}, q = {q})",
                   "use a smaller grid, fewer folds or permutations per batch, or fewer SNPs",
                   device=mesh.devices.flat[0])


def map_fits(platform: str) -> Callable:
    """How one device runs ``fit`` over the leading axis of ``batch``: ``run(fit, batch)``.

    On a GPU the fits are vmapped, so the device sees one wide batch. A CPU device runs them one
    after another in the same compiled call (``lax.map``): its LAPACK calls go matrix by matrix
    anyway, and a vmapped batch of hundreds of fits makes every elementwise step stream all their
    matrices through memory, while one fit's stay in cache. Measured on the CCA benchmark grid (405
    fits, one CPU device, float32): 5.5–5.7 s one after another, 6.5–7.3 s four fits vmapped at a
    time (and 2 s more to compile), 7.5–8.2 s all vmapped. With ``tol > 0`` each fit also stops on
    its own, where vmapped fits all run until the slowest stops (the demo's CV grid, 180 fits on two
    CPU devices: 1.1–1.3 s against 2.1–2.9 s).
    """
    if platform == "cpu":
        return lambda fit, batch: jax.lax.map(fit, batch)
    return lambda fit, batch: jax.vmap(fit)(batch)


@lru_cache(maxsize=None)
def grid_by_split(solver, standardize, mesh):
    """Compiled fit of every hyperparameter setting on every split, the settings split over ``mesh``.

    Call with (X, Ys, Lx, Ly, groups, train (S, n), test (S, n), hyper, tol, max_iter), hyper leaves
    (G,) with G a multiple of the mesh's devices (:func:`jaxgen.runtime.spread_over_devices`).
    Outputs carry leading axes (S, G). Quantities that depend only on the split (standardization,
    Gram matrices) do not depend on the setting, and XLA computes them once per split.
    """
    fit, run = partial(fit_and_score, solver, standardize), map_fits(_platform(mesh))

    def device_share(X, Ys, Lx, Ly, groups, train, test, hyper, tol, max_iter):
        def one_split(masks):
            return run(lambda setting: fit(X, Ys, Lx, Ly, groups, *masks, setting, tol, max_iter), hyper)
        return run(one_split, (train, test))

    return _spread_over(mesh, device_share, batched=(7,), out_axis=1)


@lru_cache(maxsize=None)
def per_split(solver, standardize, mesh, batch_x: bool = False):
    """Compiled fit of one setting per split, zipped and split over ``mesh``: hyper leaves (S,), masks
    (S, n), S a multiple of the mesh's devices; with ``batch_x`` the genotypes are batched too
    (X (S, n, p), as in a permutation test). Outputs carry a leading axis (S,)."""
    fit, run = partial(fit_and_score, solver, standardize), map_fits(_platform(mesh))

    def device_share(X, Ys, Lx, Ly, groups, train, test, hyper, tol, max_iter):
        if batch_x:
            return run(lambda b: fit(b[0], Ys, Lx, Ly, groups, *b[1:], tol, max_iter), (X, train, test, hyper))
        return run(lambda b: fit(X, Ys, Lx, Ly, groups, *b, tol, max_iter), (train, test, hyper))

    return _spread_over(mesh, device_share, batched=(0, 5, 6, 7) if batch_x else (5, 6, 7), out_axis=0)


def _platform(mesh) -> str:
    return mesh.devices.flat[0].platform


def _spread_over(mesh, device_share, batched: tuple, out_axis: int):
    """jit of ``device_share`` under ``shard_map``: the leading axis of the arguments at the positions
    ``batched`` (of ten) and axis ``out_axis`` of every output are split over the mesh's "batch" axis."""
    spread = PartitionSpec("batch")
    in_specs = tuple(spread if i in batched else PartitionSpec() for i in range(10))
    out_specs = PartitionSpec(*[None] * out_axis, "batch")
    # check_vma=False: each fit's while loop starts from constants that are the same on every device
    return jax.jit(jax.shard_map(device_share, mesh=mesh, in_specs=in_specs, out_specs=out_specs,
                                 check_vma=False))
