"""Permutation test of the canonical correlations, refitted in compiled batches of permutations."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from jaxgen.cca.batch import check_batch_memory, per_split
from jaxgen.cca.cv import stack_settings
from jaxgen.cca.data import check_inputs
from jaxgen.cca.estimator import CCAEstimator
from jaxgen.runtime import batch_mesh, require_memory, single_threaded_blas, spread_over_devices

__all__ = ["PermutationResult", "permutation_test"]


@dataclass(frozen=True)
class PermutationResult:
    """observed : (K,) training canonical correlations of the fit on the real pairing.
    null : (B, K) the same from fits after shuffling the subjects of X against the Y_k.
    p_values : (K,) per task, (1 + #{null ≥ observed}) / (B + 1).
    p_value : the same for the sum over tasks (one test of any association)."""

    observed: np.ndarray
    null: np.ndarray
    p_values: np.ndarray
    p_value: float


def permutation_test(estimator: CCAEstimator, X, Ys, *, Lx=None, Ly=None, n_permutations: int = 1000,
                     seed: int = 0, batch_size: int = 100, progress: bool = True) -> PermutationResult:
    """Test H₀: X is independent of (Y₁ … Y_K) by refitting ``estimator`` (its own hyperparameters)
    on ``n_permutations`` row shuffles of X, ``batch_size`` fits per compiled call.

    The statistic is the training canonical correlation, so the penalties' effect on it is the same
    under the null and the test is exact up to Monte Carlo error. The Y_k keep their joint pairing.
    """
    if n_permutations < 1 or batch_size < 1:
        raise ValueError(f"n_permutations and batch_size must be positive, got {n_permutations}, {batch_size}")
    inputs = check_inputs(X, Ys, Lx, Ly)
    n, p = inputs.X.shape
    batch = min(batch_size, n_permutations)
    require_memory(8.0 * batch * n * p, f"a batch of {batch} permuted copies of X ({n} × {p})",
                   "lower batch_size", host=True)
    check_batch_memory((n, p, *inputs.Ys.shape[::2]), batch, batch, batch_mesh(), batch_x=True)
    observed = estimator.fit(inputs.X, inputs.Ys, inputs.Lx, inputs.Ly).train_correlations_
    estimator.snp_names_, estimator.region_names_ = inputs.snp_names, inputs.region_names
    rng = np.random.default_rng(seed)
    orders = np.stack([rng.permutation(n) for _ in range(n_permutations)])
    mesh = batch_mesh()
    run = per_split(estimator.solver, bool(estimator.standardize), mesh, batch_x=True)
    groups, hyper = estimator.snp_groups(inputs), estimator.hyper(inputs)
    null = []
    with single_threaded_blas():
        for start in range(0, n_permutations, batch_size):
            batch = orders[start:start + batch_size]
            shuffled, size = spread_over_devices({"X": inputs.X[batch], "rows": np.ones((len(batch), n)),
                                                  "hyper": stack_settings([hyper] * len(batch))},
                                                 mesh.devices.flat)
            result = run(shuffled["X"], inputs.Ys, inputs.Lx, inputs.Ly, groups, shuffled["rows"], shuffled["rows"],
                         shuffled["hyper"], jnp.asarray(estimator.tol, float), jnp.asarray(int(estimator.max_iter)))
            null.append(np.asarray(result.train_corr)[:size])
            if progress:
                done = start + len(batch)
                print(f"\rpermutations {done}/{n_permutations}", end="\n" if done == n_permutations else "",
                      file=sys.stderr, flush=True)
    null = np.concatenate(null)
    p_values = (1 + (null >= observed).sum(axis=0)) / (n_permutations + 1)
    p_value = (1 + (null.sum(axis=1) >= observed.sum()).sum()) / (n_permutations + 1)
    return PermutationResult(observed=observed, null=null, p_values=p_values, p_value=float(p_value))
