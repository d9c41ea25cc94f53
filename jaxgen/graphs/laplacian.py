"""Graph Laplacians, the smoothness penalties of GraphNet-type models, and their builders."""

from __future__ import annotations

import numpy as np

from jaxgen.graphs.adjacency import validate_adjacency

__all__ = ["adjacency_laplacian", "column_correlation", "correlation_laplacian", "laplacian", "ld_laplacian"]


def laplacian(weights) -> np.ndarray:
    """Laplacian L = D − W (d, d) of a symmetric non-negative weight matrix W (d, d).

    The diagonal of W is ignored, so xᵀLx = ½ Σᵢⱼ Wᵢⱼ (xᵢ − xⱼ)².
    """
    W = np.asarray(weights, dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"weights must be a square matrix, got shape {W.shape}")
    W = W - np.diag(np.diag(W))
    return np.diag(W.sum(axis=1)) - W


def correlation_laplacian(correlation, power: float = 2.0) -> np.ndarray:
    """Laplacian (d, d) of the graph weighted by |R|^power, R (d, d) a correlation matrix.

    power = 2 weights SNP pairs by LD r² (or region pairs by shared variance); larger powers keep only
    the strongest links. A matrix that is not a symmetric correlation (unit diagonal, entries in
    [−1, 1]) is refused.
    """
    R = np.asarray(correlation, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise ValueError(f"correlation must be a square matrix, got shape {R.shape}")
    if not np.all(np.isfinite(R)):
        raise ValueError("correlation has NaN or infinite entries")
    if not np.allclose(R, R.T, atol=1e-10) or np.any(np.abs(R) > 1 + 1e-10) \
            or not np.allclose(np.diag(R), 1.0, atol=1e-8):
        raise ValueError("correlation must be symmetric with unit diagonal and entries in [-1, 1]")
    if power <= 0:
        raise ValueError(f"power must be positive, got {power}")
    return laplacian(np.abs(R) ** power)


def column_correlation(data, name: str = "data") -> np.ndarray:
    """Pearson correlation (d, d) between the columns of ``data`` (n, d), clipped to [−1, 1].

    Constant columns have no correlation and are refused, naming them; one column gives [[1]].
    """
    A = np.asarray(data, dtype=float)
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, d) matrix, got shape {A.shape}")
    constant = np.flatnonzero(~(A.std(axis=0) > 0))
    if constant.size:
        raise ValueError(f"{name} has constant columns {constant[:10].tolist()}: they have no correlation; "
                         "drop them before fitting")
    return np.clip(np.atleast_2d(np.corrcoef(A, rowvar=False)), -1.0, 1.0)


def ld_laplacian(genotypes, power: float = 2.0) -> np.ndarray:
    """LD-network Laplacian (p, p) from genotypes (n, p): weights |r|^power between SNP columns.

    Constant SNP columns carry no LD information and are refused, naming them.
    """
    return correlation_laplacian(column_correlation(genotypes, "genotypes"), power)


def adjacency_laplacian(adjacency) -> np.ndarray:
    """Brain-network Laplacian (q, q) of a region adjacency (validated: symmetric, non-negative,
    zero diagonal, no isolated region)."""
    return laplacian(validate_adjacency(adjacency))
