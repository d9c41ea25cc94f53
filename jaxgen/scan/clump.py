"""Clumping of associated SNPs into loci, as PLINK's ``--clump`` does.

Index SNPs are taken in order of increasing p among those with p ≤ ``p1``; each claims the SNPs not yet
claimed within ``kb`` kilobases on its chromosome with p ≤ ``p2`` and r² ≥ ``r2`` with it. A claimed SNP is
never an index SNP (PLINK's default, no ``--clump-allow-overlap``). Only the candidate SNPs near an index
SNP are read.

r² is PLINK 1.9's (``--ld``): the haplotype r² = D²/(p(1 − p)q(1 − q)) of the two SNPs' haplotype
frequencies, estimated by EM from the 3 × 3 table of their genotype calls (only the double heterozygotes
are ambiguous), over the subjects called at both SNPs.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from jaxgen.io.genotype_source import GenotypeSource

__all__ = ["check_clump_settings", "clump", "fileset_dosages", "haplotype_r2"]

LOCUS_COLUMNS = ["LOCUS", "CHR", "SNP", "BP", "P", "N_SP2", "START", "END", "SP2"]


def check_clump_settings(p1: float, p2: float, r2: float, kb: float) -> None:
    """ValueError unless p1, p2, r2 lie in [0, 1], p2 ≥ p1 (as PLINK 1.9 requires: a clumped SNP's threshold
    is no stricter than its index SNP's) and the window kb is positive."""
    for name, value, low, high in (("p1", p1, 0, 1), ("p2", p2, 0, 1), ("r2", r2, 0, 1)):
        if not low <= value <= high:
            raise ValueError(f"clumping {name} must lie in [{low}, {high}], got {value}")
    if p2 < p1:
        raise ValueError(f"clumping p2 ({p2:g}) is below p1 ({p1:g}): the threshold of the SNPs clumped to an index "
                         "SNP must be at least the index SNPs' (as in plink --clump)")
    if not kb > 0:
        raise ValueError(f"clumping window kb must be positive, got {kb}")


def clump(sumstats: pd.DataFrame, dosages: Callable[[list[str]], np.ndarray], *, p_column: str = "P",
          p1: float = 5e-8, p2: float = 1e-2, r2: float = 0.1, kb: float = 250.0) -> pd.DataFrame:
    """Loci (one row per index SNP) from ``sumstats`` (columns CHR, BP, SNP and ``p_column``).

    dosages : maps SNP ids to their genotype calls (n, k) 0/1/2 over the analysed subjects, NaN where missing.
    Returns LOCUS (1, 2, …), CHR, SNP (index), BP, P, N_SP2 (SNPs clumped to it besides itself),
    START, END (the clump's span in bp) and SP2 (the clumped ids, comma-separated).
    """
    check_clump_settings(p1, p2, r2, kb)
    table = sumstats[["CHR", "BP", "SNP", p_column]].rename(columns={p_column: "P"})
    table = table[table["P"] <= max(p1, p2)].sort_values(["P", "CHR", "BP"], kind="stable").reset_index(drop=True)
    index = table["P"].to_numpy() <= p1
    window = kb * 1000.0
    near = np.zeros(len(table), bool)  # candidates within a window of some index SNP: the only ones read
    for chromosome, group in table.groupby("CHR", sort=False):
        leads = group.loc[index[group.index], "BP"].to_numpy()
        if len(leads):
            bp = group["BP"].to_numpy()
            near[group.index] = np.any(np.abs(bp[:, None] - leads[None, :]) <= window, axis=1)
    near &= table["P"].to_numpy() <= p2
    near |= index
    ids = table["SNP"][near].tolist()
    calls = dosages(ids) if ids else np.zeros((0, 0))
    column = {snp: k for k, snp in enumerate(ids)}
    claimed = np.zeros(len(table), bool)
    loci = []
    for i in np.flatnonzero(index):
        if claimed[i]:
            continue
        chromosome, bp = table.at[i, "CHR"], table.at[i, "BP"]
        members = np.flatnonzero(near & ~claimed & (table["CHR"].to_numpy() == chromosome)
                                 & (np.abs(table["BP"].to_numpy() - bp) <= window)
                                 & (table["P"].to_numpy() <= p2))
        members = members[members != i]
        others = calls[:, [column[s] for s in table["SNP"][members]]]
        members = members[haplotype_r2(calls[:, column[table.at[i, "SNP"]]], others) >= r2]
        claimed[i] = True
        claimed[members] = True
        span = table["BP"].to_numpy()[np.append(members, i)]
        loci.append([len(loci) + 1, chromosome, table.at[i, "SNP"], bp, table.at[i, "P"], len(members),
                     span.min(), span.max(), ",".join(table["SNP"][members])])
    return pd.DataFrame(loci, columns=LOCUS_COLUMNS)


def fileset_dosages(fileset: GenotypeSource, rows: np.ndarray) -> Callable[[list[str]], np.ndarray]:
    """The ``dosages`` argument of :func:`clump`: the genotype calls of SNP ids over ``rows`` (NaN: missing).
    Fractional dosages (BGEN, PLINK 2) become hard calls as PLINK 2 makes them (``--hard-call-threshold``
    0.1): the nearest of 0, 1, 2 when within 0.1 of it, missing otherwise."""
    position = pd.Series(np.arange(len(fileset.table)), index=fileset.table["snp"])

    def read(snp_ids: list[str]) -> np.ndarray:
        dosages = fileset.genotypes(position[snp_ids].to_numpy()).dosages[rows]
        calls = np.round(dosages)
        return np.where(np.abs(dosages - calls) <= HARD_CALL_THRESHOLD, calls, np.nan)

    return read


_EM_STEPS = 200
HARD_CALL_THRESHOLD = 0.1  # PLINK 2's default --hard-call-threshold


def haplotype_r2(lead: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Haplotype r² (k,) of SNP ``lead`` (n,) with each column of ``others`` (n, k), calls 0/1/2 or NaN.

    Haplotype counts c[a, b] (a, b = copies of allele 1 at the two SNPs on one haplotype) from the subjects
    called at both; a double heterozygote is (1,1)+(0,0) or (1,0)+(0,1), split by EM in the ratio
    f₁₁f₀₀ : f₁₀f₀₁ (200 steps, from the ratio of linkage equilibrium). r² = 0 where a SNP is monomorphic.
    """
    table = np.einsum("ia,ikb->kab", _one_hot(lead), _one_hot(others))  # (k, 3, 3) genotype pairs called at both
    # haplotypes resolved by the genotypes other than the double heterozygote: (g₁, g₂) → counts of (a, b)
    known = np.zeros((len(table), 2, 2))
    for g1 in range(3):
        for g2 in range(3):
            if (g1, g2) != (1, 1):
                for a, b in _haplotypes(g1, g2):
                    known[:, a, b] += table[:, g1, g2]
    double = table[:, 1, 1]
    total = known.sum(axis=(1, 2)) + 2 * double
    p = (known[:, 1, :].sum(axis=1) + double) / np.maximum(total, 1)
    q = (known[:, :, 1].sum(axis=1) + double) / np.maximum(total, 1)
    f = np.stack([np.stack([(1 - p) * (1 - q), (1 - p) * q], 1), np.stack([p * (1 - q), p * q], 1)], 1)
    for _ in range(_EM_STEPS):
        coupling = f[:, 1, 1] * f[:, 0, 0]
        repulsion = f[:, 1, 0] * f[:, 0, 1]
        share = np.divide(coupling, coupling + repulsion, out=np.full_like(coupling, 0.5),
                          where=coupling + repulsion > 0)
        counts = known.copy()
        counts[:, 1, 1] += double * share
        counts[:, 0, 0] += double * share
        counts[:, 1, 0] += double * (1 - share)
        counts[:, 0, 1] += double * (1 - share)
        f = counts / np.maximum(total, 1)[:, None, None]
    D = f[:, 1, 1] - p * q
    variance = p * (1 - p) * q * (1 - q)
    return np.divide(D * D, variance, out=np.zeros_like(D), where=variance > 0)


def _one_hot(calls: np.ndarray) -> np.ndarray:
    """Indicators (..., 3) of the calls 0, 1, 2 (all zero for a missing call)."""
    return np.stack([calls == value for value in (0, 1, 2)], axis=-1).astype(float)


def _haplotypes(g1: int, g2: int) -> list[tuple[int, int]]:
    """The two haplotypes (a, b) of a genotype pair (g₁, g₂) that is not the double heterozygote."""
    first = [1] * g1 + [0] * (2 - g1)
    second = [1] * g2 + [0] * (2 - g2)
    if g1 == 1:  # the other SNP is homozygous: its allele goes with both
        return [(1, second[0]), (0, second[0])]
    return list(zip(first, second))
