"""MTS2CCA against its comparison family on simulated studies, after Kim et al. (2022)'s design.

X (SNPs) against Y₁, Y₂, Y₃ whose true canonical correlations with X are high, medium and low
(0.9, 0.5, 0.1). Each replicate has n_discovery subjects for tuning and fitting and a held-out set
for prediction. Per method and replicate:
  * nested 5-fold CV over the method's grid: train/test canonical correlation per task (outer folds);
  * feature-selection AUC of U (SNPs) and V (regions) of the CV-chosen refit against the truth;
  * prediction of a simulated clinical score s = ½ X̃u₁ + ½ Ỹ₁v₁ + noise (true canonical variates of
    task 1) by ridge regression on the selected SNPs and regions: held-out RMSE and correlation;
  * runtime of the nested CV (compiled once per method; later replicates reuse it).
Also: sensitivity of MTS2CCA's test correlation to each hyperparameter over 0.01 … 100 (others at 1)
and of JCB-SCCA's to its cardinalities and strengths (others at the middle of its grid), and peak
resident memory of one nested CV per method (each in a fresh process).

JCB-SCCA gets the penalty matrices its authors' code builds from the data (get_connectivity: the
|r|² correlation Laplacians of X and of each Y_k, from the discovery rows); the others get the
simulation's LD and region-lattice Laplacians.

Usage: python benchmarks/study_cca.py [--replicates R] [--quick] [--out FILE] [--only-memory]
                                      [--methods NAME ...]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time

import numpy as np

GRIDS = {
    "MTS2CCA": {"beta1": [1.0, 10.0, 100.0], "beta2": [1.0, 10.0, 100.0], "lam1": [0.1, 1.0], "lam2": [0.1, 1.0]},
    "MTSCCA": {"beta1": [1.0, 10.0, 100.0], "beta2": [1.0, 10.0, 100.0], "alpha1": [1.0, 10.0], "alpha2": [1.0, 10.0]},
    "MTGSCCA": {"beta1": [1.0, 10.0, 100.0], "beta2": [1.0, 10.0, 100.0], "gamma1": [1.0, 10.0, 100.0]},
    "SCCA": {"alpha1": [1.0, 10.0, 100.0], "alpha2": [1.0, 10.0, 100.0], "lam1": [0.0, 1.0]},
    # cardinalities: 10 / 25 / 50 % of the p = 100 SNPs, 12.5 / 25 / 50 % of the q = 40 regions
    "JCBSCCA": {"n_keep_x": [10, 25, 50], "n_keep_y": [5, 10, 20], "lam1": [0.1, 1.0], "lam2": [0.1, 1.0]},
    "TCCA": {"eps": [0.01, 0.1, 1.0]},
}
OWN_CONNECTIVITY = ("JCBSCCA",)
SENSITIVITY = [0.01, 0.1, 1.0, 10.0, 100.0]
JCB_SENSITIVITY = {"n_keep_x": [5, 10, 25, 50, 100], "n_keep_y": [3, 5, 10, 20, 40], "lam1": SENSITIVITY,
                   "lam2": SENSITIVITY, "tau": SENSITIVITY}
JCB_MIDDLE = {"n_keep_x": 25, "n_keep_y": 10, "lam1": 0.1, "lam2": 0.1, "tau": 0.1}


def estimator(name, max_iter):
    from jaxgen import cca

    return getattr(cca, name)(max_iter=max_iter)


def simulate(seed, n_discovery, n_holdout, p, q):
    """A study and its clinical score (n,), split into discovery and held-out rows."""
    from jaxgen.data import simulate_multitask_cca

    data = simulate_multitask_cca(seed, n=n_discovery + n_holdout, p=p, q=q, n_tasks=3, ccc=(0.9, 0.5, 0.1))
    rng = np.random.default_rng(seed + 10_000)
    Zx = (data.X - data.X.mean(axis=0)) / data.X.std(axis=0, ddof=1)
    Zy = (data.Ys[0] - data.Ys[0].mean(axis=0)) / data.Ys[0].std(axis=0, ddof=1)
    score = 0.5 * Zx @ data.truth.U[:, 0] + 0.5 * Zy @ data.truth.V[:, 0] + 0.5 * rng.standard_normal(len(Zx))
    return data, score


def selected(weights, truth_size):
    """Features a fit selects: non-negligible rows (> 1e-3 of the largest row norm), or the top
    ``truth_size`` rows for a dense method."""
    norms = np.linalg.norm(weights, axis=1)
    chosen = norms > 1e-3 * norms.max()
    if chosen.mean() > 0.9:
        chosen = np.zeros_like(chosen)
        chosen[np.argsort(-norms)[:truth_size]] = True
    return chosen


def ridge_prediction(features, score, train, alpha=1.0):
    """Held-out RMSE and correlation of a ridge fit (standardized features, penalty alpha·n)."""
    A = features[train]
    mean, sd = A.mean(axis=0), A.std(axis=0) + 1e-12
    A = (A - mean) / sd
    coef = np.linalg.solve(A.T @ A + alpha * len(A) * np.eye(A.shape[1]), A.T @ (score[train] - score[train].mean()))
    pred = ((features[~train] - mean) / sd) @ coef + score[train].mean()
    return float(np.sqrt(np.mean((pred - score[~train]) ** 2))), float(np.corrcoef(pred, score[~train])[0, 1])


def run_method(name, data, score, n_discovery, max_iter, seed):
    from jaxgen.cca import cross_validate, selection_auc

    rows = np.arange(len(score)) < n_discovery
    X, Ys = data.X[rows], data.Ys[:, rows]
    Lx, Ly = (None, None) if name in OWN_CONNECTIVITY else (data.Lx, data.Ly)
    start = time.perf_counter()
    result = cross_validate(estimator(name, max_iter), X, Ys, Lx=Lx, Ly=Ly, param_grid=GRIDS[name],
                            cv=5, seed=seed, nested=True, progress=False)
    seconds = time.perf_counter() - start
    fit = result.best_estimator
    snps, regions = selected(fit.U_, int(data.truth.causal_snps.sum())), \
        selected(fit.V_, int(data.truth.causal_regions.sum()))
    features = np.column_stack([data.X[:, snps]] + [Y[:, regions] for Y in data.Ys])
    rmse, corr = ridge_prediction(features, score, rows)
    return {"seconds": seconds,
            "outer_train_corr": result.nested.train_corr.mean(axis=0).tolist(),
            "outer_test_corr": result.nested.test_corr.mean(axis=0).tolist(),
            "holdout_corr": fit.score(data.X[~rows], data.Ys[:, ~rows]).tolist(),
            "auc_snps": selection_auc(fit.U_, data.truth.causal_snps),
            "auc_regions": selection_auc(fit.V_, data.truth.causal_regions),
            "n_selected_snps": int(snps.sum()), "n_selected_regions": int(regions.sum()),
            "clinical_rmse": rmse, "clinical_corr": corr}


def sensitivity(data, n_discovery, max_iter):
    """Mean 5-fold test correlation per task of MTS2CCA as each hyperparameter sweeps SENSITIVITY."""
    from jaxgen.cca import MTS2CCA, cross_validate

    X, Ys = data.X[:n_discovery], data.Ys[:, :n_discovery]
    curves = {}
    for name in ("beta1", "beta2", "lam1", "lam2"):
        result = cross_validate(MTS2CCA(max_iter=max_iter), X, Ys, Lx=data.Lx, Ly=data.Ly,
                                param_grid={name: SENSITIVITY}, cv=5, progress=False)
        curves[name] = result.mean_test_corr.tolist()
    return curves


def sensitivity_jcbscca(data, n_discovery, max_iter):
    """Mean 5-fold test correlation per task of JCB-SCCA as each hyperparameter sweeps its values in
    JCB_SENSITIVITY, the others at JCB_MIDDLE, with its own connectivity penalties."""
    from jaxgen.cca import JCBSCCA, cross_validate

    X, Ys = data.X[:n_discovery], data.Ys[:, :n_discovery]
    return {name: cross_validate(JCBSCCA(max_iter=max_iter, **JCB_MIDDLE), X, Ys, param_grid={name: values}, cv=5,
                                 progress=False).mean_test_corr.tolist()
            for name, values in JCB_SENSITIVITY.items()}


def peak_memory_child(name, sizes, max_iter, queue):
    """In a fresh process: one nested CV of ``name`` (or nothing, for the baseline); report peak RSS."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    data, score = simulate(0, *sizes)
    if name != "baseline":
        run_method(name, data, score, sizes[0], max_iter, 0)
    queue.put(peak_rss_mb())


def peak_rss_mb():
    """This process's peak resident memory (VmHWM, which, unlike ru_maxrss, restarts at exec)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def peak_memory(names, sizes, max_iter):
    context = multiprocessing.get_context("spawn")
    peaks = {}
    for name in ["baseline"] + list(names):
        queue = context.Queue()
        child = context.Process(target=peak_memory_child, args=(name, sizes, max_iter, queue))
        child.start()
        peaks[name] = queue.get()
        child.join()
    return {name: {"peak_rss_mb": mb, "above_baseline_mb": mb - peaks["baseline"]} for name, mb in peaks.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "cca_study.json"))
    parser.add_argument("--only-memory", action="store_true", help="re-measure memory into an existing --out")
    parser.add_argument("--methods", nargs="+", choices=list(GRIDS),
                        help="re-run only these methods and merge them into an existing --out (the other "
                             "methods' results are kept; memory re-measured for these and the baseline)")
    args = parser.parse_args()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    sizes = (120, 60, 40, 20) if args.quick else (300, 200, 100, 40)       # n_discovery, n_holdout, p, q
    max_iter = 30 if args.quick else 100
    if args.only_memory:
        with open(args.out) as handle:
            results = json.load(handle)
        results["memory"] = peak_memory(GRIDS, sizes, max_iter)
        with open(args.out, "w") as handle:
            json.dump(results, handle, indent=1)
        print(json.dumps(results["memory"], indent=1))
        return
    names = args.methods or list(GRIDS)
    per_method = {name: [] for name in names}
    for replicate in range(args.replicates):
        data, score = simulate(replicate, *sizes)
        for name in names:
            per_method[name].append(run_method(name, data, score, sizes[0], max_iter, replicate))
            print(f"replicate {replicate} {name}: test corr "
                  f"{np.round(per_method[name][-1]['outer_test_corr'], 3).tolist()}", file=sys.stderr)
    summary = {name: summarize(runs) for name, runs in per_method.items()}
    first = simulate(0, *sizes)[0]
    results = {"design": {"n_discovery": sizes[0], "n_holdout": sizes[1], "p": sizes[2], "q": sizes[3],
                          "K": 3, "ccc": [0.9, 0.5, 0.1], "replicates": args.replicates, "max_iter": max_iter,
                          "grids": GRIDS, "own_connectivity": list(OWN_CONNECTIVITY), "device": "cpu"},
               "summary": summary, "per_replicate": per_method,
               "sensitivity_mts2cca": None if args.methods else sensitivity(first, sizes[0], max_iter),
               "sensitivity_values": SENSITIVITY,
               "sensitivity_jcbscca": sensitivity_jcbscca(first, sizes[0], max_iter)
               if "JCBSCCA" in names else None,
               "sensitivity_jcbscca_values": {"values": JCB_SENSITIVITY, "others": JCB_MIDDLE},
               "memory": peak_memory(names, sizes, max_iter)}
    if args.methods:
        results = merged(args.out, results, names)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=1)
    print(json.dumps(summary, indent=1))
    plot(results, args.out.replace(".json", ".png"))


def merged(path, fresh, names):
    """The results in ``path`` with the methods ``names`` (and what only they produce) replaced by
    ``fresh``. Their memory entries carry the baseline measured with them (``baseline_mb``); the
    file's ``baseline`` stays the one the other methods were measured against."""
    with open(path) as handle:
        results = json.load(handle)
    if results["design"]["replicates"] != fresh["design"]["replicates"]:
        raise SystemExit(f"{path} has {results['design']['replicates']} replicates; --methods must run as many")
    results["design"].update(grids=fresh["design"]["grids"], own_connectivity=fresh["design"]["own_connectivity"])
    for part in ("summary", "per_replicate"):
        results[part].update({name: fresh[part][name] for name in names})
    baseline = fresh["memory"]["baseline"]["peak_rss_mb"]
    results["memory"].update({name: dict(fresh["memory"][name], baseline_mb=baseline) for name in names})
    for key in ("sensitivity_jcbscca", "sensitivity_jcbscca_values", "sensitivity_mts2cca"):
        if fresh[key] is not None:
            results[key] = fresh[key]
    return results


def summarize(runs):
    """Mean and standard error over replicates of every numeric field."""
    out = {}
    for key in runs[0]:
        values = np.array([run[key] for run in runs], dtype=float)
        out[key] = {"mean": values.mean(axis=0).tolist(),
                    "se": (values.std(axis=0, ddof=1) / np.sqrt(len(runs))).tolist() if len(runs) > 1 else None}
    out["seconds_after_first"] = float(np.median([run["seconds"] for run in runs[1:]])) if len(runs) > 1 else None
    return out


def plot(results, path):
    """Test correlation per task, selection AUCs, the MTS2CCA sensitivity curves (top row) and
    JCB-SCCA's sensitivity to its cardinalities and to its strengths (bottom row)."""
    from plotting import headless_pyplot

    plt = headless_pyplot()
    if plt is None:
        return
    summary, names = results["summary"], list(results["summary"])
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        test = summary[name]["outer_test_corr"]
        axes[0, 0].bar(np.arange(3) + i * width, test["mean"], width, yerr=test["se"], label=name)
    axes[0, 0].set_xticks(np.arange(3) + 0.4 - width / 2, ["Y₁ (ρ=0.9)", "Y₂ (ρ=0.5)", "Y₃ (ρ=0.1)"])
    axes[0, 0].set_ylabel("nested-CV test canonical correlation")
    axes[0, 0].set_title("held-out correlation per modality")
    axes[0, 0].legend(fontsize=8)
    for i, key in enumerate(("auc_snps", "auc_regions")):
        axes[0, 1].bar(np.arange(len(names)) + i * 0.4, [summary[n][key]["mean"] for n in names], 0.4,
                       yerr=[summary[n][key]["se"] for n in names], label=key.replace("auc_", ""))
    axes[0, 1].set_xticks(np.arange(len(names)) + 0.2, names, rotation=30)
    axes[0, 1].set_ylim(0.4, 1.0)
    axes[0, 1].set_ylabel("feature-selection AUC")
    axes[0, 1].set_title("recovery of the true SNPs and regions")
    axes[0, 1].legend()
    curves = {"MTS2CCA": {name: (results["sensitivity_values"], curve)
                          for name, curve in results["sensitivity_mts2cca"].items()}}
    jcb, sweep = results.get("sensitivity_jcbscca"), results.get("sensitivity_jcbscca_values")
    if jcb:
        sizes = {"n_keep_x": results["design"]["p"], "n_keep_y": results["design"]["q"]}
        curves["JCB-SCCA cardinalities"] = {f"{name} / {'p' if name == 'n_keep_x' else 'q'}":
                                            (np.divide(sweep["values"][name], sizes[name]), jcb[name]) for name in sizes}
        curves["JCB-SCCA strengths"] = {name: (sweep["values"][name], jcb[name]) for name in ("lam1", "lam2", "tau")}
    labels = {"MTS2CCA": "hyperparameter value (others at 1)",
              "JCB-SCCA cardinalities": "n_keep as a share of the features (others at the grid's middle)",
              "JCB-SCCA strengths": "hyperparameter value (others at the grid's middle)"}
    for ax, (title, lines) in zip([axes[0, 2], axes[1, 0], axes[1, 1]], curves.items()):
        for name, (x, curve) in lines.items():
            ax.plot(x, np.mean(curve, axis=1), marker="o", label=name)
        ax.set_xscale("log")
        ax.set_xlabel(labels[title])
        ax.set_ylabel("mean test correlation over tasks")
        ax.set_title(f"{title} sensitivity (5-fold CV)")
        ax.legend()
    for ax in axes.flat[1 + len(curves) + 1:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
