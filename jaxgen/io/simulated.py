"""Write a :class:`~jaxgen.data.SimulatedStudy` as the files a real study comes in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from jaxgen.data import SimulatedStudy
from jaxgen.io.plink import write_plink

__all__ = ["write_study"]


def write_study(study: SimulatedStudy, folder: str | Path, chromosomes: int = 1) -> list[Path]:
    """Write the study into ``folder`` (which must exist); returns the paths written.

    chromosomes : the SNPs, in order, are split into this many near-equal runs, chromosomes 1 … K,
    each with positions 1000, 2000, … bp.

    genotypes.bed/.bim/.fam (PLINK; families as FID), qt.csv (subjects × regions), covariates.csv
    (age, sex as F/M), adjacency.csv and kinship.csv (labelled matrices), one QT table per imaging
    modality (``thickness.csv`` …, columns ``<region>_<measure>``, FreeSurfer style) and truth.json.
    """
    folder = Path(folder)
    d = study.lmm
    subjects = pd.Index(d.subject_ids, name="subject")
    families = [f"fam{i // study.family_size:04d}" for i in range(len(d.subject_ids))]
    chromosome, positions = _genome_layout(len(d.snp_ids), chromosomes)
    written = [write_plink(folder / "genotypes", d.X, d.subject_ids, d.snp_ids, family_ids=families,
                           chromosome=chromosome, positions=positions)]
    written += [folder / "genotypes.bim", folder / "genotypes.fam"]
    tables = {
        "qt.csv": pd.DataFrame(d.Y, index=subjects, columns=d.region_names),
        "covariates.csv": pd.DataFrame({"age": d.covariates[:, 1],
                                        "sex": np.where(d.covariates[:, 2] == 1, "M", "F")}, index=subjects),
        "adjacency.csv": pd.DataFrame(d.adjacency, index=pd.Index(d.region_names, name="region"),
                                      columns=d.region_names),
        "kinship.csv": pd.DataFrame(d.kinship, index=subjects, columns=d.subject_ids),
    }
    for name, Y in zip(study.modality_names, study.modalities):
        tables[f"{name}.csv"] = pd.DataFrame(Y, index=subjects, columns=[f"{r}_{name}" for r in d.region_names])
    for file_name, table in tables.items():
        table.to_csv(folder / file_name)
        written.append(folder / file_name)
    (folder / "truth.json").write_text(json.dumps(_truth(study), indent=2))
    return written + [folder / "truth.json"]


def _genome_layout(p: int, chromosomes: int) -> tuple[list[str], np.ndarray]:
    """Chromosome labels (p,) "1" … "K" over near-equal runs of SNPs, and positions (p,) 1000, 2000, … per run."""
    if not 1 <= chromosomes <= p:
        raise ValueError(f"chromosomes must lie in [1, p={p}], got {chromosomes}")
    labels = np.repeat(np.arange(chromosomes), [len(run) for run in np.array_split(np.arange(p), chromosomes)])
    first = np.searchsorted(labels, labels)  # index of each run's first SNP
    return [str(k + 1) for k in labels], 1000 * (np.arange(p) - first + 1)


def _truth(study: SimulatedStudy) -> dict:
    """The generating parameters, by SNP id and region name."""
    d, t = study.lmm, study.lmm.truth
    effects = [{"snp": d.snp_ids[j], "region": d.region_names[k], "effect": float(t.B[j, k])}
               for j, k in zip(*np.nonzero(t.causal_mask))]
    cca = study.cca_truth
    return {
        "lmm": {"causal_snps": [d.snp_ids[j] for j in np.flatnonzero(t.causal)], "effects": effects,
                "rho": t.rho, "h2": t.h2, "sigma2": t.sigma2},
        "cca": {"modalities": list(study.modality_names), "canonical_correlations": cca.ccc.tolist(),
                "causal_snps": [d.snp_ids[j] for j in np.flatnonzero(cca.causal_snps)],
                "causal_regions": [d.region_names[k] for k in np.flatnonzero(cca.causal_regions)],
                "snp_weights": {d.snp_ids[j]: cca.U[j].tolist() for j in np.flatnonzero(cca.causal_snps)},
                "region_weights": {d.region_names[k]: cca.V[k].tolist()
                                   for k in np.flatnonzero(cca.causal_regions)}},
    }
