"""CCA plots: canonical weights as stems (with the truth of a simulation) and CV sensitivity curves."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from jaxgen.plots.figure import pyplot

__all__ = ["cv_curves", "weight_stems"]


def weight_stems(weights, names: Sequence[str], *, tasks: Sequence[str] | None = None, truth=None,
                 what: str = "SNP", title: str | None = None):
    """One stem plot per task of canonical weights (d, K) over features ``names`` (d,).

    truth : optional (d,) bool of the features that truly carry signal, shaded behind the stems.
    """
    plt = pyplot()
    W = np.asarray(weights, dtype=float)
    d, K = W.shape
    tasks = list(tasks) if tasks is not None else [f"task {k + 1}" for k in range(K)]
    fig, axes = plt.subplots(K, 1, figsize=(9, 1.2 + 1.5 * K), sharex=True, squeeze=False)
    for k, ax in enumerate(axes[:, 0]):
        if truth is not None:
            for j in np.flatnonzero(np.asarray(truth)):
                ax.axvspan(j - 0.5, j + 0.5, color="#DD8452", alpha=0.25, lw=0)
        markers, stems, _ = ax.stem(np.arange(d), W[:, k], basefmt=" ")
        markers.set_markersize(3)
        stems.set_linewidth(1)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_ylabel(f"{tasks[k]}\nweight")
    axes[-1, 0].set_xlabel(what + (" (shaded: simulated truth)" if truth is not None else ""))
    if d <= 60:
        axes[-1, 0].set_xticks(range(d), names, rotation=90, fontsize=6)
    fig.suptitle(title or f"canonical {what} weights")
    fig.tight_layout()
    return fig


def cv_curves(table: pd.DataFrame, hyper_names: Sequence[str], *, tasks: Sequence[str] | None = None,
              title: str | None = None):
    """Held-out canonical correlation as each hyperparameter varies (the best over the others).

    table : :meth:`CVResult.table` (columns per hyperparameter and ``test_corr_k``); one panel per
    hyperparameter that takes more than one value in the grid, one line per task.
    """
    plt = pyplot()
    varied = [h for h in hyper_names if table[h].nunique() > 1] or list(hyper_names[:1])
    K = sum(c.startswith("test_corr_") and not c.startswith("test_corr_sd") for c in table.columns)
    tasks = list(tasks) if tasks is not None else [f"task {k + 1}" for k in range(K)]
    fig, axes = plt.subplots(1, len(varied), figsize=(3.2 * len(varied), 3.0), sharey=True, squeeze=False)
    for h, ax in zip(varied, axes[0]):
        best = table.groupby(h)[[f"test_corr_{k}" for k in range(K)]].max().sort_index()
        for k in range(K):
            ax.plot(best.index, best[f"test_corr_{k}"], marker="o", label=tasks[k])
        if (best.index > 0).all() and best.index.max() / best.index.min() >= 10:
            ax.set_xscale("log")
        ax.set_xlabel(h)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("held-out canonical correlation\n(best over other settings)")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle(title or "cross-validation sensitivity")
    fig.tight_layout()
    return fig
