"""Per-region results drawn on the brain: FreeSurfer's Desikan–Killiany cortex and aseg subcortical
structures, or the region graph when the regions are not an atlas's.

The outlines are those the PyPI package ``ggseg`` (0.1, MIT) ships as SVG path files
(``ggseg/data/dk/<region>_<left|right>``, ``ggseg/data/aseg/<Structure>``). Its own plotting
functions do not run on matplotlib ≥ 3.9 (they call the removed ``matplotlib.cm.get_cmap`` and end
in ``plt.show()`` without returning the figure), so this module reads the outline files and draws them
itself as matplotlib patches. ggseg 0.1 has no outline for ``frontalpole`` and ``temporalpole``
(2 of the 34 Desikan–Killiany regions) nor for some aseg structures (accumbens, vessels, …): such
regions are named in the figure's footnote, never silently dropped.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from importlib.util import find_spec

import numpy as np
import pandas as pd

from jaxgen.atlas import atlas_label
from jaxgen.plots.figure import pyplot

__all__ = ["brain_map"]

_EMPTY = "#dcdcdc"  # regions without a value
_CONTEXT = "#a8a8a8"  # cerebellum, brain stem, medial wall: drawn for orientation only
# Outline files that are no region of the atlas: the whole-view silhouettes and the orientation context.
_VIEWS = {"dk": ("lateral_left", "medial_left", "lateral_right", "medial_right"), "aseg": ("Coronal", "Sagittal")}
_CONTEXT_FILES = {"dk": ("NA_left", "NA_right", "corpuscallosum_left", "corpuscallosum_right"),
                  "aseg": ("Cerebellum-Cortex", "Cerebellum-White-Matter", "Brain-Stem")}
_MAX_NODE_LABELS = 68


def brain_map(values: pd.Series | pd.DataFrame, *, title: str = "", cmap: str | None = None,
              symmetric: bool = False, adjacency=None):
    """Draw per-region values on the atlas their names belong to, else on the region graph.

    values : (c,) values indexed by region name, or (c, m) with one panel per column (each its own
        colour scale); title : figure title; cmap : matplotlib colormap (default ``RdBu_r`` when
        ``symmetric``, else ``viridis``); symmetric : centre the colour scale on 0 (signed effects,
        z, weights); adjacency : (c, c) region graph in the order of ``values``' index, for the
        graph drawing (nodes at a spectral layout, edges drawn; a circle without it).

    The atlas drawing is chosen when at least half of the names are Desikan–Killiany or aseg labels
    (see :func:`jaxgen.atlas.atlas_label`) and ggseg is installed (else the graph, with a note); each
    coloured patch carries its atlas label as ``gid`` and names without an outline are listed under
    the map. Returns the matplotlib Figure.
    """
    frame = values.to_frame(values.name or "value") if isinstance(values, pd.Series) else values
    names = [str(n) for n in frame.index]
    if len(set(names)) != len(names):
        raise ValueError("brain_map: region names must be unique")
    labels = {name: atlas_label(name) for name in names}
    atlas_names = 2 * sum(label is not None for label in labels.values()) >= len(names)
    on_atlas = atlas_names and find_spec("ggseg") is not None
    plt = pyplot()
    atlases = [a for a in ("dk", "aseg") if any(_atlas_of(label) == a for label in labels.values())] if on_atlas else []
    widths = [{"dk": 1.6, "aseg": 2.3}[a] for a in atlases] or [1.0]
    fig, axes = plt.subplots(frame.shape[1], len(widths), squeeze=False, width_ratios=widths,
                             figsize=(4.2 * sum(widths) + 1.0, 3.4 * frame.shape[1]), layout="constrained")
    colormap = plt.get_cmap(cmap or ("RdBu_r" if symmetric else "viridis"))
    not_drawn = set()
    for row, column in zip(axes, frame.columns):
        column_values = frame[column].to_numpy(dtype=float)
        norm = _norm(column_values, symmetric)
        if on_atlas:
            by_label = {labels[n]: v for n, v in zip(names, column_values) if labels[n] is not None}
            for ax, atlas in zip(row, atlases):
                drawn = _draw_atlas(ax, atlas, by_label, colormap, norm)
                not_drawn |= {n for n in names if _atlas_of(labels[n]) == atlas and labels[n] not in drawn}
            not_drawn |= {n for n in names if labels[n] is None}
        else:
            _draw_graph(row[0], names, column_values, adjacency, colormap, norm)
        row[0].set_title(str(column), fontsize=10, loc="left")
        fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=colormap), ax=list(row), shrink=0.8, label=str(column))
    if atlas_names and not on_atlas:
        fig.supxlabel("the atlas outlines need ggseg (pip install 'jaxgen[plot]'): the region graph instead",
                      fontsize=8)
    if not_drawn:
        listed = sorted(not_drawn)
        fig.supxlabel("not on the map (no outline): " + ", ".join(listed[:12])
                      + (f" and {len(listed) - 12} more" if len(listed) > 12 else ""), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def _atlas_of(label: str | None) -> str | None:
    """"dk" for a cortical label, "aseg" for a subcortical one, None for no label."""
    if label is None:
        return None
    return "dk" if label[:3] in ("lh_", "rh_") else "aseg"


def _outline_file(label: str) -> str:
    """ggseg's file name of an atlas label: ``lh_bankssts`` → ``bankssts_left``; aseg labels as they are."""
    if _atlas_of(label) == "dk":
        return f"{label[3:]}_{'left' if label.startswith('lh') else 'right'}"
    return label


def _norm(values: np.ndarray, symmetric: bool):
    from matplotlib.colors import Normalize

    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return Normalize(-1.0, 1.0) if symmetric else Normalize(0.0, 1.0)
    if symmetric:
        bound = float(np.abs(finite).max()) or 1.0
        return Normalize(-bound, bound)
    low, high = float(finite.min()), float(finite.max())
    return Normalize(low, high if high > low else low + 1.0)


def _draw_atlas(ax, atlas: str, by_label: dict, colormap, norm) -> set[str]:
    """Fill the outlines of ``atlas`` ("dk" or "aseg"), coloured where ``by_label`` has a finite value;
    returns the labels coloured."""
    from matplotlib.patches import PathPatch

    outlines = _outlines(atlas)
    for name, path in outlines.items():  # silhouettes first, then every region empty, so that borders show
        face = _CONTEXT if name in _CONTEXT_FILES[atlas] else _EMPTY
        ax.add_patch(PathPatch(path, facecolor=face, edgecolor="white", lw=0.6,
                               zorder=0 if name in _VIEWS[atlas] else 1))
    coloured = set()
    for label, value in by_label.items():
        path = outlines.get(_outline_file(label))
        if path is None or _atlas_of(label) != atlas or not np.isfinite(value):
            continue
        ax.add_patch(PathPatch(path, facecolor=colormap(norm(value)), edgecolor="white", lw=0.6, gid=label,
                               zorder=2))
        coloured.add(label)
    for name in _VIEWS[atlas]:  # which view (and hemisphere) each silhouette is
        (left, top) = outlines[name].vertices.min(axis=0)
        ax.text(left, top, name.replace("_", " "), fontsize=7, color="#555555", va="bottom")
    corners = np.concatenate([outlines[name].vertices for name in _VIEWS[atlas]])
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0 - 0.05 * (y1 - y0))  # SVG coordinates grow downwards; room for the view names
    ax.set_aspect("equal")
    ax.set_axis_off()
    return coloured


@cache
def _outlines(atlas: str) -> dict:
    """{file name: matplotlib Path} of every outline file of ggseg's ``atlas`` folder."""
    folder = resources.files("ggseg") / "data" / atlas
    return {entry.name: _svg_path(entry.read_text()) for entry in folder.iterdir() if entry.is_file()}


def _svg_path(text: str):
    """A matplotlib Path from an SVG path of absolute M (move), C (cubic Bézier) and Z (close) commands,
    the only ones ggseg's files use."""
    from matplotlib.path import Path

    codes, vertices = [], []
    for command, numbers in re.findall(r"([MCZmcz])([^MCZmcz]*)", text):
        if command not in "MCZ":
            raise ValueError(f"ggseg outline: unsupported relative SVG command {command!r}")
        if command == "Z":
            codes.append(Path.CLOSEPOLY)
            vertices.append(vertices[-1] if vertices else (0.0, 0.0))
            continue
        points = np.array(re.findall(r"-?\d+(?:\.\d*)?", numbers), dtype=float).reshape(-1, 2)
        codes += [Path.MOVETO if command == "M" else Path.CURVE4] * len(points)
        vertices += [tuple(p) for p in points]
    return Path(np.array(vertices), codes)


def _draw_graph(ax, names: list[str], values: np.ndarray, adjacency, colormap, norm) -> None:
    """Nodes (one per region, coloured by value, ``gid`` "regions") at a spectral layout of
    ``adjacency`` (c, c), its edges as lines; on a circle without an adjacency."""
    from matplotlib.collections import LineCollection

    xy = _layout(adjacency, len(names))
    if adjacency is not None:
        i, j = np.nonzero(np.triu(np.asarray(adjacency, dtype=float), k=1))
        ax.add_collection(LineCollection(np.stack([xy[i], xy[j]], axis=1), colors="#b0b0b0", linewidths=0.8,
                                         zorder=1))
    colours = [colormap(norm(v)) if np.isfinite(v) else _EMPTY for v in values]
    ax.scatter(xy[:, 0], xy[:, 1], s=180, c=colours, edgecolors="#555555", linewidths=0.6, zorder=2, gid="regions")
    if len(names) <= _MAX_NODE_LABELS:
        for (x, y), name in zip(xy, names):
            ax.annotate(name, (x, y), xytext=(0, 8), textcoords="offset points", ha="center", fontsize=6)
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.12)
    ax.set_axis_off()


def _layout(adjacency, c: int) -> np.ndarray:
    """(c, 2) node positions: the Laplacian eigenvectors of the two smallest non-zero eigenvalues
    (a spectral layout; a lattice comes out as its grid), or the unit circle without an adjacency."""
    if adjacency is None or c < 3:
        angle = 2 * np.pi * np.arange(c) / c
        return np.column_stack([np.cos(angle), np.sin(angle)])
    A = np.asarray(adjacency, dtype=float)
    if A.shape != (c, c):
        raise ValueError(f"brain_map: adjacency is {A.shape[0]}×{A.shape[1]} for {c} regions")
    eigenvalues, eigenvectors = np.linalg.eigh(np.diag(A.sum(axis=1)) - A)
    first = int(np.searchsorted(eigenvalues, 1e-9 * max(eigenvalues[-1], 1.0)))
    return eigenvectors[:, [min(first, c - 2), min(first + 1, c - 1)]]
