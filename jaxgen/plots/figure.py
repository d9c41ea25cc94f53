"""Matplotlib access shared by every plot: a clear error without the ``plot`` extra, and saving."""

from __future__ import annotations

from pathlib import Path

__all__ = ["pyplot", "save_figure"]


def pyplot():
    """``matplotlib.pyplot`` (Agg is chosen automatically where there is no display)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'jaxgen[plot]'") from None
    return plt


def save_figure(figure, path: str | Path, dpi: int = 120) -> Path:
    """Save a matplotlib Figure or an ArviZ PlotCollection as PNG and release its memory."""
    plt = pyplot()
    if hasattr(figure, "savefig") and not isinstance(figure, plt.Figure):  # an arviz-plots PlotCollection
        figure.savefig(path, dpi=dpi)
        plt.close("all")
    else:
        figure.savefig(path, dpi=dpi, bbox_inches="tight")
        plt.close(figure)
    return Path(path)
