"""Region adjacency matrices: simple builders and the validity checks every model relies on."""

from __future__ import annotations

import math
from collections import deque
from typing import Sequence

import numpy as np

__all__ = ["contiguous_regions", "lattice_adjacency", "ring_adjacency", "validate_adjacency"]


def ring_adjacency(c: int) -> np.ndarray:
    """Adjacency (c, c) of ``c`` regions on a ring, each joined to its two neighbours (c ≥ 2)."""
    if c < 2:
        raise ValueError(f"a ring needs at least 2 regions, got c={c}")
    A = np.zeros((c, c))
    idx = np.arange(c)
    A[idx, (idx + 1) % c] = 1.0
    A[(idx + 1) % c, idx] = 1.0
    return A


def lattice_adjacency(c: int, n_cols: int | None = None) -> np.ndarray:
    """Adjacency (c, c) of ``c`` regions on a 4-neighbour grid filled row by row.

    ``n_cols`` defaults to ``ceil(sqrt(c))``; the last row may be partial. Every region has at least
    one neighbour when c ≥ 2.
    """
    if c < 2:
        raise ValueError(f"a lattice needs at least 2 regions, got c={c}")
    n_cols = n_cols or math.ceil(math.sqrt(c))
    A = np.zeros((c, c))
    for i in range(c):
        row, col = divmod(i, n_cols)
        if col + 1 < n_cols and i + 1 < c:
            A[i, i + 1] = A[i + 1, i] = 1.0
        if i + n_cols < c:
            A[i, i + n_cols] = A[i + n_cols, i] = 1.0
    return A


def validate_adjacency(adjacency, name: str = "adjacency", regions: Sequence[str] | None = None) -> np.ndarray:
    """Check a region adjacency matrix and return it as float64 NumPy (c, c).

    Requirements: square, finite, symmetric, non-negative, zero diagonal, no isolated region (every
    row sum positive) — the conditions under which the proper CAR precision D_A − ρA is positive
    definite for ρ in [0, 1). One region is the exception: its 1 × 1 adjacency is [0] and its CAR
    precision is 1 (:func:`jaxgen.graphs.car.car_degrees`). Errors name entries by ``regions`` (c,)
    when given, else by index.
    """
    A = np.asarray(adjacency, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square (c, c) matrix, got shape {A.shape}")
    if A.shape[0] < 1:
        raise ValueError(f"{name} needs at least 1 region, got 0")
    if A.shape[0] == 1:
        if A[0, 0] != 0:
            raise ValueError(f"{name} must have a zero diagonal: entry (0, 0) = {A[0, 0]}")
        return A
    label = (lambda k: repr(regions[k])) if regions is not None else str
    if not np.all(np.isfinite(A)):
        i, j = np.argwhere(~np.isfinite(A))[0]
        raise ValueError(f"{name} has a non-finite entry {A[i, j]} at ({label(i)}, {label(j)})")
    if not np.allclose(A, A.T, rtol=0, atol=1e-12 * max(1.0, np.abs(A).max())):
        i, j = np.unravel_index(np.argmax(np.abs(A - A.T)), A.shape)
        raise ValueError(f"{name} must be symmetric: entry ({label(i)}, {label(j)}) = {A[i, j]} "
                         f"but ({label(j)}, {label(i)}) = {A[j, i]}")
    if (A < 0).any():
        i, j = np.argwhere(A < 0)[0]
        raise ValueError(f"{name} must be non-negative: entry ({label(i)}, {label(j)}) = {A[i, j]}")
    if np.any(np.diag(A) != 0):
        i = int(np.flatnonzero(np.diag(A) != 0)[0])
        raise ValueError(f"{name} must have a zero diagonal: entry ({label(i)}, {label(i)}) = {A[i, i]}")
    isolated = np.flatnonzero(A.sum(axis=1) == 0)
    if isolated.size:
        which = "indices " + str(isolated.tolist()) if regions is None else ", ".join(label(k) for k in isolated)
        raise ValueError(f"{name} has isolated regions (no neighbour), {which}: "
                         "the CAR model needs every region to have at least one neighbour")
    return (A + A.T) / 2


def contiguous_regions(rng: np.random.Generator, adjacency: np.ndarray, size: int) -> np.ndarray:
    """Indices of ``size`` regions forming a connected group: breadth-first from a random region."""
    c = adjacency.shape[0]
    start = int(rng.integers(c))
    seen, queue, group = {start}, deque([start]), []
    while queue and len(group) < size:
        k = queue.popleft()
        group.append(k)
        for j in np.flatnonzero(adjacency[k]):
            if int(j) not in seen:
                seen.add(int(j))
                queue.append(int(j))
    return np.array(sorted(group))
