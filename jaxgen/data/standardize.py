"""Column standardization shared by every method (mean 0, sample sd 1 with ddof = 1)."""

from __future__ import annotations

import numpy as np

__all__ = ["standardize_columns"]


def standardize_columns(X, name: str = "X", ddof: int = 1):
    """Standardize the columns of X (n, d).

    Returns (Z (n, d), mean (d,), sd (d,)). A constant column (for example a monomorphic SNP) has no
    standardized form and raises ValueError naming it.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, d) matrix, got shape {X.shape}")
    mean = X.mean(axis=0)
    sd = X.std(axis=0, ddof=ddof)
    constant = np.flatnonzero(~(sd > 0))
    if constant.size:
        raise ValueError(f"{name} has constant columns (sd = 0), indices {constant[:10].tolist()}"
                         f"{' ...' if constant.size > 10 else ''}: drop them before fitting")
    return (X - mean) / sd, mean, sd
