"""``simulate_study(atlas_names=True)``: Desikan–Killiany region labels on the very same draws."""

import numpy as np
import pytest

from jaxgen.atlas import atlas_label, desikan_killiany_labels
from jaxgen.data import simulate_study

SMALL = dict(n=24, p=6, c=10, n_causal=1, ccc=(0.9,))


def test_atlas_names_rename_the_regions_and_change_no_draw():
    plain, named = simulate_study(1, **SMALL), simulate_study(1, **SMALL, atlas_names=True)
    names = named.lmm.region_names
    assert names[:4] == ["lh_superiorfrontal", "rh_superiorfrontal", "lh_caudalmiddlefrontal", "rh_caudalmiddlefrontal"]
    assert [atlas_label(n) for n in names] == names and len(set(names)) == 10
    np.testing.assert_array_equal(named.lmm.Y, plain.lmm.Y)
    np.testing.assert_array_equal(named.modalities, plain.modalities)
    np.testing.assert_array_equal(named.lmm.adjacency, plain.lmm.adjacency)


def test_all_68_regions_can_be_named_and_no_more():
    names = simulate_study(0, n=16, p=4, c=68, n_causal=1, ccc=(0.9,), atlas_names=True).lmm.region_names
    assert sorted(names) == sorted(desikan_killiany_labels())
    with pytest.raises(ValueError, match="1 to 68 regions, got c=69"):
        simulate_study(0, n=16, p=4, c=69, n_causal=1, ccc=(0.9,), atlas_names=True)
