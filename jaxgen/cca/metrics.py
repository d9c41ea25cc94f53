"""Feature-selection accuracy of canonical weights against a known truth."""

from __future__ import annotations

import numpy as np

__all__ = ["selection_auc"]


def selection_auc(weights, truth) -> float:
    """Area under the ROC curve of |weights| as a score for the true features.

    weights : (d,) or (d, K) — for K tasks a feature's score is its row's ℓ2 norm. truth : (d,) bool.
    Ties count one half (Mann–Whitney U / (n₁ n₀)). 1 is perfect, 0.5 is chance.
    """
    W = np.asarray(weights, dtype=float)
    score = np.abs(W) if W.ndim == 1 else np.sqrt((W ** 2).sum(axis=1))
    truth = np.asarray(truth, dtype=bool)
    if truth.shape != score.shape:
        raise ValueError(f"truth must be (d,) = {score.shape}, got shape {truth.shape}")
    if not np.all(np.isfinite(score)):
        raise ValueError("weights have non-finite entries")
    n_true, n_false = truth.sum(), (~truth).sum()
    if n_true == 0 or n_false == 0:
        raise ValueError("truth must contain both true and false features")
    ranks = _average_ranks(score)
    return float((ranks[truth].sum() - n_true * (n_true + 1) / 2) / (n_true * n_false))


def _average_ranks(x) -> np.ndarray:
    """1-based ranks of x (d,), ties given their average rank."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], x.size]
    ranks = np.empty(x.size)
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2
    return ranks
