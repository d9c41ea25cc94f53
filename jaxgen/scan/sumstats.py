"""Summary statistics of a scan as files expect them, and the genomic-control inflation factor."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from jaxgen.stats.tails import p_value

__all__ = ["chromosome_order", "genomic_control", "sumstats_table"]

_LN10 = np.log(10.0)


def sumstats_table(sumstats: pd.DataFrame, tests: list[str]) -> pd.DataFrame:
    """The columns of ``sumstats.tsv.gz``: CHR, BP, SNP, A1, A2, A1_FREQ, N, then P and LOG10P of the first
    (primary) test — the names LocusZoom, FUMA and LDSC's munge look for — and P_<TEST>, LOG10P_<TEST> of each
    test. ``sumstats`` : :attr:`ScanResult.sumstats` (natural-log p-values ``LOG_P_<TEST>``)."""
    table = sumstats[["CHR", "BP", "SNP", "A1", "A2", "A1_FREQ", "N"]].copy()
    for k, test in enumerate(tests):
        log_p = sumstats[f"LOG_P_{test.upper()}"].to_numpy()
        names = ["P", "LOG10P"] if k == 0 else []
        for name in names + [f"P_{test.upper()}", f"LOG10P_{test.upper()}"]:
            table[name] = p_value(log_p) if name.startswith("P") else -log_p / _LN10
    return table


def genomic_control(p_values) -> float:
    """λ_GC: the median of the χ²₁ statistics of ``p_values`` over the χ²₁ median (NaNs ignored)."""
    p = np.asarray(p_values, float)
    p = p[np.isfinite(p)]
    if not len(p):
        return float("nan")
    return float(stats.chi2.isf(np.median(p), 1) / stats.chi2.ppf(0.5, 1))


def chromosome_order(chromosomes: pd.Series) -> dict[str, int]:
    """Rank of each chromosome label: numbers in numeric order, then the others (X, Y, MT …) as found."""
    labels = list(dict.fromkeys(chromosomes.astype(str)))
    numeric = sorted((c for c in labels if c.isdigit()), key=int)
    return {c: k for k, c in enumerate(numeric + [c for c in labels if not c.isdigit()])}
