"""A complete simulated imaging-genetics study: one set of genotyped, related subjects with regional QTs
from the spatial LMM and K imaging modalities with a known canonical structure, on one region graph.

This is what ``jaxgen simulate`` writes to files and what the demo and the notebooks analyse.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from jaxgen.atlas import DESIKAN_KILLIANY
from jaxgen.data.multitask_cca import MultitaskCCATruth, multitask_modalities
from jaxgen.data.spatial_lmm import SpatialLMMData, simulate_spatial_lmm

__all__ = ["SimulatedStudy", "simulate_study"]

MODALITIES = ("thickness", "area", "volume")
# The Desikan–Killiany regions in a walk over neighbouring ones (frontal, central, parietal, temporal,
# occipital, then medial), so that a simulation's first regions lie together on the brain; the two
# poles, which the atlas pictures do not outline, come last.
_DK_WALK = ("superiorfrontal", "caudalmiddlefrontal", "precentral", "postcentral", "supramarginal", "superiorparietal",
            "inferiorparietal", "bankssts", "superiortemporal", "transversetemporal", "insula", "parsopercularis",
            "parstriangularis", "parsorbitalis", "lateralorbitofrontal", "rostralmiddlefrontal", "middletemporal",
            "inferiortemporal", "lateraloccipital", "lingual", "pericalcarine", "cuneus", "precuneus", "paracentral",
            "posteriorcingulate", "caudalanteriorcingulate", "rostralanteriorcingulate", "medialorbitofrontal",
            "isthmuscingulate", "parahippocampal", "entorhinal", "fusiform", "frontalpole", "temporalpole")


@dataclass(frozen=True)
class SimulatedStudy:
    """lmm : the spatial-LMM part (genotypes X (n, p), QTs Y (n, c), covariates, adjacency (c, c),
    kinship, ids and truth); modalities : (K, n, c) imaging modalities on the same subjects and regions;
    modality_names : (K,); cca_truth : their canonical structure; family_size : subjects per family."""

    lmm: SpatialLMMData
    modalities: np.ndarray
    modality_names: tuple[str, ...]
    cca_truth: MultitaskCCATruth
    family_size: int


def simulate_study(seed: int = 0, n: int = 500, p: int = 100, c: int = 16, *, n_causal: int = 5,
                   rho: float = 0.8, h2: float = 0.3, effect: float = 0.15, ccc=(0.9, 0.5, 0.1),
                   family_size: int = 4, atlas_names: bool = False) -> SimulatedStudy:
    """Simulate the study.

    n, p, c : subjects (in families of ``family_size``), SNPs, regions on a lattice.
    n_causal, rho, h2, effect : the spatial LMM's causal SNPs, CAR correlation, kinship share of σ²
        and effect size (see :func:`simulate_spatial_lmm`).
    ccc : the canonical correlation of each imaging modality with the SNPs (K = len(ccc) ≤ 3 named
        thickness, area, volume); their supports are max(2, p // 10) SNPs and max(2, c // 6) regions.
    atlas_names : name the regions with Desikan–Killiany labels (``lh_superiorfrontal``,
        ``rh_superiorfrontal``, … the two hemispheres in turn; c ≤ 68) instead of ``region000`` …, so
        that reports draw them on the brain. The lattice graph and every draw stay the same.
    The SNP moments used for the canonical structure are the sample ones of these related subjects.
    """
    if not 1 <= len(ccc) <= len(MODALITIES):
        raise ValueError(f"ccc must give 1 to {len(MODALITIES)} canonical correlations, got {list(ccc)}")
    names = _desikan_killiany_names(c) if atlas_names else None
    lmm = simulate_spatial_lmm(seed, n=n, p=p, c=c, n_causal=n_causal, rho=rho, h2=h2, effect=effect,
                               family_size=family_size)
    if names is not None:
        lmm = replace(lmm, region_names=names)
    rng = np.random.default_rng([seed, 1])
    modalities, truth = multitask_modalities(rng, lmm.X, lmm.adjacency, np.asarray(ccc, dtype=float),
                                             n_causal_snps=max(2, p // 10), n_causal_regions=max(2, c // 6))
    return SimulatedStudy(lmm=lmm, modalities=modalities, modality_names=MODALITIES[:len(ccc)],
                          cca_truth=truth, family_size=family_size)


def _desikan_killiany_names(c: int) -> list[str]:
    """c ≤ 68 cortical labels: the regions of the Desikan–Killiany walk, left then right hemisphere each."""
    if not 1 <= c <= 2 * len(_DK_WALK):
        raise ValueError(f"Desikan–Killiany names exist for 1 to {2 * len(_DK_WALK)} regions, got c={c}")
    return [f"{hemisphere}_{region}" for region in _DK_WALK for hemisphere in ("lh", "rh")][:c]
