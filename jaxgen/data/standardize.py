"""Column standardization shared by every method (mean 0, sample sd 1 with ddof = 1)."""

from __future__ import annotations

import numpy as np

__all__ = ["standardize_columns", "unit_scale_covariates"]


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


def unit_scale_covariates(C) -> np.ndarray:
    """Covariates C (n, m) on a unit scale, spanning the same columns, so that float32 normal equations
    stay well conditioned whatever the units (an intracranial volume of 1.5e6 mm³ next to an intercept).

    With a constant column (the intercept) it becomes 1 and every other column is centred and scaled to
    sd 1 (ddof = 1); without one each column is scaled to unit root mean square (centring would change
    the span). Effects on the result are then per sd of each covariate.
    """
    C = np.asarray(C, dtype=float)
    sd = C.std(axis=0, ddof=1)
    constant = ~(sd > 1e-12 * np.abs(C).max(axis=0))
    if not constant.any():
        return C / np.sqrt(np.mean(C * C, axis=0))
    scaled = (C - C.mean(axis=0)) / np.where(constant, 1.0, sd)
    scaled[:, constant] = 1.0
    return scaled
