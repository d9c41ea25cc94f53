"""The outputs of a spatial LMM analysis: posterior (netCDF), tables (CSV), plots (PNG) and report.md."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from jaxgen.lmm import LMMResult
from jaxgen.plots import association_heatmap, brain_map, manhattan, rank_plot, save_figure, trace_plot
from jaxgen.reports.markdown import markdown_table
from jaxgen.runtime import Stopwatch

__all__ = ["gene_tests_table", "write_lmm_outputs"]

TEST_TEXT = {
    "omnibus": "Each SNP is tested against the null model by marginal score tests; its p-value is the Cauchy "
               "combination of the whitened χ² test with the CAR-and-factor correlations (spatial), the burden test (one "
               "effect on every region), and per-region tests: each region with its neighbours' noise removed, "
               "each region's neighbourhood, and each region alone; the combination is referred to its null law, "
               "simulated once from the null model.",
    "burden": "Each SNP's p-value is the burden score test of one effect shared by every region.",
    "cct": "Each SNP's p-value is the Cauchy combination of its per-region score tests against the null model.",
    "spatial": "Each SNP's p-value is the whitened χ² test of its per-region scores with the null model's CAR "
               "correlation.",
    "empirical": "Each SNP's p-value is the whitened χ² test of its per-region scores with the shrunk residual "
                 "correlation (MOSTest-style).",
    "posterior": "Each SNP's p-value is the Cauchy combination of its (SNP, region) conditional p-values from the "
                 "MCMC fit (the seed's construction).",
}

SCALARS = ("rho", "h2", "sigma2")


def write_lmm_outputs(result: LMMResult, folder: str | Path, *, snps: pd.DataFrame | None = None,
                      inputs: list[str] = (), settings: dict | None = None, alpha: float = 0.05,
                      causal_snps=(), test: str = "omnibus", stopwatch: Stopwatch | None = None,
                      gene_sets: Mapping[str, Sequence[str]] | None = None,
                      comparison: pd.DataFrame | None = None) -> list[Path]:
    """Write everything about ``result`` into ``folder``; returns the paths written.

    snps : SNP table (chromosome, position, maf) for the Manhattan plot and the top-SNP table;
    inputs : lines describing what was read; settings : the run's options; alpha : family-wise level of
    the Bonferroni line; causal_snps : SNP ids to mark (a simulation's truth); test : the SNP-level test
    of ``snp_tests.csv`` (see :meth:`LMMResult.snp_tests`); stopwatch : times each stage (posterior,
    SNP tests, diagnostics, tables, plots, report) when given; gene_sets : {gene: analysed SNP ids} for
    ``gene_tests.csv`` and the report's gene section (:func:`gene_tests_table`); comparison : the table of
    :func:`jaxgen.lmm.compare_models`, for ``model_comparison.csv`` and the report's section on it.
    """
    folder = Path(folder)
    stage = (stopwatch or Stopwatch()).stage
    with stage("posterior.nc"):
        posterior = result.posterior          # with the log likelihood, computed here unless the sampler recorded it
    # written while the tests and plots are computed: h5py releases the GIL while it writes
    with ThreadPoolExecutor(1, thread_name_prefix="posterior.nc") as writer:
        posterior_written = writer.submit(posterior.to_netcdf, folder / "posterior.nc", engine="h5netcdf")
        written = _write_analysis(result, folder, stage, snps, inputs, settings, alpha, causal_snps, test, gene_sets,
                                  comparison)
        with stage("posterior.nc"):
            posterior_written.result()
    return [folder / "posterior.nc", *written]


def _write_analysis(result, folder, stage, snps, inputs, settings, alpha, causal_snps, test, gene_sets, comparison):
    """The tables, plots and report of :func:`write_lmm_outputs`; returns their paths."""
    written = []
    with stage("SNP tests"):
        associations = result.associations()
        snp_tests = result.snp_tests(test=test).sort_values("p_value", kind="stable")
    with stage("diagnostics"):
        diagnostics = result.diagnostics()
    with stage("tables"):
        for name, table in (("associations", associations), ("snp_tests", snp_tests), ("diagnostics", diagnostics)):
            table.to_csv(folder / f"{name}.csv", index=name == "diagnostics", index_label="parameter")
            written.append(folder / f"{name}.csv")
    sections = []                                                     # extra report lines
    if gene_sets:
        with stage("gene tests"):
            genes = gene_tests_table(result, gene_sets, test)
            genes.to_csv(folder / "gene_tests.csv", index=False)
            written.append(folder / "gene_tests.csv")
            sections += _gene_section(genes, test, alpha)
    if comparison is not None:
        comparison.to_csv(folder / "model_comparison.csv")
        written.append(folder / "model_comparison.csv")
        sections += _comparison_section(comparison)
    scalars = [v for v in SCALARS if v in result.draws]
    with stage("plots"):
        figures = {"manhattan.png": manhattan(snp_tests, snps, alpha=alpha, highlight=causal_snps, test=test),
                   "heatmap.png": association_heatmap(associations),
                   "trace.png": trace_plot(result.posterior, scalars),
                   "brain.png": _lead_snp_brain_map(result, associations, snp_tests["snp"].iloc[0])}
        if _chains(result) > 1:  # a rank plot compares chains
            figures["rank.png"] = rank_plot(result.posterior, scalars)
        written += [save_figure(figure, folder / name) for name, figure in figures.items()]
    with stage("report"):
        report = _report(result, associations, snp_tests, diagnostics.loc[scalars], snps, inputs, settings or {},
                         alpha, causal_snps, test, sections)
        (folder / "report.md").write_text(report)
    return written + [folder / "report.md"]


def _chains(result) -> int:
    return int(result.posterior["posterior"].sizes["chain"])


def _lead_snp_brain_map(result, associations, snp: str):
    """The SNP's per-region score z and posterior mean effect on the brain (or the region graph)."""
    rows = associations[associations["snp"] == snp].set_index("qt")
    profile = rows[["z", "mean"]].rename(columns={"z": "score z", "mean": "posterior mean effect"})
    return brain_map(profile, title=f"lead SNP {snp}", symmetric=True, adjacency=np.asarray(result.data.adjacency))


def _report(result, associations, snp_tests, scalar_diagnostics, snps, inputs, settings, alpha, causal_snps,
            test, sections=()) -> str:
    n_snps, n_pairs = len(snp_tests), len(associations)
    threshold = alpha / n_snps
    hits = snp_tests[snp_tests["p_value"] < threshold]
    top = snp_tests.head(15).copy()
    if snps is not None:
        top = top.merge(snps[["snp", "chromosome", "position", "maf"]], on="snp", how="left")
    top["significant"] = top["p_value"] < threshold
    if len(causal_snps):
        top["simulated_causal"] = top["snp"].isin(list(causal_snps))
    passed = int(associations["passed"].sum())
    null = result.null_model
    lines = [
        "# jaxgen spatial LMM report", "",
        f"{result.data.Y.shape[0]} subjects, {n_snps} SNPs, {result.data.Y.shape[1]} regions; "
        f"{result.method} sampling, {result.draws['B'].shape[0]} chains × {result.draws['B'].shape[1]} draws "
        f"in {result.seconds:.1f} s.", "",
        "## Inputs", "", *(f"- {line}" for line in inputs), "",
        "## Settings", "", *(f"- {key}: {value}" for key, value in settings.items()), "",
        "## Convergence", "",
        f"{passed} of {n_pairs} (SNP, region) pairs pass the gate (R-hat ≤ {result.rhat_max}, bulk ESS ≥ "
        f"{result.ess_min:g}); only those enter the posterior test (`--test posterior`).", "",
        markdown_table(scalar_diagnostics.rename_axis("parameter"), index=True), "",
        "![trace plots](trace.png)", "",
        "![rank plots](rank.png)" if _chains(result) > 1 else "One chain: no rank plot (it compares chains).", "",
        "## Null model", "",
        f"REML fit without SNPs ({null.heritability} heritability): h² from {float(null.h2.min()):.2f} to "
        f"{float(null.h2.max()):.2f} across regions; CAR correlation between regions ρ = "
        f"{float(null.rho_genetic):.3f} (genetic) and {float(null.rho_residual):.3f} (residual), global factor share "
        f"{float(null.factor_genetic):.2f} (genetic) and {float(null.factor_residual):.2f} (residual). "
        + null.car_fit_text(), "",
        "## SNP tests", "",
        f"{TEST_TEXT[test]} {len(hits)} SNPs are "
        f"significant at Bonferroni level {alpha} (p < {threshold:.3g})"
        + (f": {', '.join(hits['snp'].head(20))}." if len(hits) else ".")
        + " A SNP in linkage disequilibrium with a causal one is significant too: read hits by locus.", "",
        markdown_table(top), "",
        "![Manhattan plot](manhattan.png)", "", "![association heatmap](heatmap.png)", "",
        f"The lead SNP {snp_tests['snp'].iloc[0]} region by region: its score-test z against the null model and "
        "its posterior mean effect (per sd of dosage).", "", "![brain map of the lead SNP](brain.png)", "",
        *sections,
        "## Files", "",
        "- `posterior.nc`: the posterior draws (ArviZ DataTree, netCDF); `diagnostics.csv`: posterior mean, sd, "
        "95% interval, R-hat, ESS, MCSE",
        "- `associations.csv`: one row per (SNP, region); `snp_tests.csv`: one row per SNP", "",
    ]
    return "\n".join(lines)


def gene_tests_table(result: LMMResult, gene_sets: Mapping[str, Sequence[str]], test: str) -> pd.DataFrame:
    """One row per gene, smallest p first: ``gene``, ``n_snps``, ``snps`` (its SNP ids, ';'-separated),
    then the columns of :meth:`LMMResult.set_tests` for ``test`` (``p_value``, ``log10_p``, …)."""
    table = result.set_tests(gene_sets, test=test).rename(columns={"set": "gene"}).drop(columns="n_snps",
                                                                                      errors="ignore")
    table.insert(1, "n_snps", [len(gene_sets[gene]) for gene in table["gene"]])
    table.insert(2, "snps", [";".join(gene_sets[gene]) for gene in table["gene"]])
    return table.sort_values("p_value", kind="stable", ignore_index=True)


def _gene_section(genes: pd.DataFrame, test: str, alpha: float, shown: int = 15, snps_shown: int = 5) -> list[str]:
    """The report's gene-test section (lines): what was combined, the Bonferroni hits and the top genes."""
    threshold = alpha / len(genes)
    hits = genes[genes["p_value"] < threshold]
    top = genes.head(shown)[["gene", "n_snps", "snps", "p_value", "log10_p"]].copy()
    top["snps"] = [";".join(s.split(";")[:snps_shown]) + (" …" if s.count(";") >= snps_shown else "")
                   for s in top["snps"]]
    top["significant"] = top["p_value"] < threshold
    combined = ("its (SNP, region) pairs' posterior p-values that pass the convergence gate" if test == "posterior"
                else f"its SNPs' `{test}` p-values")
    return [
        "## Gene tests", "",
        f"Each gene's p-value is the Cauchy combination of {combined} (a SNP in several genes "
        f"counts in each; `gene_tests.csv` has every gene). {len(hits)} of {len(genes)} genes are significant at "
        f"Bonferroni level {alpha} (p < {threshold:.3g}).", "",
        markdown_table(top), ""]


def _comparison_section(comparison: pd.DataFrame) -> list[str]:
    """The report's model-comparison section (lines): the PSIS-LOO ranking, WAIC, and what a row is."""
    from jaxgen.lmm import MODELS

    best, worst = comparison.index[0], comparison.index[-1]
    clear = [model for model, row in comparison.iloc[1:].iterrows() if -row["elpd_diff"] > 2 * row["dse"]]
    columns = ["elpd", "se", "elpd_diff", "dse", "p", "weight", "elpd_waic", "p_waic", "diag_elpd"]
    table = comparison[columns].copy()
    table.insert(0, "model", [f"{model}: {MODELS[model]}" for model in table.index])
    return [
        "## Model comparison", "",
        f"Expected log predictive density by PSIS-LOO (ArviZ; WAIC alongside), the alternatives refitted with the "
        f"same chains and draws. Best: {best}; "
        + (f"clearly ahead (ELPD difference above twice its paired standard error) of {', '.join(clear)}."
           if clear else f"no model is clearly behind it (every ELPD difference, down to {worst}'s, is within "
                         "twice its standard error)."),
        "A unit of LOO is a row of the kinship-rotated data (a subject without kinship, a kinship eigen-direction "
        "with it), so with a kinship this is not exactly leave-one-subject-out. A `diag_elpd` warning (Pareto k) "
        "means the estimate is unreliable.", "",
        markdown_table(table.reset_index(drop=True)), ""]
