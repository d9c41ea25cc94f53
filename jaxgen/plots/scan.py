"""Plots of a genome-wide scan: the Manhattan plot along the genome and the QQ plot of each test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jaxgen.plots.figure import pyplot
from jaxgen.scan.sumstats import chromosome_order

__all__ = ["genome_manhattan", "qq_plot"]


def genome_manhattan(sumstats: pd.DataFrame, *, log10_p_column: str = "LOG10P", line: float = 5e-8,
                     title: str | None = None):
    """−log10 p along the genome (columns CHR, BP and ``log10_p_column``), chromosomes in alternating
    colours, with the genome-wide line at p = ``line``. Returns the matplotlib Figure."""
    plt = pyplot()
    table = sumstats[["CHR", "BP", log10_p_column]].dropna()
    order = chromosome_order(table["CHR"])
    table = table.assign(_rank=table["CHR"].map(order)).sort_values(["_rank", "BP"], kind="stable")
    spans = table.groupby("_rank", sort=True)["BP"].agg(["min", "max"])
    offsets = np.concatenate([[0.0], np.cumsum((spans["max"] - spans["min"] + 1).to_numpy(float))[:-1]])
    offset = pd.Series(offsets - spans["min"].to_numpy(), index=spans.index)
    x = table["BP"].to_numpy(float) + table["_rank"].map(offset).to_numpy()
    y = table[log10_p_column].to_numpy()
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.scatter(x, y, c=np.where(table["_rank"].to_numpy() % 2, "#4C72B0", "#1f3b63"), s=6, rasterized=True)
    ax.axhline(-np.log10(line), color="#C44E52", ls="--", lw=1)
    centres = offset + (spans["min"] + spans["max"]) / 2
    names = {rank: chromosome for chromosome, rank in order.items()}
    ax.set_xticks(centres.to_numpy(), [names[r] for r in centres.index], fontsize=7)
    ax.set_xlabel("chromosome")
    ax.set_ylabel("−log10 p")
    ax.set_ylim(0, 1.1 * max(float(np.max(y, initial=0.0)), -np.log10(line)))
    ax.set_title(title or f"genome-wide scan (line at p = {line:g})")
    return fig


def qq_plot(p_values: dict[str, np.ndarray], lambdas: dict[str, float], *, title: str | None = None):
    """Observed against expected −log10 p for each test (name → p-values (p,)), λ_GC in the legend."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 4.6))
    top = 0.0
    for name, p in p_values.items():
        p = np.sort(np.asarray(p, float)[np.isfinite(p)])
        if not len(p):
            continue
        expected = -np.log10((np.arange(1, len(p) + 1) - 0.5) / len(p))
        observed = -np.log10(np.clip(p, 1e-300, 1.0))
        ax.scatter(expected, observed, s=5, label=f"{name} (λ_GC = {lambdas[name]:.3f})", rasterized=True)
        top = max(top, float(expected[0]), float(observed[0]))
    ax.plot([0, top], [0, top], color="grey", lw=1, ls="--")
    ax.set_xlabel("expected −log10 p")
    ax.set_ylabel("observed −log10 p")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title or "QQ plot")
    return fig
