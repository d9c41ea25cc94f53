"""FreeSurfer's atlas labels: the Desikan–Killiany cortical parcellation (``aparc``) and the ``aseg``
subcortical segmentation, and the matching of a study's region names to them.

Region names come in the forms FreeSurfer's tools write: ``aparcstats2table`` columns
(``lh_bankssts_thickness``, ``rh_insula_volume``, or ``lh_bankssts`` once jaxgen has dropped the
measure suffix), ``lh.bankssts``, ``ctx-lh-bankssts`` (aparc+aseg), ggseg's ``bankssts_left``, and
``asegstats2table`` columns (``Left-Hippocampus``, ``Left-Thalamus-Proper`` of FreeSurfer ≤ 6).
:func:`atlas_label` turns each into one canonical label: ``lh_bankssts`` for the cortex,
``Left-Hippocampus`` for aseg.
"""

from __future__ import annotations

import re

__all__ = ["ASEG", "DESIKAN_KILLIANY", "MEASURES", "atlas_label", "desikan_killiany_labels"]

# The 34 cortical regions of each hemisphere in ?h.aparc.stats (FreeSurfer 5.3 to 7), alphabetical.
DESIKAN_KILLIANY = (
    "bankssts", "caudalanteriorcingulate", "caudalmiddlefrontal", "cuneus", "entorhinal", "frontalpole",
    "fusiform", "inferiorparietal", "inferiortemporal", "insula", "isthmuscingulate", "lateraloccipital",
    "lateralorbitofrontal", "lingual", "medialorbitofrontal", "middletemporal", "paracentral",
    "parahippocampal", "parsopercularis", "parsorbitalis", "parstriangularis", "pericalcarine", "postcentral",
    "posteriorcingulate", "precentral", "precuneus", "rostralanteriorcingulate", "rostralmiddlefrontal",
    "superiorfrontal", "superiorparietal", "superiortemporal", "supramarginal", "temporalpole",
    "transversetemporal",
)
# aseg.stats structures, by their FreeSurfer 7 names (Left-/Right- pairs, then the midline ones).
_ASEG_PAIRED = ("Lateral-Ventricle", "Inf-Lat-Vent", "Cerebellum-White-Matter", "Cerebellum-Cortex", "Thalamus",
                "Caudate", "Putamen", "Pallidum", "Hippocampus", "Amygdala", "Accumbens-area", "VentralDC",
                "vessel", "choroid-plexus")
_ASEG_MIDLINE = ("3rd-Ventricle", "4th-Ventricle", "Brain-Stem", "CSF", "CC_Posterior", "CC_Mid_Posterior",
                 "CC_Central", "CC_Mid_Anterior", "CC_Anterior")
ASEG = tuple(f"{side}-{s}" for side in ("Left", "Right") for s in _ASEG_PAIRED) + _ASEG_MIDLINE

# The measure suffix aparcstats2table adds to every column name (``--meas``).
MEASURES = ("thickness", "thicknessstd", "area", "volume", "meancurv", "gauscurv", "foldind", "curvind")
_SEPARATORS = re.compile(r"[-_. ]+")
_HEMISPHERES = {"lh": "lh", "rh": "rh", "left": "lh", "right": "rh", "l": "lh", "r": "rh"}
_CORTEX = frozenset(DESIKAN_KILLIANY)
# Normalized aseg name (lower case, "_" between words) → FreeSurfer 7 label; FreeSurfer ≤ 6's Thalamus-Proper too.
_ASEG_KEYS = {_SEPARATORS.sub("_", label.lower()): label for label in ASEG}
_ASEG_KEYS.update({f"{side.lower()}_thalamus_proper": f"{side}-Thalamus" for side in ("Left", "Right")})


def desikan_killiany_labels() -> list[str]:
    """The 68 cortical labels, ``lh_<region>`` then ``rh_<region>``, each hemisphere alphabetical."""
    return [f"{hemisphere}_{region}" for hemisphere in ("lh", "rh") for region in DESIKAN_KILLIANY]


def atlas_label(name: str) -> str | None:
    """The canonical atlas label of a region name (``lh_bankssts`` or ``Left-Hippocampus``), or None
    when the name is not one of the atlases' (case and the separators ``-_.`` do not matter)."""
    words = [w for w in _SEPARATORS.split(str(name).strip().lower()) if w]
    if len(words) > 1 and words[-1] in MEASURES:
        words = words[:-1]
    if words[:1] == ["ctx"]:
        words = words[1:]
    key = "_".join(words)
    if key in _ASEG_KEYS:
        return _ASEG_KEYS[key]
    if len(words) != 2:
        return None
    for hemisphere, region in (words, words[::-1]):
        if hemisphere in _HEMISPHERES and region in _CORTEX:
            return f"{_HEMISPHERES[hemisphere]}_{region}"
    return None
