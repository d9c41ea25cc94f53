"""Plots for reports and notebooks (the ``plot`` extra: matplotlib, arviz-plots).

Each function returns a matplotlib Figure (or an ArviZ PlotCollection); :func:`save_figure` writes PNG.
"""

from jaxgen.plots.associations import association_heatmap, manhattan
from jaxgen.plots.brain import brain_map
from jaxgen.plots.cca import cv_curves, weight_stems
from jaxgen.plots.figure import save_figure
from jaxgen.plots.mcmc import rank_plot, trace_plot
from jaxgen.plots.scan import genome_manhattan, qq_plot

__all__ = ["association_heatmap", "brain_map", "cv_curves", "genome_manhattan", "manhattan", "qq_plot", "rank_plot",
           "save_figure", "trace_plot", "weight_stems"]
