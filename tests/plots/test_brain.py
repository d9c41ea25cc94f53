"""Brain maps: FreeSurfer names matched to atlas labels, and the picture colours exactly those regions
(checked on the drawn patches and their colours), or falls back to the region graph."""

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
pytest.importorskip("ggseg")

import matplotlib.pyplot as plt  # noqa: E402

from matplotlib.collections import LineCollection, PathCollection  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402

from jaxgen.atlas import DESIKAN_KILLIANY, atlas_label, desikan_killiany_labels  # noqa: E402
from jaxgen.graphs import lattice_adjacency  # noqa: E402
from jaxgen.plots.brain import _svg_path, brain_map  # noqa: E402

# ggseg 0.1 draws 32 of the 34 Desikan–Killiany regions per hemisphere.
NO_OUTLINE = {"lh_frontalpole", "lh_temporalpole", "rh_frontalpole", "rh_temporalpole"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name, label", [
    ("lh_bankssts_thickness", "lh_bankssts"), ("rh_insula_volume", "rh_insula"), ("lh_bankssts", "lh_bankssts"),
    ("lh.superiorfrontal", "lh_superiorfrontal"), ("bankssts_left", "lh_bankssts"), ("ctx-rh-insula", "rh_insula"),
    ("Left-Hippocampus", "Left-Hippocampus"), ("left_hippocampus_volume", "Left-Hippocampus"),
    ("Right-Thalamus-Proper", "Right-Thalamus"), ("CC_Mid_Anterior", "CC_Mid_Anterior"),
    ("region001", None), ("lh_MeanThickness_thickness", None), ("eTIV", None), ("bankssts", None),
    ("lh_hippocampus", None),
])
def test_freesurfer_names_match_their_atlas_label(name, label):
    assert atlas_label(name) == label


def test_a_desikan_killiany_table_maps_to_the_68_cortical_labels():
    columns = [f"{h}_{r}_volume" for h in ("lh", "rh") for r in DESIKAN_KILLIANY]  # aparcstats2table --meas volume
    labels = [atlas_label(c) for c in columns]
    assert labels == desikan_killiany_labels() and len(set(labels)) == 68


def _coloured(fig) -> dict:
    """{gid: facecolor} of the patches drawn with a value."""
    return {p.get_gid(): p.get_facecolor() for ax in fig.axes for p in ax.patches
            if isinstance(p, PathPatch) and p.get_gid()}


def test_the_cortical_map_colours_every_outlined_region_with_its_value():
    names = [f"{h}_{r}_thickness" for h in ("lh", "rh") for r in DESIKAN_KILLIANY]
    values = pd.Series(np.linspace(-2.0, 3.0, len(names)), index=names, name="z")
    fig = brain_map(values, symmetric=True)
    coloured = _coloured(fig)
    assert set(coloured) == set(desikan_killiany_labels()) - NO_OUTLINE
    norm, cmap = Normalize(-3.0, 3.0), matplotlib.colormaps["RdBu_r"]
    for name, value in values.items():
        if atlas_label(name) in coloured:
            np.testing.assert_allclose(coloured[atlas_label(name)], cmap(norm(value)), atol=1e-12)
    footnote = fig.get_supxlabel()
    assert all(n in footnote for n in ("lh_frontalpole_thickness", "rh_temporalpole_thickness"))


def test_subcortical_structures_get_their_own_panel_and_unknown_names_the_footnote():
    names = ["Left-Hippocampus", "Right-Amygdala", "lh_insula", "Left-Accumbens-area", "WM-hypointensities"]
    fig = brain_map(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=names), cmap="magma")
    cortex, subcortex = fig.axes[:2]
    assert {p.get_gid() for p in cortex.patches if p.get_gid()} == {"lh_insula"}
    assert {p.get_gid() for p in subcortex.patches if p.get_gid()} == {"Left-Hippocampus", "Right-Amygdala"}
    assert "Left-Accumbens-area" in fig.get_supxlabel() and "WM-hypointensities" in fig.get_supxlabel()


def test_one_panel_per_column_each_on_its_own_scale():
    names = ["lh_cuneus", "rh_cuneus", "lh_precuneus"]
    fig = brain_map(pd.DataFrame({"z": [1.0, 2.0, 3.0], "effect": [30.0, 20.0, 10.0]}, index=names))
    panels = [ax for ax in fig.axes if ax.patches]
    assert len(panels) == 2
    low, high = (matplotlib.colormaps["viridis"](x) for x in (0.0, 1.0))
    z, effect = ({p.get_gid(): p.get_facecolor() for p in ax.patches if p.get_gid()} for ax in panels)
    np.testing.assert_allclose([z["lh_cuneus"], z["lh_precuneus"]], [low, high])
    np.testing.assert_allclose([effect["lh_cuneus"], effect["lh_precuneus"]], [high, low])


def test_names_of_no_atlas_fall_back_to_the_region_graph():
    names = [f"region{k:03d}" for k in range(9)] + ["lh_cuneus"]  # one atlas name of ten: not a brain map
    adjacency = np.zeros((10, 10))
    adjacency[:9, :9] = lattice_adjacency(9)
    values = np.arange(10.0)
    fig = brain_map(pd.Series(values, index=names), adjacency=adjacency)
    ax = fig.axes[0]
    assert not _coloured(fig)
    nodes = [c for c in ax.collections if isinstance(c, PathCollection) and c.get_gid() == "regions"]
    assert len(nodes) == 1 and nodes[0].get_offsets().shape == (10, 2)
    np.testing.assert_allclose(nodes[0].get_facecolors(), matplotlib.colormaps["viridis"](values / 9.0))
    edges = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(edges[0].get_segments()) == 12  # the 3 × 3 lattice's edges
    assert [t.get_text() for t in ax.texts] == names


def test_without_ggseg_atlas_names_get_the_graph_and_a_note(monkeypatch):
    monkeypatch.setattr("jaxgen.plots.brain.find_spec", lambda name: None)
    fig = brain_map(pd.Series([1.0, 2.0, 3.0], index=["lh_cuneus", "rh_cuneus", "Left-Hippocampus"]))
    assert not _coloured(fig) and "need ggseg" in fig.get_supxlabel()
    assert fig.axes[0].collections[0].get_offsets().shape == (3, 2)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="unique"):
        brain_map(pd.Series([1.0, 2.0], index=["a", "a"]))
    with pytest.raises(ValueError, match="adjacency is 2×2 for 3 regions"):
        brain_map(pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"]), adjacency=np.ones((2, 2)))


def test_svg_outlines_parse_to_bezier_paths():
    path = _svg_path("M 0,0 C 1,0 1,1 0,1 0.5,1 0.5,0.5 -0.5,2 Z ")
    assert list(path.codes) == [1, 4, 4, 4, 4, 4, 4, 79]
    np.testing.assert_allclose(path.vertices[:7], [[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 1], [0.5, 0.5], [-0.5, 2]])
