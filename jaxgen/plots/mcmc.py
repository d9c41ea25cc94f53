"""MCMC convergence plots through ArviZ: trace with marginal densities, and rank (ECDF) plots per chain."""

from __future__ import annotations

from typing import Sequence

__all__ = ["rank_plot", "trace_plot"]


def trace_plot(posterior, var_names: Sequence[str]):
    """ArviZ trace-and-density plot of ``var_names`` of a posterior DataTree; returns the PlotCollection."""
    import arviz_plots as azp

    return azp.plot_trace_dist(posterior, var_names=list(var_names), backend="matplotlib")


def rank_plot(posterior, var_names: Sequence[str]):
    """ArviZ rank plot (fractional-rank ECDF per chain with a simultaneous envelope): chains that mix
    well stay inside it. Returns the PlotCollection."""
    import arviz_plots as azp

    return azp.plot_rank(posterior, var_names=list(var_names), backend="matplotlib")
