"""Clumping of associated SNPs into loci, as PLINK's ``--clump`` does.

Index SNPs are taken in order of increasing p among those with p ≤ ``p1``; each claims the SNPs not yet
claimed within ``kb`` kilobases on its chromosome with p ≤ ``p2`` and r² ≥ ``r2`` with it (r² the squared
Pearson correlation of the dosages over the analysed subjects). A claimed SNP is never an index SNP
(PLINK's default, no ``--clump-allow-overlap``). Only the candidate SNPs near an index SNP are read.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from jaxgen.io.plink import PlinkFileset

__all__ = ["clump", "fileset_dosages"]

LOCUS_COLUMNS = ["LOCUS", "CHR", "SNP", "BP", "P", "N_SP2", "START", "END", "SP2"]


def clump(sumstats: pd.DataFrame, dosages: Callable[[list[str]], np.ndarray], *, p_column: str = "P",
          p1: float = 5e-8, p2: float = 1e-2, r2: float = 0.1, kb: float = 250.0) -> pd.DataFrame:
    """Loci (one row per index SNP) from ``sumstats`` (columns CHR, BP, SNP and ``p_column``).

    dosages : maps SNP ids to their dosages (n, k) over the analysed subjects.
    Returns LOCUS (1, 2, …), CHR, SNP (index), BP, P, N_SP2 (SNPs clumped to it besides itself),
    START, END (the clump's span in bp) and SP2 (the clumped ids, comma-separated).
    """
    for name, value, low, high in (("p1", p1, 0, 1), ("p2", p2, 0, 1), ("r2", r2, 0, 1)):
        if not low <= value <= high:
            raise ValueError(f"clumping {name} must lie in [{low}, {high}], got {value}")
    if not kb > 0:
        raise ValueError(f"clumping window kb must be positive, got {kb}")
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
    standardized = _standardized(dosages(ids)) if ids else np.zeros((0, 0))
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
        lead = standardized[:, column[table.at[i, "SNP"]]]
        others = standardized[:, [column[s] for s in table["SNP"][members]]]
        members = members[(lead @ others / (len(lead) - 1)) ** 2 >= r2]
        claimed[i] = True
        claimed[members] = True
        span = table["BP"].to_numpy()[np.append(members, i)]
        loci.append([len(loci) + 1, chromosome, table.at[i, "SNP"], bp, table.at[i, "P"], len(members),
                     span.min(), span.max(), ",".join(table["SNP"][members])])
    return pd.DataFrame(loci, columns=LOCUS_COLUMNS)


def fileset_dosages(fileset: PlinkFileset, rows: np.ndarray) -> Callable[[list[str]], np.ndarray]:
    """The ``dosages`` argument of :func:`clump`: the QC'd (mean-imputed) dosages of SNP ids over ``rows``."""
    position = pd.Series(np.arange(len(fileset.table)), index=fileset.table["snp"])

    def read(snp_ids: list[str]) -> np.ndarray:
        block, _ = next(fileset.blocks(len(snp_ids), position[snp_ids].to_numpy()))
        return block.frame().loc[:, snp_ids].to_numpy()[rows]

    return read


def _standardized(X: np.ndarray) -> np.ndarray:
    """Columns of X (n, k) at mean 0 and sd 1 (ddof = 1)."""
    return (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
