"""FreeSurfer's whole-brain measures: columns of ``aparcstats2table``/``asegstats2table`` output that
are not regions.

``aparcstats2table`` appends the hemisphere's mean thickness (``lh_MeanThickness_thickness``) or
white-surface area (``lh_WhiteSurfArea_area``), ``BrainSegVolNotVent`` and ``eTIV`` to the region
columns; ``asegstats2table`` appends the ``# Measure`` lines of aseg.stats (``BrainSegVol``,
``CortexVol``, ``SupraTentorialVol``, ``MaskVol``, ``EstimatedTotalIntraCranialVol`` …). Analysed as
regions they would dominate any region-wise model; they are covariates (intracranial volume above
all). The QT reader leaves them out and logs their names; ``--covariates-from-qt`` uses them as
covariates.
"""

from __future__ import annotations

from jaxgen.atlas import MEASURES

__all__ = ["GLOBAL_MEASURES", "is_global_measure"]

# Whole-brain measures of aseg.stats/brainvol.stats (FreeSurfer 5.3 to 7) and ?h.aparc.stats.
_WHOLE_BRAIN = (
    "BrainSegVol", "BrainSegVolNotVent", "BrainSegVolNotVentSurf", "BrainSegVol-to-eTIV", "VentricleChoroidVol",
    "CortexVol", "CorticalWhiteMatterVol", "CerebralWhiteMatterVol", "SubCortGrayVol", "TotalGrayVol",
    "SupraTentorialVol", "SupraTentorialVolNotVent", "SupraTentorialVolNotVentVox", "MaskVol", "MaskVol-to-eTIV",
    "SurfaceHoles", "EstimatedTotalIntraCranialVol", "eTIV", "IntraCranialVol", "ICV",
    "MeanThickness", "WhiteSurfArea", "PialSurfArea", "NumVert",
)
# Measures FreeSurfer also writes per hemisphere: lhCortexVol, rh_MeanThickness_thickness, …
_PER_HEMISPHERE = ("CortexVol", "CorticalWhiteMatterVol", "CerebralWhiteMatterVol", "SurfaceHoles",
                   "MeanThickness", "WhiteSurfArea", "PialSurfArea", "NumVert")

GLOBAL_MEASURES = frozenset(_WHOLE_BRAIN)
_WHOLE_BRAIN_LOWER = {m.lower() for m in _WHOLE_BRAIN}
_PER_HEMISPHERE_LOWER = {m.lower() for m in _PER_HEMISPHERE}


def is_global_measure(column: str) -> bool:
    """Whether a table column is a FreeSurfer whole-brain measure (case-insensitive), with or without a
    hemisphere prefix (``lh``, ``lh_``, ``lh.``) and a measure suffix (``_thickness`` …)."""
    name = str(column).strip()
    for measure in MEASURES:
        if name.lower().endswith("_" + measure) and len(name) > len(measure) + 1:
            name = name[: -len(measure) - 1]
            break
    lowered = name.lower()
    if lowered in _WHOLE_BRAIN_LOWER:
        return True
    return any(lowered.startswith(hemisphere) and lowered[len(hemisphere):] in _PER_HEMISPHERE_LOWER
               for hemisphere in ("lh_", "rh_", "lh.", "rh.", "lh", "rh"))
