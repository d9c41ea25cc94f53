"""Speed of the CCA engine: one MTS2CCA fit and a cross-validation grid, JAX vs a NumPy loop vs cca-zoo.

Usage: python benchmarks/bench_cca.py [--platform cpu|gpu] [--x64] [--quick] [--cpu-devices N] [--out FILE]

Workload (the issue's target): n=300, p=150, q=60, K=3; a grid of 81 settings (beta1, beta2, lam1,
lam2 each in {0.1, 1, 10}) × 5 folds, exactly 100 iterations per fit (tol=0). JAX runs the whole
grid as one compiled call; the NumPy baseline runs the same algorithm fit by fit (float64,
LU solves), and cca-zoo's PMDCCA (sparse CCA, single task) fits each modality with 100 iterations.
On CPU, JAX is given one device per core (``--cpu-devices``, default all cores) and the grid is
sharded over them (``jaxgen.runtime.spread_over_devices``): each device runs its slice of the
grid on its own core. The grid on one device is timed too. Every contestant runs with BLAS
single-threaded (``jaxgen.runtime``), which is the faster setting for each of them here. Compile
time is reported apart (first call − best later call); every timed JAX call ends in
block_until_ready. Results: JSON in benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

from machine import describe_machine

EPS = 2.220446e-16
GRID = {name: [0.1, 1.0, 10.0] for name in ("beta1", "beta2", "lam1", "lam2")}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--x64", action="store_true", help="float64 in JAX (default float32)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--cpu-devices", type=int, default=os.cpu_count(),
                        help="CPU devices for JAX (default: one per core)")
    parser.add_argument("--out", default=None, help="JSON output (default benchmarks/results/cca_<platform>.json)")
    return parser.parse_args()


def numpy_mts2cca(X, Ys, Lx, Ly, beta1, beta2, lam1, lam2, n_iter, r1=1.0, r2=1.0):
    """The MTS2CCA algorithm as a plain NumPy loop (the baseline), on standardized X (n, p), Ys (K, n, q).

    Written as a careful NumPy user would: Gram matrices and the fixed part of each system once per
    fit, matrix products with ``@``, LAPACK solves (``np.linalg.solve``) in the loop.
    """
    K, p, q = Ys.shape[0], X.shape[1], Ys.shape[2]
    U, V, d1, d2 = np.ones((p, K)), np.ones((q, K)), np.ones(p), np.ones(q)
    XX, YY, XY = X.T @ X, [Y.T @ Y for Y in Ys], [X.T @ Y for Y in Ys]
    fixed_x = (1 + r1) * XX + lam1 * Lx
    fixed_y = [(1 + r2) * YY[k] + lam2 * Ly for k in range(K)]
    for _ in range(n_iter):
        rhs = np.column_stack([XY[k] @ V[:, k] for k in range(K)])
        U = np.linalg.solve(fixed_x + beta1 * np.diag(d1), rhs)
        U /= np.sqrt(np.sum(U * (XX @ U), axis=0))
        d1 = 0.5 / np.sqrt(np.sum(U ** 2 + EPS, axis=1))
        for k in range(K):
            v = np.linalg.solve(fixed_y[k] + beta2 * np.diag(d2), XY[k].T @ U[:, k])
            V[:, k] = v / np.sqrt(v @ YY[k] @ v)
        d2 = 0.5 / np.sqrt(np.sum(V ** 2 + EPS, axis=1))
    return U, V


def standardized(A):
    return (A - A.mean(axis=0)) / A.std(axis=0, ddof=1)


def time_numpy_grid(data, masks, settings, n_iter, budget_s, block=27):
    """Seconds per fit of the NumPy loop over (setting, fold) pairs, run in blocks of ``block`` fits
    until ``budget_s`` is spent: (the fastest block's seconds per fit, as JAX's grid is the best of
    5 calls; the mean over all fits; fits run)."""
    pairs = [(setting, mask) for setting in settings for mask in masks.astype(bool)]
    block_times, start = [], time.perf_counter()
    for first in range(0, len(pairs) - block + 1, block):
        block_start = time.perf_counter()
        for setting, mask in pairs[first:first + block]:
            X = standardized(data.X[mask])
            Ys = np.stack([standardized(Y[mask]) for Y in data.Ys])
            numpy_mts2cca(X, Ys, data.Lx, data.Ly, n_iter=n_iter, **setting)
        block_times.append((time.perf_counter() - block_start) / block)
        if time.perf_counter() - start > budget_s:
            break
    return min(block_times), float(np.mean(block_times)), block * len(block_times)


def time_cca_zoo(data, masks, n_iter, budget_s):
    """Seconds per grid point × fold of cca-zoo PMDCCA (K single-task fits), or None if not installed."""
    try:
        from cca_zoo.sparse import PMDCCA
    except ImportError:
        return None, 0
    warnings.filterwarnings("ignore", message="PMDCCA did not converge")     # exactly n_iter iterations
    bounds = [0.3, 0.6, 0.9]
    done, start = 0, time.perf_counter()
    for b1 in bounds:
        for b2 in bounds:
            for mask in masks.astype(bool):
                for Y in data.Ys:
                    PMDCCA(l1_bound=[b1, b2], max_iter=n_iter, tol=1e-300, random_state=0).fit(
                        [standardized(data.X[mask]), standardized(Y[mask])])
                done += 1
                if time.perf_counter() - start > budget_s:
                    return (time.perf_counter() - start) / done, done
    return (time.perf_counter() - start) / done, done


def main():
    args = parse_args()
    os.environ["JAX_PLATFORMS"] = "cuda" if args.platform == "gpu" else "cpu"
    import jax

    jax.config.update("jax_enable_x64", args.x64)
    if args.platform == "cpu":
        jax.config.update("jax_num_cpu_devices", args.cpu_devices)
    import jax.numpy as jnp

    from jaxgen.cca import MTS2CCA
    from jaxgen.cca.batch import grid_by_split
    from jaxgen.cca.cv import _expand_grid, kfold_masks
    from jaxgen.runtime import batch_mesh, single_threaded_blas, spread_over_devices
    from jaxgen.data import simulate_multitask_cca

    n, p, q, n_iter = (120, 40, 20, 30) if args.quick else (300, 150, 60, 100)
    data = simulate_multitask_cca(0, n=n, p=p, q=q, n_tasks=3)
    estimator = MTS2CCA(tol=0.0, max_iter=n_iter)
    settings = _expand_grid(estimator, GRID)
    masks = kfold_masks(n, 5, seed=0)
    hyper = {k: jnp.asarray([s[k] for s in settings]) for k in settings[0]}
    Ly = np.broadcast_to(data.Ly, (3, q, q))

    def grid_seconds(devices):
        """(compile seconds, best of 5 seconds) of the whole grid sharded over ``devices``."""
        run = grid_by_split(estimator.solver, True, batch_mesh(devices))
        sharded, _ = spread_over_devices(hyper, devices)

        def grid_call():
            out = run(data.X, data.Ys, data.Lx, Ly, np.arange(p), masks, 1.0 - masks, sharded,
                      jnp.asarray(0.0), jnp.asarray(n_iter))
            return jax.block_until_ready(out)

        start = time.perf_counter()
        grid_call()
        first = time.perf_counter() - start
        times = []
        for _ in range(5):
            start = time.perf_counter()
            grid_call()
            times.append(time.perf_counter() - start)
        return first - min(times), min(times)

    with single_threaded_blas():  # the faster setting for every contestant (NumPy loop: 60 vs 64 ms per fit)
        compile_s, grid_s = grid_seconds(jax.devices())
        _, grid_one_device_s = grid_seconds(jax.devices()[:1])
        n_fits = len(settings) * masks.shape[0]

        estimator.fit(data.X, data.Ys, data.Lx, data.Ly)                    # compile the single fit
        fit_times = []
        for _ in range(5):
            start = time.perf_counter()
            estimator.fit(data.X, data.Ys, data.Lx, data.Ly)
            fit_times.append(time.perf_counter() - start)

        budget = 10.0 if args.quick else 60.0
        numpy_per_fit, numpy_mean_per_fit, numpy_done = time_numpy_grid(
            data, masks, [{k: s[k] for k in GRID} for s in settings], n_iter, budget)
        zoo_per_point, zoo_done = time_cca_zoo(data, masks, n_iter, budget)

    results = {
        "device": str(jax.devices()[0]), "platform": args.platform,
        "machine": describe_machine(),
        "dtype": "float64" if args.x64 else "float32", "jax": jax.__version__,
        "workload": {"n": n, "p": p, "q": q, "K": 3, "settings": len(settings), "folds": 5,
                     "iterations_per_fit": n_iter, "fits": n_fits},
        "jax_devices": len(jax.devices()),
        "jax_grid": {"seconds": grid_s, "fits_per_s": n_fits / grid_s, "compile_s": compile_s},
        "jax_grid_one_device": {"seconds": grid_one_device_s, "fits_per_s": n_fits / grid_one_device_s},
        "jax_single_fit_s": min(fit_times),
        "numpy_loop": {"seconds_per_fit": numpy_per_fit, "mean_seconds_per_fit": numpy_mean_per_fit,
                       "fits_timed": numpy_done,
                       "grid_seconds_extrapolated": numpy_per_fit * n_fits,
                       "fits_per_s": 1.0 / numpy_per_fit},
        "speedup_grid_vs_numpy": numpy_per_fit * n_fits / grid_s,
        "speedup_grid_one_device_vs_numpy": numpy_per_fit * n_fits / grid_one_device_s,
        "speedup_single_fit_vs_numpy": numpy_per_fit / min(fit_times),
    }
    if zoo_per_point is not None:
        results["cca_zoo_pmd"] = {"seconds_per_grid_point_and_fold": zoo_per_point, "points_timed": zoo_done,
                                  "grid_seconds_extrapolated": zoo_per_point * n_fits,
                                  "note": "PMDCCA, K single-task fits per point, max_iter iterations, tol=1e-300"}
    print(json.dumps(results, indent=1))
    out = args.out or os.path.join(os.path.dirname(__file__), "results", f"cca_{args.platform}.json")
    key = results["dtype"]
    existing = json.load(open(out)) if os.path.exists(out) else {}
    existing[key] = results
    with open(out, "w") as handle:
        json.dump(existing, handle, indent=1)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
