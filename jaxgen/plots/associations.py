"""Association plots of the spatial LMM: the SNP × region heatmap and the SNP-level Manhattan plot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jaxgen.plots.figure import pyplot

__all__ = ["association_heatmap", "manhattan"]


def association_heatmap(associations: pd.DataFrame, *, max_snps: int = 60, title: str | None = None):
    """Heatmap of −log10 p of each (SNP, region) pair; rows are the ``max_snps`` SNPs with the smallest p.

    associations : the table of :meth:`LMMResult.associations` (columns snp, qt, log10_p).
    Returns the matplotlib Figure.
    """
    plt = pyplot()
    grid = (-associations.pivot(index="snp", columns="qt", values="log10_p")
            .reindex(index=pd.unique(associations["snp"]), columns=pd.unique(associations["qt"])))
    grid = grid.loc[grid.max(axis=1).sort_values(ascending=False).index[:max_snps]]
    height = 1.5 + 0.16 * len(grid)
    fig, ax = plt.subplots(figsize=(2.5 + 0.32 * grid.shape[1], height))
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="magma_r", interpolation="nearest")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=90, fontsize=7)
    ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=7)
    ax.set_xlabel("brain region (QT)")
    ax.set_ylabel(f"SNP (top {len(grid)} by smallest p)")
    ax.set_title(title or "SNP × region association, −log10 p")
    fig.colorbar(image, ax=ax, label="−log10 p", shrink=0.8)
    return fig


def manhattan(snp_tests: pd.DataFrame, snps: pd.DataFrame | None = None, *, alpha: float = 0.05,
              highlight=(), title: str | None = None, test: str = "omnibus"):
    """Manhattan-style plot of SNP-level p-values (of ``test``, named on the y axis).

    snp_tests : columns snp, p_value and (read first: it does not underflow) log10_p, from
        :meth:`LMMResult.snp_tests`; snps : optional SNP table
    with chromosome and position (from the genotypes) to place SNPs along the genome, else by order;
    alpha : the Bonferroni line is drawn at alpha / #SNPs; highlight : SNP ids marked (e.g. truth).
    """
    plt = pyplot()
    untested = int(snp_tests["p_value"].isna().sum())
    table = snp_tests.dropna(subset=["p_value"]).reset_index(drop=True)
    if table.empty:
        return _message_figure(plt, "no SNP has a p-value: every (SNP, region) pair failed the convergence gate;\n"
                                    "run longer chains (more --samples)")
    if snps is not None:
        table = table.merge(snps[["snp", "chromosome", "position"]], on="snp", how="left")
        order = np.lexsort((table["position"].to_numpy(), pd.to_numeric(table["chromosome"], errors="coerce")))
        table = table.iloc[order].reset_index(drop=True)
    y = (-table["log10_p"] if "log10_p" in table else -np.log10(table["p_value"].astype(float).clip(lower=1e-300)))
    y = y.to_numpy(float)
    fig, ax = plt.subplots(figsize=(9, 3.6))
    colour = (pd.factorize(table["chromosome"])[0] % 2 if "chromosome" in table else np.zeros(len(table)))
    ax.scatter(np.arange(len(table)), y, c=np.where(colour, "#4C72B0", "#1f3b63"), s=14)
    marked = table["snp"].isin(list(highlight)).to_numpy()
    if marked.any():
        ax.scatter(np.flatnonzero(marked), y[marked], s=60, facecolors="none", edgecolors="#C44E52",
                   label="simulated causal SNP")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.axhline(-np.log10(alpha / len(table)), color="#C44E52", ls="--", lw=1)
    ax.text(0, -np.log10(alpha / len(table)), f" Bonferroni α = {alpha}", va="bottom", fontsize=8, color="#C44E52")
    ax.set_xlabel("SNP (genome order)" if snps is not None else "SNP")
    ax.set_ylabel(f"−log10 p ({test} test)")
    ax.set_title((title or "SNP-level association")
                 + (f" ({untested} SNPs left out: no pair passed the convergence gate)" if untested else ""))
    ax.set_xlim(-1, len(table))
    ax.set_ylim(0, 1.1 * max(float(y.max()), -np.log10(alpha / len(table))))
    return fig


def _message_figure(plt, text: str):
    """A small figure that says why there is nothing to plot."""
    fig, ax = plt.subplots(figsize=(9, 1.6))
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10)
    ax.set_axis_off()
    return fig
