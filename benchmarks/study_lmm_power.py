"""Do jaxgen's SNP score tests beat the peers? Power at equal type I error and at nominal α.

Designs (benchmarks/lmm_designs.py, the independent simulator, unlinked SNPs): families with shared
or per-region h² and Σ_g ≠ Σ_e, ancestry groups with a GRM, c = 6, 16 and the many-regions regime
c = 150 for n = 300. In each replicate ``--causal`` SNPs per effect pattern are added to the null
phenotypes (Y += x̃_j b_jᵀ, x̃ the standardized dosage), with one random sign per SNP, on
  group : a contiguous group of 3–5 regions (effect ``--effect-group`` on each),
  one   : one region (``--effect-one``),
  all   : every region (``--effect-all``),
and ``--null`` null SNPs are tested alongside. Methods:
  jaxgen omnibus / cct / spatial / empirical : jaxgen.lmm.scores on the REML null model (per-region h²)
  jaxgen min-P   : the per-region score tests, Bonferroni over regions
  OLS + CCT, OLS + min-P : jaxgen.stats.mass_univariate_ols per region (no kinship), CCT / Bonferroni
  GEMMA + CCT, GEMMA + min-P : GEMMA's univariate LMM per region (``-lmm 1``, Wald), CCT / Bonferroni
  GEMMA mvLMM    : GEMMA's multivariate LMM over all regions (``-lmm 1 -n 1 … c``), for c ≤ 6 only
Power at equal type I is the share of causal SNPs below each method's own 5% quantile of its null
SNPs' p-values (pooled over a design's replicates); power at nominal α the share below 0.05.
GEMMA is optional (the script says when it is absent) and its cost is bounded by ``--gemma-runs``
(univariate runs per design) and ``--mvlmm-replicates`` / ``--mvlmm-null``.

Full setting (power SE ≤ 0.03 at any power: ≥ 278 causal SNPs per cell): the defaults,
35 replicates × 8 causal SNPs per pattern, 150 null SNPs, GEMMA on every replicate.

Usage: python benchmarks/study_lmm_power.py [--replicates R] [--causal K] [--null P] [--designs NAME ...]
       [--gemma-runs N] [--mvlmm-replicates N] [--mvlmm-null P] [--no-gemma] [--quick] [--out FILE]
       [--resume]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace

import numpy as np

from gemma import GemmaInputs, find_gemma
from lmm_designs import Design, jaxgen_log_p, simulate

PATTERNS = ("group", "one", "all")
NULL = "null"
ALPHA = 0.05
MVLMM_MAX_C = 6
N = 300

DESIGNS = [
    Design("families h²=0.3, c=6, ρ=0.9", "own", "families", N, 6, (0.3, 0.3), 0.9),
    Design("families h²=0.3, c=16, ρ=0.3", "own", "families", N, 16, (0.3, 0.3), 0.3),
    Design("families h²=0.6, c=16, ρ=0.9", "own", "families", N, 16, (0.6, 0.6), 0.9),
    Design("families h²ₖ 0.1–0.6, Σg≠Σe, c=16, ρe=0.9 ρg=0.3", "own", "families", N, 16, (0.1, 0.6), 0.9, 0.3),
    Design("families h²=0.3, c=150, n=300, ρ=0.9", "own", "families", N, 150, (0.3, 0.3), 0.9),
    Design("ancestry groups + GRM, h²=0.3, c=16, ρ=0.9", "own", "structure", N, 16, (0.3, 0.3), 0.9),
    Design("families h²=0.3, c=16, ρ=0.9 + global factor 30%", "own", "families", N, 16, (0.3, 0.3), 0.9, factor=0.3),
]


def causal_effects(rng, adjacency, counts: dict, effects: dict):
    """Effects B (K, c) of the causal SNPs and their pattern labels (K,), ``counts[pattern]`` SNPs each."""
    from jaxgen.graphs import contiguous_regions

    c = adjacency.shape[0]
    rows, labels = [], []
    for pattern in PATTERNS:
        for _ in range(counts[pattern]):
            regions = {"group": lambda: contiguous_regions(rng, adjacency, min(c, int(rng.integers(3, 6)))),
                       "one": lambda: rng.integers(c, size=1),
                       "all": lambda: np.arange(c)}[pattern]()
            b = np.zeros(c)
            b[regions] = effects[pattern] * rng.choice([-1.0, 1.0])
            rows.append(b)
            labels.append(pattern)
    return np.array(rows).reshape(-1, c), np.array(labels)


def combined(p_regions):
    """(CCT, Bonferroni min-P) over the regions of per-region p-values (p, c); NaN rows stay NaN."""
    from jaxgen.stats import cct

    c = p_regions.shape[1]
    missing = np.isnan(p_regions).any(axis=1)
    # an exact 1 (a zero statistic) next to an exact 0 is undefined for the CCT: keep p just below 1
    p = np.clip(np.where(missing[:, None], 0.5, p_regions), 0.0, 1.0 - 1e-6)
    return (np.where(missing, np.nan, np.asarray(cct(p, axis=1), float)),
            np.where(missing, np.nan, np.minimum(1.0, c * p.min(axis=1))))


def replicate_p_values(design, rng, args, gemma_here, mvlmm_here, scratch):
    """p-values {method: (P,)} of every tested SNP in one replicate, the SNPs' labels (P,), GEMMA's errors."""
    from jaxgen.data import standardize_columns
    from jaxgen.stats import mass_univariate_ols

    counts = {pattern: args.causal for pattern in PATTERNS}
    effects = {"group": args.effect_group, "one": args.effect_one, "all": args.effect_all}
    n_causal = sum(counts.values())
    rep = simulate(design, rng, args.null + n_causal)
    B, causal_labels = causal_effects(rng, rep.adjacency, counts, effects)
    X_std = standardize_columns(rep.X)[0]
    rep = replace(rep, Y=rep.Y + X_std[:, args.null:] @ B)
    labels = np.concatenate([np.full(args.null, NULL), causal_labels])

    out, failures = {}, []
    snp_level, region_log_p, _ = jaxgen_log_p(rep)
    for test, log_p in snp_level.items():
        out[f"jaxgen {test}"] = np.exp(log_p)
    out["jaxgen min-P"] = combined(np.exp(region_log_p))[1]
    ols = np.asarray(mass_univariate_ols(rep.Y, X_std, rep.covariates).pvalue, float)
    out["OLS + CCT"], out["OLS + min-P"] = combined(ols)
    if gemma_here or mvlmm_here:
        inputs = GemmaInputs(scratch, rep.Y, rep.X, rep.covariates, rep.kinship)
        if gemma_here:
            per_region = np.column_stack([inputs.wald_p([k]) for k in range(design.c)])
            out["GEMMA + CCT"], out["GEMMA + min-P"] = combined(per_region)
        if mvlmm_here:
            tested = np.r_[np.arange(min(args.mvlmm_null, args.null)), np.arange(args.null, args.null + n_causal)]
            p = np.full(labels.size, np.nan)
            p[tested] = inputs.wald_p(range(design.c), tested)
            out["GEMMA mvLMM"] = p
        failures = inputs.failures
    return out, labels, failures


def run_design(design: Design, args, gemma_available: bool):
    """Pooled p-values {method: {label: (N,)}} over the replicates of one design, the numbers of replicates
    that ran GEMMA and its mvLMM, and GEMMA's errors."""
    rng = np.random.default_rng(args.seed + sum(map(ord, design.name)))
    gemma_replicates = 0
    if gemma_available:
        gemma_replicates = args.replicates if args.gemma_runs is None else min(args.replicates,
                                                                               args.gemma_runs // design.c)
    mvlmm_replicates = 0 if not gemma_available or design.c > MVLMM_MAX_C else min(args.replicates,
                                                                                  args.mvlmm_replicates)
    pooled, failures = {}, []
    with tempfile.TemporaryDirectory() as scratch:
        for rep in range(args.replicates):
            p_values, labels, errors = replicate_p_values(design, rng, args, rep < gemma_replicates,
                                                          rep < mvlmm_replicates, scratch)
            failures += [f"replicate {rep}: {error}" for error in errors]
            for method, p in p_values.items():
                for label in (NULL, *PATTERNS):
                    pooled.setdefault(method, {}).setdefault(label, []).append(p[labels == label])
            print(f"  {design.name}: replicate {rep + 1}/{args.replicates}", file=sys.stderr, flush=True)
    return {method: {label: np.concatenate(parts) for label, parts in by_label.items()}
            for method, by_label in pooled.items()}, gemma_replicates, mvlmm_replicates, failures


def power_summary(by_label) -> dict:
    """Type I at α, and per pattern power at equal type I (own null 5% quantile) and at nominal α, with SEs.

    ``dropped`` counts the SNPs without a p-value: outside the method's tested subset (the mvLMM's),
    removed by GEMMA's filters, or in a failed GEMMA run."""
    null = by_label[NULL][~np.isnan(by_label[NULL])]
    threshold = float(np.quantile(null, ALPHA))
    out = {"n_null": int(null.size), "type1_at_0.05": float(np.mean(null < ALPHA)), "threshold": threshold,
           "dropped": int(sum(np.isnan(v).sum() for v in by_label.values()))}
    for pattern in PATTERNS:
        causal = by_label[pattern][~np.isnan(by_label[pattern])]
        equal, nominal = float(np.mean(causal <= threshold)), float(np.mean(causal < ALPHA))
        out[pattern] = {"n_causal": int(causal.size), "power_at_equal_type1": equal,
                        "se_equal": float(np.sqrt(equal * (1 - equal) / causal.size)),
                        "power_at_nominal_0.05": nominal,
                        "se_nominal": float(np.sqrt(nominal * (1 - nominal) / causal.size))}
    return out


def main():
    parser = argparse.ArgumentParser(description="power of jaxgen's SNP tests against OLS and GEMMA")
    parser.add_argument("--replicates", type=int, default=35)
    parser.add_argument("--causal", type=int, default=8, help="causal SNPs per pattern and replicate")
    parser.add_argument("--null", type=int, default=150, help="null SNPs per replicate")
    parser.add_argument("--effect-group", type=float, default=0.12, help="effect on each region of the group")
    parser.add_argument("--effect-one", type=float, default=0.2)
    parser.add_argument("--effect-all", type=float, default=0.08)
    parser.add_argument("--designs", nargs="*", help="run only designs whose name contains one of these")
    parser.add_argument("--gemma-runs", type=int, help="GEMMA univariate runs per design at most (default: all)")
    parser.add_argument("--mvlmm-replicates", type=int, default=35, help="replicates that run GEMMA's mvLMM")
    parser.add_argument("--mvlmm-null", type=int, default=150, help="null SNPs per replicate in the mvLMM")
    parser.add_argument("--no-gemma", action="store_true")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 replicates, 2 causal, 40 null")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "lmm_study.json"))
    parser.add_argument("--resume", action="store_true",
                        help="keep the designs already in --out (each records its own setting) and run the others")
    args = parser.parse_args()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if args.quick:
        args.replicates, args.causal, args.null, args.mvlmm_null = 2, 2, 40, 10
    designs = [d for d in DESIGNS if not args.designs or any(s in d.name for s in args.designs)]
    if not designs:
        parser.error(f"no design matches {args.designs}; names: {[d.name for d in DESIGNS]}")
    gemma_available = not args.no_gemma and find_gemma() is not None
    if not args.no_gemma and not gemma_available:
        print("GEMMA not found on PATH (Debian package 'gemma'): its methods are left out", file=sys.stderr)
    setting = {k: v for k, v in vars(args).items() if k not in ("out", "designs", "resume")}
    results = {"gemma": find_gemma() if gemma_available else None, "designs": []}
    if args.resume and os.path.exists(args.out):
        with open(args.out) as handle:
            results["designs"] = json.load(handle)["designs"]
    done = {entry["design"]["name"] for entry in results["designs"]}
    for design in designs:
        if design.name in done:
            print(f"{design.name}: kept from {args.out}", file=sys.stderr)
            continue
        start = time.perf_counter()
        pooled, gemma_replicates, mvlmm_replicates, failures = run_design(design, args, gemma_available)
        entry = {"design": design.describe(), "setting": setting, "gemma_replicates": gemma_replicates,
                 "mvlmm_replicates": mvlmm_replicates, "gemma_failures": failures,
                 "methods": {method: power_summary(by_label) for method, by_label in pooled.items()}}
        entry["seconds"] = round(time.perf_counter() - start, 1)
        results["designs"].append(entry)
        order = [d.name for d in DESIGNS]
        results["designs"].sort(key=lambda e: order.index(e["design"]["name"]) if e["design"]["name"] in order
                                else len(order))
        print(f"{design.name}: {entry['seconds']} s; " + "; ".join(
            f"{m} " + "/".join(f"{v[p]['power_at_equal_type1']:.2f}" for p in PATTERNS)
            for m, v in entry["methods"].items()), file=sys.stderr, flush=True)
        with open(args.out, "w") as handle:  # after every design, so that a long run keeps what it has
            json.dump(results, handle, indent=1)
    print(f"wrote {args.out}")
    plot(results, args.out.replace(".json", ".png"))
    print(markdown_table(results))


def markdown_table(results) -> str:
    """The README's table: per design, a type I row and one row per pattern; cells "equal-type-I (nominal)"
    power, the best at equal type I in bold."""
    methods = list(dict.fromkeys(m for d in results["designs"] for m in d["methods"]))
    lines = ["| design | row | " + " | ".join(methods) + " |", "| --- | --- |" + " ---: |" * len(methods)]
    for entry in results["designs"]:
        cells = entry["methods"]
        name = entry["design"]["name"]
        lines.append(f"| {name} | type I at 0.05 | " + " | ".join(
            f"{cells[m]['type1_at_0.05']:.3f}" if m in cells else "–" for m in methods) + " |")
        for pattern in PATTERNS:
            best = max(cells[m][pattern]["power_at_equal_type1"] for m in cells)
            def cell(m):
                if m not in cells:
                    return "–"
                row = cells[m][pattern]
                value = f"{row['power_at_equal_type1']:.2f}"
                value = f"**{value}**" if row["power_at_equal_type1"] == best else value
                return f"{value} ({row['power_at_nominal_0.05']:.2f})"
            lines.append(f"| {name} | {pattern} | " + " | ".join(cell(m) for m in methods) + " |")
    return "\n".join(lines)


def plot(results, path):
    """Power at equal type I error with ±1 SE: one panel per design, bars per method grouped by pattern."""
    from plotting import headless_pyplot

    plt = headless_pyplot()
    if plt is None:
        return
    designs = results["designs"]
    methods = list(dict.fromkeys(m for d in designs for m in d["methods"]))
    columns = min(3, len(designs))
    rows = -(-len(designs) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 3.8 * rows), squeeze=False)
    width = 0.8 / len(methods)
    colours = plt.get_cmap("tab10")
    for ax, entry in zip(axes.ravel(), designs):
        for i, method in enumerate(methods):
            if method not in entry["methods"]:
                continue
            cells = [entry["methods"][method][p] for p in PATTERNS]
            ax.bar(np.arange(len(PATTERNS)) + i * width, [c["power_at_equal_type1"] for c in cells], width,
                   yerr=[c["se_equal"] for c in cells], color=colours(i % 10), label=method,
                   error_kw={"lw": 0.6})
        ax.set_xticks(np.arange(len(PATTERNS)) + 0.4 - width / 2)
        ax.set_xticklabels(PATTERNS)
        ax.set_ylim(0, 1)
        ax.set_title(entry["design"]["name"], fontsize=8)
        ax.set_ylabel("power at equal type I (5%)", fontsize=8)
    for ax in axes.ravel()[len(designs):]:
        ax.axis("off")
    handles, names = [], []
    for ax in axes.ravel():
        for h, name in zip(*ax.get_legend_handles_labels()):
            if name not in names:
                handles.append(h)
                names.append(name)
    fig.legend(handles, names, loc="lower center", ncol=min(5, len(names)), fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
