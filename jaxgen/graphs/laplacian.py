"""Graph Laplacians, the smoothness penalties of GraphNet-type models."""

from __future__ import annotations

import numpy as np

__all__ = ["laplacian"]


def laplacian(weights) -> np.ndarray:
    """Laplacian L = D − W (d, d) of a symmetric non-negative weight matrix W (d, d).

    The diagonal of W is ignored, so xᵀLx = ½ Σᵢⱼ Wᵢⱼ (xᵢ − xⱼ)².
    """
    W = np.asarray(weights, dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"weights must be a square matrix, got shape {W.shape}")
    W = W - np.diag(np.diag(W))
    return np.diag(W.sum(axis=1)) - W
