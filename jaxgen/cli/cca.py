"""``jaxgen cca``: a multi-task sparse CCA method on a study's files: CV over a grid, refit, permutation test."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from jaxgen import cca
from jaxgen.cli.common import add_run_options, device_scope
from jaxgen.cli.inputs import add_input_options, bounded, genotype_files, genotype_selection, preflight
from jaxgen.io import ReadLog, atomic_output_dir, load_cca_study
from jaxgen.reports import write_cca_outputs
from jaxgen.runtime import Stopwatch

__all__ = ["add_arguments", "default_grid", "parse_grid", "run"]

HELP = "fit a multi-task sparse CCA (MTS2CCA and family) with CV over a grid; write weights, plots and report.md"

METHODS = {"mts2cca": cca.MTS2CCA, "mtscca": cca.MTSCCA, "mtgscca": cca.MTGSCCA, "scca": cca.SCCA,
           "jcbscca": cca.JCBSCCA, "tcca": cca.TCCA}

DEFAULT_GRIDS = {
    "mts2cca": {"beta1": [1.0, 10.0, 100.0], "beta2": [1.0, 10.0, 100.0], "lam1": [0.1, 1.0], "lam2": [0.1, 1.0]},
    "mtscca": {"beta1": [1.0, 10.0, 100.0], "beta2": [1.0, 10.0, 100.0], "alpha1": [0.1, 1.0], "alpha2": [0.1, 1.0]},
    "mtgscca": {"beta1": [1.0, 10.0, 100.0], "beta2": [1.0, 10.0, 100.0], "gamma1": [0.1, 1.0]},
    "scca": {"alpha1": [0.1, 1.0, 10.0], "alpha2": [0.1, 1.0, 10.0]},
    "tcca": {"eps": [1e-3, 1e-2, 1e-1]},
}


def default_grid(method: str, p: int, q: int) -> dict:
    """The method's small default grid for data with p SNPs and q regions. JCB-SCCA's cardinalities
    are counts (its code's β₁, β₂), so its grid follows the data: 10 %, 25 %, 50 % of the SNPs and
    25 %, 50 % of the regions."""
    if method == "jcbscca":
        return {"n_keep_x": _counts(p, (0.1, 0.25, 0.5)), "n_keep_y": _counts(q, (0.25, 0.5))}
    return DEFAULT_GRIDS[method]


def _counts(size: int, shares) -> list[float]:
    """The whole numbers share·size for each share, within [2, size], without repeats."""
    return sorted({float(min(size, max(2, round(share * size)))) for share in shares})


def parse_grid(items: list[str] | None, method: str) -> dict:
    """``["beta1=1,10", "lam1=0.1"]`` → {"beta1": [1.0, 10.0], "lam1": [0.1]}; no items: {} (the
    method's :func:`default_grid`, which may depend on the data)."""
    if not items:
        return {}
    grid = {}
    for item in items:
        name, _, values = item.partition("=")
        try:
            grid[name.strip()] = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"--grid {item!r}: expected NAME=V1,V2,... with numbers") from None
        if not values or not grid[name.strip()]:
            raise ValueError(f"--grid {item!r}: expected NAME=V1,V2,...")
    unknown = set(grid) - set(METHODS[method]._hyper_names)
    if unknown:
        raise ValueError(f"--grid names {sorted(unknown)} are not hyperparameters of {method}; "
                         f"it has {', '.join(METHODS[method]._hyper_names)}")
    return grid


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", choices=sorted(METHODS), default="mts2cca", help="CCA method (default mts2cca)")
    add_input_options(parser, many_qts=True)
    parser.add_argument("--cv", type=bounded(int, 2), default=5, metavar="K",
                        help="folds of the cross-validation (default 5)")
    parser.add_argument("--grid", action="append", metavar="NAME=V1,V2,...",
                        help="values of one hyperparameter to search (repeat per hyperparameter; "
                             "default: a small grid per method)")
    parser.add_argument("--max-iter", type=bounded(int, 1), default=100,
                        help="iterations per fit at most (default 100)")
    parser.add_argument("--permutations", type=bounded(int, 0), default=200,
                        help="shuffles of the subjects for the permutation test (0 skips it; default 200)")
    parser.add_argument("--truth", metavar="FILE", help="truth.json of a simulated study: shades the true features")
    add_run_options(parser)


def run(args, echo=print) -> dict:
    """Read, cross-validate, refit, test, write. Returns {"out", "best_params", "cv_test_corr", "p_value"}."""
    truth = preflight(args, "cca")
    grid = parse_grid(args.grid, args.method)
    log, stopwatch = ReadLog(echo), Stopwatch()
    with stopwatch.stage("reading"):
        study = load_cca_study(genotype_files(args), args.qt, adjacency=args.adjacency, id_column=args.id_column,
                               covariates_from_qt=args.covariates_from_qt,
                               missing=args.missing, log=log, **genotype_selection(args))
    X, Ys = study.X.to_numpy(), [Y.to_numpy() for Y in study.Ys]
    grid = grid or default_grid(args.method, X.shape[1], Ys[0].shape[1])
    estimator = METHODS[args.method](max_iter=args.max_iter)
    with device_scope(args.platform) as device:
        with stopwatch.stage("cross-validation"):
            result = cca.cross_validate(estimator, X, Ys, Ly=study.Ly, param_grid=grid, cv=args.cv,
                                        seed=args.seed, progress=not args.quiet)
        best = result.best_estimator
        permutation = None
        if args.permutations > 0:
            with stopwatch.stage("permutation test"):
                permutation = cca.permutation_test(best, X, Ys, Ly=study.Ly, n_permutations=args.permutations,
                                                   seed=args.seed, progress=not args.quiet)
    echo("best setting: " + ", ".join(f"{k}={v:g}" for k, v in result.best_params.items()))
    settings = {"method": args.method, "grid": grid, "folds": args.cv, "max_iter": args.max_iter,
                "permutations": args.permutations, "seed": args.seed, "device": str(device)}
    with atomic_output_dir(args.out, args.overwrite) as folder, stopwatch.stage("outputs"):
        write_cca_outputs(best, folder, snp_ids=list(study.X.columns), regions=study.regions,
                          modalities=study.modalities, cv=result, permutation=permutation, inputs=log.lines,
                          settings=settings, truth=truth,
                          adjacency=None if study.Ly is None else np.diag(np.diag(study.Ly)) - study.Ly)
    test_corr = result.mean_test_corr[result.best_index]
    echo("held-out canonical correlation: " + ", ".join(f"{m} {r:.3f}" for m, r in zip(study.modalities, test_corr))
         + ("" if permutation is None else f"; permutation p = {permutation.p_value:.3g}"))
    echo(f"report: {Path(args.out) / 'report.md'}")
    echo(stopwatch.summary())
    return {"out": args.out, "best_params": result.best_params, "cv_test_corr": test_corr.tolist(),
            "p_value": None if permutation is None else float(permutation.p_value),
            "U": best.U_, "V": best.V_, "snp_ids": list(study.X.columns), "regions": study.regions}
