"""Fine-mapping of a scan's loci: the joint Bayesian spatial LMM (:func:`jaxgen.lmm.fit`) on each locus.

A locus is the window of ``kb`` kilobases either side of its index SNP (the clumping window); its SNPs are
the tested SNPs of that window with the smallest scan p-values, at most ``max_snps`` of them (the index SNP
always among them), read from the genotype files with the scan's QC. Each locus is fitted against the kinship its
SNPs were tested against (for LOCO, that of its chromosome), with the same QTs and covariates, so the joint
posterior says which of the correlated SNPs of a locus carry the signal, and on which regions.

Per (SNP, region): the posterior mean, sd and 95% credible interval of B (per sd of dosage), with R-hat and
bulk ESS. Per SNP: the posterior of its root-mean-square effect over the regions, √(Σ_k B_k² / c) — one
size per SNP whatever the signs of its regional effects — and the seed's posterior SNP test
(:meth:`jaxgen.lmm.LMMResult.snp_tests` with ``test="posterior"``), which keeps only the pairs that pass the
convergence gate (``N_EXCLUDED`` counts the others; short chains exclude many).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from jaxgen import lmm
from jaxgen.io.log import ReadLog
from jaxgen.io.genotype_source import GenotypeSource
from jaxgen.lmm.result import ConvergenceGateWarning
from jaxgen.scan.stream import subject_rows

__all__ = ["FineMap", "finemap", "locus_snps"]

REGION_COLUMNS = ["LOCUS", "CHR", "SNP", "BP", "REGION", "MEAN", "SD", "Q2.5", "Q97.5", "MEAN_PER_ALLELE",
                  "RHAT", "ESS_BULK", "PASSED"]
SNP_COLUMNS = ["LOCUS", "CHR", "SNP", "BP", "LEAD", "P", "EFFECT_MEAN", "EFFECT_SD", "EFFECT_Q2.5", "EFFECT_Q97.5",
               "POSTERIOR_P", "N_QTS", "N_EXCLUDED"]


@dataclass(frozen=True)
class FineMap:
    """The fine-mapping of a scan's loci.

    regions : one row per (locus, SNP, region), columns :data:`REGION_COLUMNS`;
    snps : one row per (locus, SNP), columns :data:`SNP_COLUMNS`, each locus's SNPs in genome order;
    settings : chains, warm-up, draws, window and SNP cap used.
    """

    regions: pd.DataFrame
    snps: pd.DataFrame
    settings: dict


def locus_snps(sumstats: pd.DataFrame, chromosome, bp: int, lead: str, *, kb: float, max_snps: int) -> pd.DataFrame:
    """The rows of ``sumstats`` (CHR, BP, SNP, P) of a locus: on ``chromosome`` within ``kb`` kilobases of
    ``bp``, the ``max_snps`` smallest P (the ``lead`` SNP first, ties kept in genome order), in genome order."""
    on = sumstats[(sumstats["CHR"] == chromosome) & ((sumstats["BP"] - bp).abs() <= kb * 1000.0)]
    ranked = on.assign(_lead=on["SNP"] != lead).sort_values(["_lead", "P"], kind="stable")
    return on.loc[sorted(ranked.index[:max_snps], key=on.index.get_loc)]


def finemap(fileset: GenotypeSource, loci: pd.DataFrame, sumstats: pd.DataFrame, Y: pd.DataFrame, adjacency,
            covariates: pd.DataFrame, kinship: Callable[[str], np.ndarray | None], *, kb: float = 250.0,
            max_snps: int = 50, num_chains: int = 2, num_warmup: int = 200, num_samples: int = 200, seed: int = 0,
            heritability: str = "per-region", progress: bool = False, log: ReadLog | None = None) -> FineMap:
    """Fit the joint spatial LMM on each locus of ``loci`` (:func:`jaxgen.scan.clump`'s table).

    sumstats : the scan's rows (CHR, BP, SNP and the primary test's P); Y : (n, c) QTs indexed by subject
    id, as scanned; covariates : (n, m) with an intercept, indexed like Y; kinship : chromosome → the (n, n)
    kinship its SNPs were tested against (:meth:`ScanResult.kinship`), or None; kb, max_snps : the locus
    window and the cap on its SNPs; num_chains, num_warmup, num_samples, seed, heritability, progress : of
    :func:`jaxgen.lmm.fit` (Gibbs), the same seed for every locus.
    """
    log = log or ReadLog()
    if max_snps < 1:
        raise ValueError(f"max_snps must be at least 1, got {max_snps}")
    position = pd.Series(np.arange(len(fileset.table)), index=fileset.table["snp"])
    rows = subject_rows(fileset, Y.index)
    region_tables, snp_tables = [], []
    for locus in loci.itertuples(index=False):
        start = time.perf_counter()
        members = locus_snps(sumstats, locus.CHR, locus.BP, locus.SNP, kb=kb, max_snps=max_snps)
        genotypes, _ = next(fileset.blocks(len(members), position[members["SNP"]].to_numpy()))
        X = pd.DataFrame(genotypes.dosages[rows], index=Y.index, columns=genotypes.snp_ids)
        result = lmm.fit(Y, X, adjacency, covariates=covariates, kinship=kinship(locus.CHR), num_chains=num_chains,
                         num_warmup=num_warmup, num_samples=num_samples, seed=seed, progress=progress,
                         heritability=heritability)
        members = members.set_index("SNP").loc[X.columns]
        region_tables.append(_region_rows(locus.LOCUS, members, result))
        snp_tables.append(_snp_rows(locus.LOCUS, locus.SNP, members, result))
        log.add(f"fine-mapping locus {locus.LOCUS} ({locus.SNP}, chromosome {locus.CHR}): {len(X.columns)} SNPs, "
                f"{num_chains} chains × {num_samples} draws in {time.perf_counter() - start:.1f} s")
    settings = {"chains": num_chains, "warm-up": num_warmup, "samples": num_samples, "window kb": kb,
                "SNPs per locus": max_snps}
    return FineMap(regions=pd.concat(region_tables, ignore_index=True) if region_tables
                   else pd.DataFrame(columns=REGION_COLUMNS),
                   snps=pd.concat(snp_tables, ignore_index=True) if snp_tables else pd.DataFrame(columns=SNP_COLUMNS),
                   settings=settings)


def _region_rows(locus: int, members: pd.DataFrame, result: lmm.LMMResult) -> pd.DataFrame:
    """The (SNP, region) rows of one locus from the fit's association table (members: CHR, BP by SNP id)."""
    table = result.associations()
    return pd.DataFrame({
        "LOCUS": locus, "CHR": members.loc[table["snp"], "CHR"].to_numpy(), "SNP": table["snp"].to_numpy(),
        "BP": members.loc[table["snp"], "BP"].to_numpy(), "REGION": table["qt"].to_numpy(),
        "MEAN": table["mean"].to_numpy(), "SD": table["sd"].to_numpy(), "Q2.5": table["q2.5"].to_numpy(),
        "Q97.5": table["q97.5"].to_numpy(), "MEAN_PER_ALLELE": table["effect_per_allele"].to_numpy(),
        "RHAT": table["rhat"].to_numpy(), "ESS_BULK": table["ess_bulk"].to_numpy(),
        "PASSED": table["passed"].to_numpy()})[REGION_COLUMNS]


def _snp_rows(locus: int, lead: str, members: pd.DataFrame, result: lmm.LMMResult) -> pd.DataFrame:
    """The per-SNP rows of one locus: the posterior of √(mean over regions of B²) and the posterior test."""
    B = np.asarray(result.draws["B"])  # (chains, draws, p, c)
    size = np.sqrt(np.mean(B * B, axis=-1)).reshape(-1, B.shape[2])  # (chains · draws, p)
    low, high = np.quantile(size, [0.025, 0.975], axis=0)
    with warnings.catch_warnings():  # short chains fail the gate: N_EXCLUDED says how many pairs, per SNP
        warnings.simplefilter("ignore", ConvergenceGateWarning)
        tests = result.snp_tests("posterior").set_index("snp").loc[result.snp_ids]
    return pd.DataFrame({
        "LOCUS": locus, "CHR": members["CHR"].to_numpy(), "SNP": result.snp_ids, "BP": members["BP"].to_numpy(),
        "LEAD": [snp == lead for snp in result.snp_ids], "P": members["P"].to_numpy(),
        "EFFECT_MEAN": size.mean(axis=0), "EFFECT_SD": size.std(axis=0, ddof=1), "EFFECT_Q2.5": low,
        "EFFECT_Q97.5": high, "POSTERIOR_P": tests["p_value"].to_numpy(), "N_QTS": tests["n_qts"].to_numpy(),
        "N_EXCLUDED": tests["n_excluded"].to_numpy()})[SNP_COLUMNS]
