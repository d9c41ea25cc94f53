"""Does the spatial LMM beat the classic models? Power at equal type I error and effect error.

For each (ρ, h²) setting, simulated replicates with causal SNPs are analysed by
  spatial LMM      : jaxgen.lmm.fit (CAR ρ, kinship h²), conditional scores + CCT over regions
  multitask, ρ=0   : the same multitask model without spatial correlation or kinship
  OLS + CCT        : one OLS per (SNP, region), CCT over regions
  OLS + Bonferroni : one OLS per (SNP, region), min p × c over regions
Null SNPs are those outside the causal SNPs' LD blocks. Power is taken at equal type I error: each
method's threshold is the 5% quantile of its own null SNP p-values (pooled over the replicates of
a setting), and power is the share of causal SNPs below it. The type I error at the nominal 0.05
is reported too. Effect error is the RMSE of the estimated B (standardized SNPs) against the truth.

Usage: python benchmarks/study_lmm_power.py [--replicates R] [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

import numpy as np


def analyse(study, seed, block_size=10):
    """p-values (p,) and B estimates (p, c) of every method for one study."""
    from jaxgen import lmm
    from jaxgen.data import standardize_columns
    from jaxgen.stats import cct, mass_univariate_ols

    out = {}
    fits = {"spatial LMM": dict(kinship=study.kinship),
            "multitask, rho=0": dict(kinship=None, priors=lmm.Priors(rho_max=0.0))}
    for name, options in fits.items():
        fit = lmm.fit(study.Y, study.X, study.adjacency, covariates=study.covariates, num_chains=2,
                      num_warmup=300, num_samples=600, seed=seed, progress=False, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", lmm.ConvergenceGateWarning)
            p_values = fit.snp_tests()["p_value"].to_numpy()
        out[name] = (p_values, np.asarray(fit.draws["B"]).mean(axis=(0, 1)))
    ols = mass_univariate_ols(study.Y, standardize_columns(study.X)[0], study.covariates)
    beta = np.asarray(ols.beta)
    c = study.Y.shape[1]
    out["OLS + CCT"] = (np.asarray(cct(ols.pvalue, axis=1)), beta)
    out["OLS + Bonferroni"] = (np.minimum(1.0, c * np.asarray(ols.pvalue).min(axis=1)), beta)
    return out


def null_snps(truth, block_size=10):
    """SNPs outside every causal SNP's LD block."""
    blocks = np.arange(truth.causal.size) // block_size
    return ~np.isin(blocks, blocks[truth.causal])


def run_setting(rho, h2, replicates, n, p, c, n_causal, effect):
    from jaxgen.data import simulate_spatial_lmm

    pooled = {}
    for rep in range(replicates):
        study = simulate_spatial_lmm(1000 * rep + int(100 * rho) + int(10 * h2), n=n, p=p, c=c,
                                     n_causal=n_causal, rho=rho, h2=h2, effect=effect)
        for method, (p_values, B_hat) in analyse(study, seed=rep).items():
            row = pooled.setdefault(method, {"null": [], "causal": [], "sq_err": []})
            row["null"] += list(p_values[null_snps(study.truth)])
            row["causal"] += list(p_values[study.truth.causal])
            row["sq_err"].append(float(np.mean((B_hat - study.truth.B) ** 2)))
        print(f"rho={rho} h2={h2}: replicate {rep + 1}/{replicates}", file=sys.stderr)
    summary = {}
    for method, row in pooled.items():
        null, causal = np.array(row["null"]), np.array(row["causal"])
        threshold = float(np.quantile(null, 0.05))
        summary[method] = {"type1_at_0.05": float(np.mean(null < 0.05)),
                           "power_at_equal_type1": float(np.mean(causal <= threshold)),
                           "power_at_nominal_0.05": float(np.mean(causal < 0.05)),
                           "rmse_B": float(np.sqrt(np.mean(row["sq_err"]))),
                           "n_null": int(null.size), "n_causal": int(causal.size)}
    return summary


def main():
    parser = argparse.ArgumentParser(description="spatial LMM vs classic models: power and effect error")
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "lmm_study.json"))
    args = parser.parse_args()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    design = dict(n=300, p=60, c=16, n_causal=4, effect=0.1)
    settings = [(0.3, 0.0), (0.9, 0.0), (0.3, 0.5), (0.9, 0.5)]
    replicates = 2 if args.quick else args.replicates
    results = {"design": design | {"replicates": replicates},
               "settings": [{"rho": rho, "h2": h2, "methods": run_setting(rho, h2, replicates, **design)}
                            for rho, h2 in settings]}
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=1)
    print(f"wrote {args.out}")
    plot(results, args.out.replace(".json", ".png"))


def plot(results, path):
    """Bar chart of power at equal type I error per setting and method (needs matplotlib)."""
    from plotting import headless_pyplot

    plt = headless_pyplot()
    if plt is None:
        return
    settings = results["settings"]
    methods = list(settings[0]["methods"])
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, method in enumerate(methods):
        ax.bar(np.arange(len(settings)) + i * width,
               [s["methods"][method]["power_at_equal_type1"] for s in settings], width, label=method)
    ax.set_xticks(np.arange(len(settings)) + 0.4 - width / 2)
    ax.set_xticklabels([f"ρ={s['rho']}, h²={s['h2']}" for s in settings])
    ax.set_ylabel("power at equal type I error (5%)")
    d = results["design"]
    ax.set_title(f"SNP-level power, n={d['n']}, p={d['p']}, c={d['c']}, effect={d['effect']}, "
                 f"{d['replicates']} replicates")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
