"""SNP groups: LD blocks along the genome, user labels (genes) for group-sparse penalties, and the SNPs
inside base-pair ranges (genes) for gene-level tests."""

from __future__ import annotations

import numpy as np

__all__ = ["group_labels", "ld_blocks", "snps_in_ranges"]


def ld_blocks(genotypes, r2_min: float = 0.1) -> np.ndarray:
    """Contiguous LD blocks (p,) int labels from genotypes (n, p) in genome order: a new block starts
    where the r² between neighbouring SNPs falls below ``r2_min``."""
    G = np.asarray(genotypes, dtype=float)
    if G.ndim != 2 or G.shape[1] < 1:
        raise ValueError(f"genotypes must be a 2-D (n, p) matrix, got shape {G.shape}")
    Z = G - G.mean(axis=0)
    norms = np.sqrt((Z ** 2).sum(axis=0))
    if np.any(norms == 0):
        raise ValueError(f"genotypes have constant columns {np.flatnonzero(norms == 0)[:10].tolist()}")
    r = (Z[:, 1:] * Z[:, :-1]).sum(axis=0) / (norms[1:] * norms[:-1])
    return np.concatenate([[0], np.cumsum(r ** 2 < r2_min)])


def group_labels(labels, p: int) -> np.ndarray:
    """Relabel user group labels (p,) of any hashable values to integers 0..G−1 (in first-seen order)."""
    labels = np.asarray(labels)
    if labels.shape != (p,):
        raise ValueError(f"groups must give one label per SNP (p={p}), got shape {labels.shape}")
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse]


def snps_in_ranges(chromosomes, positions, range_chromosomes, starts, ends) -> list[np.ndarray]:
    """The SNPs inside each base-pair range, both ends included.

    chromosomes, positions : (p,) the SNPs' chromosome labels and positions; range_chromosomes, starts,
    ends : (r,) the ranges. Returns r index arrays into the SNPs, each in increasing position order.
    Sorting the SNPs once per chromosome makes each range two binary searches, O((p + r) log p).
    """
    chromosomes, positions = np.asarray(chromosomes).astype(str), np.asarray(positions)
    by_chromosome = {}
    for label in np.unique(chromosomes):
        members = np.flatnonzero(chromosomes == label)
        members = members[np.argsort(positions[members], kind="stable")]
        by_chromosome[label] = (members, positions[members])
    empty = (np.empty(0, int), np.empty(0, positions.dtype))
    found = []
    for label, start, end in zip(np.asarray(range_chromosomes).astype(str), starts, ends):
        members, sorted_positions = by_chromosome.get(label, empty)
        low = np.searchsorted(sorted_positions, start, side="left")
        high = np.searchsorted(sorted_positions, end, side="right")
        found.append(members[low:high])
    return found
