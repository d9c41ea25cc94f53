"""The outputs of a multi-task CCA analysis: weights, CV table, correlations (CSV), plots (PNG), report.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from jaxgen.cca import CVResult, PermutationResult
from jaxgen.cca.estimator import CCAEstimator
from jaxgen.plots import brain_map, cv_curves, save_figure, weight_stems
from jaxgen.reports.markdown import markdown_table

__all__ = ["write_cca_outputs"]


def write_cca_outputs(estimator: CCAEstimator, folder: str | Path, *, snp_ids: Sequence[str],
                      regions: Sequence[str], modalities: Sequence[str], cv: CVResult | None = None,
                      permutation: PermutationResult | None = None, inputs: Sequence[str] = (),
                      settings: dict | None = None, truth: dict | None = None, adjacency=None) -> list[Path]:
    """Write a fitted CCA ``estimator`` (and its CV and permutation test) into ``folder``.

    snp_ids (p,), regions (q,), modalities (K,) label U_ and V_; truth : optional
    {"causal_snps": ids, "causal_regions": names} of a simulation, shaded in the weight plots;
    adjacency : (q, q) region graph, drawn when the regions are not an atlas's. Returns the paths written.
    """
    folder = Path(folder)
    U = pd.DataFrame(estimator.U_, index=pd.Index(snp_ids, name="snp"), columns=list(modalities))
    V = pd.DataFrame(estimator.V_, index=pd.Index(regions, name="region"), columns=list(modalities))
    correlations = _correlations(estimator, cv, permutation, modalities)
    tables = {"weights_snps.csv": U.assign(norm=np.linalg.norm(U.to_numpy(), axis=1)),
              "weights_regions.csv": V.assign(norm=np.linalg.norm(V.to_numpy(), axis=1)),
              "correlations.csv": correlations}
    if cv is not None:
        tables["cv.csv"] = cv.table()
    written = []
    for name, table in tables.items():
        table.to_csv(folder / name, index=name.startswith("weights"))
        written.append(folder / name)
    truth = truth or {}
    figures = {"weights_snps.png": weight_stems(U.to_numpy(), list(snp_ids), tasks=modalities, what="SNP",
                                                truth=_flags(snp_ids, truth.get("causal_snps"))),
               "weights_regions.png": weight_stems(V.to_numpy(), list(regions), tasks=modalities, what="region",
                                                   truth=_flags(regions, truth.get("causal_regions"))),
               "brain.png": brain_map(V, title="canonical region weights V", symmetric=True, adjacency=adjacency)}
    if cv is not None:
        figures["cv.png"] = cv_curves(cv.table(), estimator._hyper_names, tasks=modalities)
    written += [save_figure(figure, folder / name) for name, figure in figures.items()]
    summary = {"method": type(estimator).__name__, "params": estimator.get_params(),
               "n_iter": int(estimator.n_iter_), "converged": bool(estimator.converged_),
               "correlations": correlations.to_dict(orient="records"),
               "permutation_p_value": None if permutation is None else float(permutation.p_value)}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    report = _report(estimator, U, V, correlations, cv, permutation, inputs, settings or {}, truth)
    (folder / "report.md").write_text(report)
    return written + [folder / "summary.json", folder / "report.md"]


def _correlations(estimator, cv, permutation, modalities) -> pd.DataFrame:
    table = pd.DataFrame({"modality": list(modalities), "train_corr": np.asarray(estimator.train_correlations_)})
    if cv is not None:
        folds = cv.test_corr[cv.best_index]
        table["cv_test_corr"] = folds.mean(axis=0)
        table["cv_test_corr_sd"] = folds.std(axis=0, ddof=1)
    if permutation is not None:
        table["permutation_p"] = permutation.p_values
    return table


def _flags(names, chosen):
    return None if chosen is None else np.isin(np.asarray(names), list(chosen))


def _report(estimator, U, V, correlations, cv, permutation, inputs, settings, truth) -> str:
    method = type(estimator).__name__
    top_snps = U.assign(norm=np.linalg.norm(U.to_numpy(), axis=1)).sort_values("norm", ascending=False).head(15)
    top_regions = V.assign(norm=np.linalg.norm(V.to_numpy(), axis=1)).sort_values("norm", ascending=False).head(10)
    for table, key in ((top_snps, "causal_snps"), (top_regions, "causal_regions")):
        if truth.get(key) is not None:
            table["simulated_signal"] = table.index.isin(list(truth[key]))
    lines = [f"# jaxgen {method} report", "",
             f"{len(U)} SNPs, {len(V)} regions, {U.shape[1]} modalities ({', '.join(U.columns)}).", "",
             "## Inputs", "", *(f"- {line}" for line in inputs), "",
             "## Settings", "", *(f"- {key}: {value}" for key, value in settings.items()),
             f"- fitted: {estimator!r} ({estimator.n_iter_} iterations, converged: {bool(estimator.converged_)})", "",
             "## Canonical correlations", ""]
    if cv is not None:
        lines += [f"{len(cv.params)} settings × {cv.test_corr.shape[1]} folds were fitted in one compiled "
                  f"computation; the best setting by mean held-out correlation: "
                  + ", ".join(f"{k}={v:g}" for k, v in cv.best_params.items()) + ".", ""]
    if permutation is not None:
        lines += [f"Permutation test of any association ({permutation.null.shape[0]} shuffles of the subjects): "
                  f"p = {permutation.p_value:.3g}.", ""]
    lines += [markdown_table(correlations), ""]
    if cv is not None:
        lines += ["![cross-validation sensitivity](cv.png)", ""]
    lines += ["## Weights", "", "Top SNPs by the norm of their weights across modalities:", "",
              markdown_table(top_snps, index=True), "", "![SNP weights](weights_snps.png)", "",
              "Top regions:", "", markdown_table(top_regions, index=True), "",
              "![region weights](weights_regions.png)", "",
              "The region weights of each modality on the brain:", "", "![region weights on the brain](brain.png)", "",
              "## Files", "", "- `weights_snps.csv`, `weights_regions.csv`: U and V (standardized features)",
              "- `correlations.csv`, `summary.json`" + (", `cv.csv` (every setting)" if cv is not None else ""), ""]
    return "\n".join(lines)
