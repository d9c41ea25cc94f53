"""Values a method can use: finite, small enough to standardize, and a warning for extreme outliers.

One cell of 1e308 (or 1e20 in float32) makes a column's mean or sum of squares overflow: its
standardized values become NaN or 0 and the column silently drops out of an analysis. Such columns
are refused, naming the cell. A value far from the rest of its column is legal but usually a unit
or entry error, so it is reported with an :class:`ExtremeValueWarning`: the robust z-score

    z = |x − median| / (1.4826 · MAD),   MAD = median |x − median|,

beyond :data:`OUTLIER_Z` (1.4826·MAD estimates the sd of normal data, so z is in sd units; among
a million normal draws the largest is about 5). Columns with MAD = 0 (mostly one value, such as a
0/1 covariate or a rare SNP) are not screened, nor columns of fewer than 20 values, whose MAD is too
noisy (among 10 normal values the largest robust z passes 10 in 0.2% of columns; among 20, 0.04%).
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

__all__ = ["OUTLIER_Z", "ExtremeValueWarning", "checked_matrix", "first_dependent_column", "first_nonfinite",
           "outliers", "overflowing_column", "warn_outliers"]

OUTLIER_Z = 10.0
_MIN_SCREENED = 20  # values per column

# A column is standardizable in a dtype when its sum and its sum of squared deviations stay this far
# below the dtype's largest value (a margin for the reductions' rounding and later products).
_MARGIN = 1e-3


class ExtremeValueWarning(UserWarning):
    """A value lies beyond OUTLIER_Z robust standard deviations from the median of its column."""


def first_nonfinite(M: np.ndarray) -> tuple[int, int] | None:
    """(row, column) of the first NaN or ±inf of M (n, d), or None."""
    bad = ~np.isfinite(M)
    if not bad.any():
        return None
    i, j = np.argwhere(bad)[0]
    return int(i), int(j)


def first_dependent_column(M: np.ndarray) -> int | None:
    """Index of the first column of M (n, d) that is a linear combination of the columns before it (to
    ``numpy.linalg.matrix_rank``'s tolerance on the columns scaled to unit norm), or None when M has full column rank.
    """
    M = np.asarray(M, dtype=np.float64)
    norms = np.linalg.norm(M, axis=0)
    Z = M / np.where(norms > 0, norms, 1.0)
    if np.linalg.matrix_rank(Z) == M.shape[1]:
        return None
    return next(j for j in range(M.shape[1]) if np.linalg.matrix_rank(Z[:, :j + 1]) <= j)


def overflowing_column(M: np.ndarray, dtype=np.float32) -> tuple[int, int] | None:
    """(row, column) of the value that makes a column of finite M (n, d) overflow standardization in
    ``dtype`` — its sum or its sum of squared deviations beyond the dtype's range — or None.

    The row named is the column's value farthest from its median. Computed in float64 after scaling
    each column by its largest magnitude, so the check itself cannot overflow.
    """
    M = np.asarray(M, dtype=np.float64)
    if M.size == 0:
        return None
    scale = np.abs(M).max(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    Z = M / scale
    log_scale = np.log(scale)
    log_limit = math.log(float(np.finfo(dtype).max) * _MARGIN)
    with np.errstate(divide="ignore"):
        log_sum = np.log(np.abs(Z).sum(axis=0)) + log_scale
        log_squares = np.log(((Z - Z.mean(axis=0)) ** 2).sum(axis=0)) + 2 * log_scale
    bad = np.flatnonzero((log_sum > log_limit) | (log_squares > log_limit))
    if not bad.size:
        return None
    j = int(bad[0])
    return int(np.argmax(np.abs(M[:, j] - np.median(M[:, j])))), j


def outliers(M: np.ndarray, threshold: float = OUTLIER_Z) -> list[tuple[int, int, float]]:
    """Cells of M (n, d) (finite) whose robust z exceeds ``threshold``: (row, column, z), largest z first."""
    M = np.asarray(M, dtype=np.float64)
    if M.shape[0] < _MIN_SCREENED:
        return []
    median = np.median(M, axis=0)
    mad = 1.4826 * np.median(np.abs(M - median), axis=0)
    screened = mad > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(screened, np.abs(M - median) / np.where(screened, mad, 1.0), 0.0)
    rows, cols = np.nonzero(z > threshold)
    found = sorted(zip(rows.tolist(), cols.tolist(), z[rows, cols].tolist()), key=lambda cell: -cell[2])
    return found


def warn_outliers(M: np.ndarray, describe, where: str, threshold: float = OUTLIER_Z, limit: int = 3) -> None:
    """Warn (ExtremeValueWarning) about the cells of M beyond ``threshold``; ``describe(i, j)`` names a
    cell in words and ``where`` names the input (a file or an argument)."""
    found = outliers(M, threshold)
    if not found:
        return
    cells = "; ".join(f"{describe(i, j)} holds {M[i, j]:.6g} (robust z = {z:.3g})" for i, j, z in found[:limit])
    more = f" and {len(found) - limit} more" if len(found) > limit else ""
    warnings.warn(f"{where}: {len(found)} extreme values (robust z > {threshold:g}): {cells}{more}; "
                  "check them for unit or entry errors", ExtremeValueWarning, stacklevel=3)


def checked_matrix(values, name: str, *, rows: Sequence | None = None, columns: Sequence | None = None,
                   dtype=np.float32, screen: bool = False) -> np.ndarray:
    """``values`` as a float64 NumPy (n, d) matrix that every method can standardize in ``dtype``.

    rows, columns : labels (subject ids, region or SNP names) used in messages, else indices.
    screen : also warn about extreme outliers (see the module docstring).
    Raises ValueError for a non-numeric or non-2-D input, a NaN or ±inf (naming the first cell and
    the count), and a column whose standardization would overflow in ``dtype``.
    """
    try:
        M = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric: {err}") from None
    if M.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got shape {M.shape}")

    def cell(i, j):
        row = f"row {i}" + (f" (subject {rows[i]!r})" if rows is not None else "")
        return f"{row}, column {j}" + (f" ({columns[j]!r})" if columns is not None else "")

    bad = first_nonfinite(M)
    if bad is not None:
        count = int((~np.isfinite(M)).sum())
        raise ValueError(f"{name} has {count} missing or non-finite values, the first at {cell(*bad)} "
                         f"({M[bad]}); impute or drop them first")
    big = overflowing_column(M, dtype)
    if big is not None:
        raise ValueError(f"{name} at {cell(*big)} holds {M[big]:.6g}: too large to standardize the column in "
                         f"{np.dtype(dtype).name} (its sum of squares overflows); rescale it or correct the value")
    if screen:
        warn_outliers(M, cell, name)
    return M
