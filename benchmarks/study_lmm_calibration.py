"""Are jaxgen's SNP tests calibrated? Type I error and λ_GC of every score test over many null SNPs.

For each design (benchmarks/lmm_designs.py: jaxgen's own simulator and an independent one with
per-region h²_k, Σ_g ≠ Σ_e, families, ancestry groups with a GRM), ``--replicates`` phenotype
replicates are drawn, each with ``--snps`` tested SNP columns that are independent of the phenotype
given the population (null SNPs). Each replicate gets its own null model (jaxgen.lmm.null, REML) and
every SNP its score tests (jaxgen.lmm.scores): the SNP-level omnibus, cct, spatial and empirical tests,
and the per-region z (pooled over all (SNP, region) pairs). Both null models are run: the per-region
heritability (the default) and the seed's shared h².

Reported per design and test: the rejection rate at α = 0.05, 0.01, 1e-3 with its binomial SE, whether
it lies in the issue's bounds ([0.045, 0.056] at 0.05, [0.0006, 0.0015] at 1e-3), and λ_GC (median
of the p-values as χ²₁ over its null median). QQ plots: one panel per design.

Full setting (the issue's sizes, ≥ 20 000 null SNPs per design): the defaults, 20 replicates × 2 000
SNPs = 40 000 null SNPs per design.

Usage: python benchmarks/study_lmm_calibration.py [--replicates R] [--snps P] [--designs NAME ...]
       [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from lmm_designs import Design, jaxgen_log_p, simulate

ALPHAS = (0.05, 0.01, 1e-3)
BOUNDS = {0.05: (0.045, 0.056), 1e-3: (0.0006, 0.0015)}
HERITABILITY_MODELS = ("per-region", "shared")
REGION_TEST = "region z"
N = 400

DESIGNS = [
    Design("unrelated, c=16, ρ=0.3 (jaxgen sim)", "jaxgen", "unrelated", N, 16, (0.0, 0.0), 0.3, kinship=False),
    Design("unrelated, c=16, ρ=0.9", "own", "unrelated", N, 16, (0.0, 0.0), 0.9, kinship=False),
    Design("families h²=0, c=16, ρ=0.9", "own", "families", N, 16, (0.0, 0.0), 0.9),
    Design("families h²=0.3, c=6, ρ=0.9", "own", "families", N, 6, (0.3, 0.3), 0.9),
    Design("families h²=0.3, c=16, ρ=0.3 (jaxgen sim)", "jaxgen", "families", N, 16, (0.3, 0.3), 0.3),
    Design("families h²=0.3, c=68, ρ=0.9 (jaxgen sim)", "jaxgen", "families", N, 68, (0.3, 0.3), 0.9),
    Design("families h²=0.6, c=16, ρ=0.9", "own", "families", N, 16, (0.6, 0.6), 0.9),
    Design("families h²=0.6, c=68, ρ=0.3", "own", "families", N, 68, (0.6, 0.6), 0.3),
    Design("families h²ₖ 0.1–0.6, Σg≠Σe, c=16, ρe=0.9 ρg=0.3", "own", "families", N, 16, (0.1, 0.6), 0.9, 0.3),
    Design("families h²ₖ 0.1–0.6, Σg≠Σe, c=68, ρe=0.9 ρg=0.3", "own", "families", N, 68, (0.1, 0.6), 0.9, 0.3),
    Design("ancestry groups + GRM, h²=0.3, c=16, ρ=0.9", "own", "structure", N, 16, (0.3, 0.3), 0.9),
    Design("ancestry groups + GRM, h²ₖ 0.1–0.6, c=6, ρe=0.3 ρg=0.9", "own", "structure", N, 6, (0.1, 0.6), 0.3, 0.9),
    Design("families h²=0.3, c=150, n=300, ρ=0.9", "own", "families", 300, 150, (0.3, 0.3), 0.9),
    Design("unrelated, c=16, ρ=0.3 + global factor 50%", "own", "unrelated", N, 16, (0.0, 0.0), 0.3, kinship=False,
           factor=0.5),
    Design("families h²=0.3, c=16, ρ=0.9 + global factor 30%", "own", "families", N, 16, (0.3, 0.3), 0.9, factor=0.3),
    Design("families h²ₖ 0.1–0.6, Σg≠Σe, c=68 + global factor 30%", "own", "families", N, 68, (0.1, 0.6), 0.9, 0.3,
           factor=0.3),
]


def run_design(design: Design, replicates: int, n_snps: int, seed: int):
    """Pooled null log p-values {model: {test: (N,)}}, per-region log p {model: (N, c)}, null-model summaries."""
    rng = np.random.default_rng(seed)
    pooled = {model: {} for model in HERITABILITY_MODELS}
    regions = {model: [] for model in HERITABILITY_MODELS}
    fits = {model: [] for model in HERITABILITY_MODELS}
    for rep in range(replicates):
        replicate = simulate(design, rng, n_snps)
        for model in HERITABILITY_MODELS:
            snp_level, region, summary = jaxgen_log_p(replicate, model)
            for test, log_p in snp_level.items():
                pooled[model].setdefault(test, []).append(log_p)
            regions[model].append(region)
            fits[model].append(summary)
        print(f"  {design.name}: replicate {rep + 1}/{replicates}", file=sys.stderr, flush=True)
    log_p = {model: {test: np.concatenate(parts) for test, parts in tests.items()} for model, tests in pooled.items()}
    return log_p, {model: np.concatenate(parts) for model, parts in regions.items()}, fits


def calibration(log_p) -> dict:
    """Rejection rates at ALPHAS with binomial SEs, bound checks and λ_GC of null log p-values (any shape)."""
    from scipy.stats import chi2

    flat = np.ravel(log_p)
    count = flat.size
    out = {"n_tests": int(count)}
    for alpha in ALPHAS:
        rate = float(np.mean(flat < np.log(alpha)))
        out[f"type1_at_{alpha:g}"] = rate
        out[f"se_at_{alpha:g}"] = float(np.sqrt(alpha * (1 - alpha) / count))
        if alpha in BOUNDS:
            low, high = BOUNDS[alpha]
            out[f"within_bounds_at_{alpha:g}"] = bool(low <= rate <= high)
    out["lambda_gc"] = float(chi2.isf(np.exp(np.median(flat)), 1) / chi2.ppf(0.5, 1))
    return out


def summarize_fits(design: Design, fits) -> dict:
    """Mean estimates over replicates against the simulated truth."""
    h2 = np.array([list(f["h2"].values()) for f in fits])
    return {"true_h2": np.linspace(*design.h2, design.c).round(3).tolist(),
            "mean_h2_hat": h2.mean(axis=0).round(3).tolist(),
            "mean_rho_genetic_hat": float(np.mean([f["rho_genetic"] for f in fits])),
            "mean_rho_residual_hat": float(np.mean([f["rho_residual"] for f in fits])),
            "car_misfit_z": [round(f["car_misfit"], 1) for f in fits],
            "car_rejected": int(sum(not f["car_fits"] for f in fits))}


def main():
    parser = argparse.ArgumentParser(description="calibration of jaxgen's SNP score tests on null SNPs")
    parser.add_argument("--replicates", type=int, default=20, help="phenotype replicates per design")
    parser.add_argument("--snps", type=int, default=2000, help="null SNPs tested per replicate")
    parser.add_argument("--designs", nargs="*", help="run only designs whose name contains one of these")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 replicates × 200 SNPs")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "lmm_calibration.json"))
    args = parser.parse_args()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    replicates, n_snps = (2, 200) if args.quick else (args.replicates, args.snps)
    designs = [d for d in DESIGNS if not args.designs or any(s in d.name for s in args.designs)]
    if not designs:
        parser.error(f"no design matches {args.designs}; names: {[d.name for d in DESIGNS]}")
    results = {"replicates": replicates, "snps_per_replicate": n_snps, "alphas": list(ALPHAS),
               "bounds": {str(a): b for a, b in BOUNDS.items()}, "designs": []}
    qq = []
    for index, design in enumerate(designs):
        start = time.perf_counter()
        log_p, region, fits = run_design(design, replicates, n_snps, args.seed + 1000 * index)
        entry = {"design": design.describe(), "seconds": round(time.perf_counter() - start, 1)}
        for model in HERITABILITY_MODELS:
            tests = {test: calibration(values) for test, values in log_p[model].items()}
            tests[REGION_TEST] = calibration(region[model])
            per_region = np.mean(region[model] < np.log(0.05), axis=0)
            tests[REGION_TEST]["per_region_type1_at_0.05_range"] = [float(per_region.min()), float(per_region.max())]
            entry[model] = {"tests": tests, "null_model": summarize_fits(design, fits[model])}
        results["designs"].append(entry)
        qq.append((design.name, log_p["per-region"] | {REGION_TEST: region["per-region"].ravel()}))
        print(f"{design.name}: {entry['seconds']} s; " + ", ".join(
            f"{t} {v['type1_at_0.05']:.4f}/{v['type1_at_0.001']:.5f}" for t, v in entry["per-region"]["tests"].items()),
            file=sys.stderr, flush=True)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=1)
    print(f"wrote {args.out}")
    plot_qq(qq, args.out.replace(".json", ".png"))
    print(markdown_table(results))
    print(compact_table(results, "shared"))


def compact_table(results, model: str) -> str:
    """One row per design, one column per test, cells "type I at 0.05 / at 1e-3" (failures in bold)."""
    tests = list(results["designs"][0][model]["tests"])
    lines = ["| design | " + " | ".join(tests) + " |", "| --- |" + " ---: |" * len(tests)]
    for entry in results["designs"]:
        cells = []
        for test in tests:
            row = entry[model]["tests"][test]
            cells.append(" / ".join(f"{row[f'type1_at_{a:g}']:.{d}f}" if row[f"within_bounds_at_{a:g}"]
                                    else f"**{row[f'type1_at_{a:g}']:.{d}f}**" for a, d in ((0.05, 3), (1e-3, 4))))
        lines.append(f"| {entry['design']['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_table(results, model: str = "per-region") -> str:
    """The README's table: one row per design and test, failures of the bounds in bold."""
    lines = ["| design | test | type I at 0.05 | at 0.01 | at 1e-3 | λ_GC |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for entry in results["designs"]:
        for test, row in entry[model]["tests"].items():
            def cell(alpha, digits):
                value = f"{row[f'type1_at_{alpha:g}']:.{digits}f}"
                return value if row.get(f"within_bounds_at_{alpha:g}", True) else f"**{value}**"
            lines.append(f"| {entry['design']['name']} | {test} | {cell(0.05, 4)} | {cell(0.01, 4)} | "
                         f"{cell(1e-3, 5)} | {row['lambda_gc']:.3f} |")
    return "\n".join(lines)


def plot_qq(panels, path, points: int = 400):
    """QQ plots of −log10 p, one panel per design, one line per test, with a pointwise 95% band."""
    from scipy.stats import beta

    from plotting import headless_pyplot

    plt = headless_pyplot()
    if plt is None:
        return
    columns = 4
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.6 * rows), squeeze=False)
    for ax, (name, tests) in zip(axes.ravel(), panels):
        top = 0.0
        for test, log_p in tests.items():
            ordered = np.sort(log_p)
            count = ordered.size
            ranks = np.unique(np.geomspace(1, count, points).astype(int)) - 1
            expected = -np.log10((ranks + 0.5) / count)
            ax.plot(expected, -ordered[ranks] / np.log(10), lw=1.2, label=test)
            top = max(top, expected[0])
        count = min(v.size for v in tests.values())
        ranks = np.unique(np.geomspace(1, count, points).astype(int))
        expected = -np.log10((ranks - 0.5) / count)
        ax.fill_between(expected, -np.log10(beta.ppf(0.975, ranks, count - ranks + 1)),
                        -np.log10(beta.ppf(0.025, ranks, count - ranks + 1)), color="0.85", lw=0)
        ax.plot([0, top], [0, top], "k--", lw=0.8)
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("expected −log10 p", fontsize=8)
        ax.set_ylabel("observed −log10 p", fontsize=8)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
