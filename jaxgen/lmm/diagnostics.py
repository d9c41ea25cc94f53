"""MCMC convergence diagnostics for many parameters at once: rank-normalized split R-hat, bulk and
tail ESS and the Monte Carlo standard errors, equal to ArviZ's.

ArviZ (``arviz_stats``, 1.x) computes these one parameter at a time in Python: 237 s for the 27 216
(SNP, region) pairs of a 4 × 1 000-draw fit with 486 SNPs and 56 regions. This module computes the
same numbers (Vehtari et al. 2021, Bayesian Analysis 16:667) for blocks of parameters with array
operations. Per parameter, with the chains split in halves (S draws in all):

* ranks: one ``argsort`` of the S draws gives the normal scores Φ⁻¹((r − 3/8)/(S + 1/4)) (average
  ranks for ties) from a table of the 2S possible half-integer ranks. The draws folded about their
  median, |θ − med|, are two sorted runs in that order, which a stable sort merges in O(S).
* R-hat is the larger of the split R-hats of the normal scores of the draws and of the folded draws.
* ESS (bulk: of the normal scores; tail: the smaller of the ESS of the indicators θ ≤ q at the
  quantiles 1 − prob and prob; mean and sd for the MCSE) uses Geyer's initial monotone sequence on
  the autocorrelations averaged over chains. Geyer's sequence stops at the first non-positive sum
  of two successive autocorrelations, after a few lags for chains that mix; autocovariances are
  summed directly for the first lags (in the stages :data:`DIRECT_LAGS`) and computed by FFT, as in
  ArviZ, for the parameters whose sequence runs longer.

Blocks of parameters run on one thread per core (NumPy releases the GIL). The results differ from
ArviZ's only in the order of floating-point sums (relative 1e-13 or less), except the MCSE of the
sd of float32 draws, where ArviZ squares a float32 scalar with ``pow``: one float32 rounding apart.
At n = 632, p = 486, c = 56 the 27 216 entries of B take about 17 s of CPU time on this project's
2-core machine: a third sorting, a third the five ESS, the rest ranks and R-hat.
"""

from __future__ import annotations

import itertools
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.fft import next_fast_len
from scipy.stats import norm

__all__ = ["ChainDiagnostics", "DIRECT_LAGS", "STATISTICS_COLUMNS", "SUMMARY_COLUMNS", "chain_diagnostics",
           "diagnostics_table"]

DIRECT_LAGS = (8, 32)    # autocovariance lags summed directly, in stages, before the FFT takes all
_BLOCK_VALUES = 1 << 19  # draws per block of parameters: the block's work arrays stay in cache
_BLANK = 3 / 8           # Blom's offset of the normal scores, as in ArviZ


class ChainDiagnostics(NamedTuple):
    """Diagnostics of every parameter, each array of the draws' trailing shape: rhat (rank-normalized
    split R-hat, the larger of bulk and folded), ess_bulk and ess_tail."""

    rhat: np.ndarray
    ess_bulk: np.ndarray
    ess_tail: np.ndarray


SUMMARY_COLUMNS = ("ess_bulk", "ess_tail", "r_hat", "mcse_mean", "mcse_sd")
STATISTICS_COLUMNS = ("mean", "sd", "q2.5", "q97.5")
_STATISTICS_PROBS = (0.025, 0.975)
_DIAGNOSE_ORDER = ("r_hat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd")  # as _diagnose returns them


def chain_diagnostics(draws, *, tail_prob: float | None = None, workers: int | None = None) -> ChainDiagnostics:
    """R-hat, bulk and tail ESS of every parameter of ``draws``, as ``arviz.rhat`` and ``arviz.ess``.

    draws : (chains, draws, ...) array; the diagnostics are of each entry of the trailing shape.
    tail_prob : the tail ESS uses the quantiles 1 − prob and prob (default ArviZ's
        ``rcParams["stats.ci_prob"]``, as ``arviz.ess(method="tail")``).
    workers : threads over blocks of parameters (default: one per core).
    Entries with a NaN draw, fewer than 4 draws (or, for R-hat, fewer than 2 chains) are NaN, as in ArviZ.
    """
    return ChainDiagnostics(*_diagnose(draws, tail_prob, False, workers))


def diagnostics_table(posterior, var_names=None, *, statistics: bool = False,
                      workers: int | None = None) -> pd.DataFrame:
    """``arviz.summary(posterior, kind="diagnostics")`` as a plain DataFrame: one row per parameter
    element, labelled ``name[coord, ...]`` as ArviZ does, columns :data:`SUMMARY_COLUMNS`.

    posterior : an xarray Dataset (or DataTree node) with dims ("chain", "draw", ...) per variable.
    statistics : also the columns :data:`STATISTICS_COLUMNS` first: mean, sd (ddof = 1) and the 2.5% and
        97.5% quantiles (NumPy's linear rule) of the pooled draws, from the same sort as the diagnostics.
    """
    names = (*STATISTICS_COLUMNS, *_DIAGNOSE_ORDER) if statistics else _DIAGNOSE_ORDER
    frames = []
    for name in var_names or list(posterior.data_vars):
        variable = posterior[name].transpose("chain", "draw", ...)
        columns = dict(zip(names, _diagnose(variable.values, None, True, workers, statistics)))
        element_dims = variable.dims[2:]
        combos = itertools.product(*(variable[dim].values for dim in element_dims))
        labels = [f"{name}[{', '.join(map(str, combo))}]" for combo in combos] if element_dims else [name]
        order = (*STATISTICS_COLUMNS, *SUMMARY_COLUMNS) if statistics else SUMMARY_COLUMNS
        frames.append(pd.DataFrame({k: columns[k].ravel() for k in order}, index=labels))
    return pd.concat(frames)


def _diagnose(draws, tail_prob, mcse, workers, statistics=False):
    """([mean, sd, q2.5, q97.5,] rhat, ess_bulk, ess_tail[, mcse_mean, mcse_sd]) of the entries of draws
    (chains, draws, ...)."""
    draws = np.asarray(draws)
    if draws.ndim < 2:
        raise ValueError(f"draws must be (chains, draws, ...), got shape {draws.shape}")
    if not np.issubdtype(draws.dtype, np.floating):
        draws = draws.astype(float)
    chains, length = draws.shape[:2]
    flat = draws.reshape(chains, length, -1)
    if tail_prob is None:
        from arviz_base import rcParams

        tail_prob = rcParams["stats.ci_prob"]
    probs = tuple(sorted((tail_prob, 1 - tail_prob)))
    size = max(1, _BLOCK_VALUES // max(1, chains * length))
    if flat.shape[2] == 0:
        return tuple(np.empty(draws.shape[2:]) for _ in range((5 if mcse else 3) + 4 * statistics))

    def block(start):
        values = np.ascontiguousarray(np.moveaxis(flat[:, :, start:start + size], 2, 0))
        with np.errstate(invalid="ignore", divide="ignore"):      # constant entries: NaN, as in ArviZ
            return _block_diagnostics(values, probs, mcse, statistics)

    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        parts = list(pool.map(block, range(0, flat.shape[2], size)))
    return tuple(np.concatenate([part[i] for part in parts]).reshape(draws.shape[2:])
                 for i in range(len(parts[0])))


def _block_diagnostics(x, probs, mcse, statistics=False):
    """The diagnostics of a block x (b, chains, draws), each (b,) (with ``statistics`` first the mean, sd and
    2.5%, 97.5% quantiles)."""
    b, chains, length = x.shape
    if length < 4:
        nan = np.full(b, np.nan)
        return (nan,) * ((5 if mcse else 3) + 4 * statistics)
    split = _split_chains(x)                                    # (b, 2·chains, half)
    ordered, order = _sort_with_order(split.reshape(b, -1))
    bulk_scores = _normal_scores(ordered, order).reshape(split.shape)
    fold_order, folded = _folded_order(ordered, order)
    fold_scores = _normal_scores(folded, fold_order).reshape(split.shape)
    rhat_bulk, rhat_fold = _split_rhat(bulk_scores), _split_rhat(fold_scores)
    rhat = np.where(rhat_fold > rhat_bulk, rhat_fold, rhat_bulk) if chains >= 2 else np.full(b, np.nan)
    ess_bulk = _ess(bulk_scores)
    everything = x.reshape(b, -1)
    ordered_all = ordered if length % 2 == 0 else np.sort(everything, axis=-1)
    low, high = (_ess(_split_chains(x <= _quantile(ordered_all, p)[:, None, None])) for p in probs)
    ess_tail = np.where(high < low, high, low)
    results = [rhat, ess_bulk, ess_tail]
    sd = np.std(everything, axis=1, ddof=1) if mcse or statistics else None
    if mcse:
        results += _mcse(x, everything, sd)
    if statistics:
        results = [everything.mean(axis=1), sd, *(_quantile(ordered_all, p) for p in _STATISTICS_PROBS), *results]
    bad = np.isnan(everything).any(axis=-1)
    return tuple(np.where(bad, np.nan, r) for r in results)


def _split_chains(x):
    """(b, chains, draws) → (b, 2·chains, draws // 2): first halves, then second halves (ArviZ's order)."""
    half = x.shape[2] // 2
    return np.concatenate([x[:, :, :half], x[:, :, x.shape[2] - half:]], axis=1)


@lru_cache(maxsize=8)
def _score_table(size: int, dtype: np.dtype) -> np.ndarray:
    """Φ⁻¹((r − 3/8)/(S − 2·3/8 + 1)) at r = j/2, j = 0..2S: the normal score of every average rank.

    The ranks and their transform are in the draws' dtype, as SciPy's ``rankdata`` returns them.
    """
    rank = np.arange(2 * size + 1, dtype=dtype) / 2
    return norm.ppf((rank - _BLANK) / (size - 2 * _BLANK + 1))


def _normal_scores(ordered, order):
    """Normal scores of the values (b, S) whose argsort is ``order`` and sorted values ``ordered``,
    in the values' own order; tied values get the score of their average rank."""
    b, size = ordered.shape
    table = _score_table(size, ordered.dtype)
    sorted_scores = np.broadcast_to(table[2::2], (b, size))      # rank r at sorted position r − 1
    tied = np.flatnonzero(ordered[:, 1:] == ordered[:, :-1])
    if tied.size:
        sorted_scores = sorted_scores.copy()
        positions, twice_average = _tied_ranks(tied, size)
        sorted_scores.flat[positions] = table[twice_average]
    scores = np.empty((b, size))
    np.put_along_axis(scores, order, sorted_scores, axis=-1)
    return scores


def _tied_ranks(tied, size):
    """Flat sorted positions in (b, S) of the values in runs of equal values, and twice their
    average 1-based rank; tied : flat indices f into (b, S − 1) where the sorted value at position
    f % (S − 1) + 1 of its row equals the one before it."""
    row, column = np.divmod(tied, size - 1)
    flat = row * size + column                      # the first value of each tied pair, flat in (b, S)
    new_run = np.concatenate([[True], flat[1:] != flat[:-1] + 1])
    run = np.cumsum(new_run) - 1
    first = flat[new_run][run]                      # each pair's run: first and last flat positions
    last = flat[np.concatenate([new_run[1:], [True]])][run] + 1
    twice_average = (first % size) + (last % size) + 2
    return np.concatenate([flat, flat + 1]), np.concatenate([twice_average, twice_average])


def _folded_order(ordered, order):
    """argsort and sorted values of |θ − median| from the sort of θ (ordered, order: (b, S), S even).

    The median is ``np.median``'s (the mean of the two middle values); below it the folded values
    fall along the sorted draws, above it they rise: a stable sort merges the two runs.
    """
    middle = ordered.shape[1] // 2
    median = np.mean(ordered[:, middle - 1:middle + 1], axis=1, keepdims=True)
    runs = np.abs(np.concatenate([ordered[:, middle - 1::-1], ordered[:, middle:]], axis=1) - median)
    folded, merge = _sort_with_order(runs)
    run_order = np.concatenate([order[:, middle - 1::-1], order[:, middle:]], axis=1)
    return np.take_along_axis(run_order, merge, axis=1), folded


def _sort_with_order(values):
    """The sorted rows of values (b, S) and their stable argsort, (b, S) each.

    float32 rows sort as one uint64 key per value: the value's bits, mapped so that unsigned order is
    IEEE order, above its position. NumPy sorts such keys about 2.5 times faster than it argsorts the
    floats, and the sort gives the values with the order (no gather). Other dtypes take an argsort. NaNs (whose
    rows the diagnostics leave out) may sort first or last.
    """
    if values.dtype != np.float32:
        order = np.argsort(values, axis=-1, kind="stable")
        return np.take_along_axis(values, order, axis=-1), order
    size = values.shape[1]
    values = values + np.float32(0.0)                                          # −0 → +0: equal values, one key
    flip = (values.view(np.int32) >> 31).view(np.uint32) | np.uint32(1 << 31)   # negatives: all bits
    keys = np.empty(values.shape, np.uint64)
    keys[...] = values.view(np.uint32) ^ flip
    keys <<= np.uint64(32)
    keys |= np.arange(size, dtype=np.uint64)
    keys.sort(axis=-1)
    halves = keys.view(np.uint32).reshape(*keys.shape, 2)           # each key's two 32-bit words
    low_word, high_word = (0, 1) if sys.byteorder == "little" else (1, 0)
    order = halves[..., low_word].astype(np.intp)
    high = halves[..., high_word]
    ordered = (high ^ ((high >> 31) - np.uint32(1) | np.uint32(1 << 31))).view(np.float32)
    return ordered, order


def _quantile(ordered, prob: float):
    """``np.quantile(row, prob)`` (linear, Hyndman & Fan type 7) of each sorted row of ``ordered``
    (b, S), in its dtype, from the two order statistics around (S − 1)·prob."""
    size = ordered.shape[1]
    virtual = (size - 1) * prob                             # numpy's virtual index, same rounding
    below = min(max(int(np.floor(virtual)), 0), size - 1)
    above = min(below + 1, size - 1)
    gamma = float(virtual - below)
    a, b = ordered[:, below], ordered[:, above]
    step = b - a
    return np.where(gamma >= 0.5, b - step * (1 - gamma), a + step * gamma)


def _split_rhat(scores):
    """Split R-hat of (b, chains, draws) (the chains already split)."""
    length = scores.shape[2]
    between = length * np.var(np.mean(scores, axis=2), axis=1, ddof=1)
    within = np.mean(np.var(scores, axis=2, ddof=1), axis=1)
    return np.sqrt((between / within + length - 1) / length)


def _ess(chains):
    """ESS of (b, chains, draws) (ArviZ's ``_ess``: Geyer's initial monotone sequence), (b,)."""
    y = np.asarray(chains, dtype=float)
    b, m, n = y.shape
    size = m * n
    chain_means = y.mean(axis=2, keepdims=True)
    centered = y - chain_means
    between = np.var(chain_means[..., 0], axis=1, ddof=1) if m > 1 else np.zeros(b)
    limit = max(0, (n - 1) // 2 - 1)           # Geyer's loop reads the pairs 1..limit
    tau = np.empty(b)
    rows = slice(None)
    acov = np.empty((b, m, 0))
    for lags in (*(min(stage, 2 * limit + 2) for stage in DIRECT_LAGS), None):
        if lags is None:                        # sequences longer than the direct stages: all lags
            acov = _fft_autocov(centered[rows])
        else:
            acov = np.concatenate([acov, _direct_autocov(centered[rows], acov.shape[2], lags)], axis=2)
        tau[rows], complete = _geyer_tau(acov, between[rows], n, limit)
        rows = np.arange(b)[rows][~complete]
        if not rows.size:
            break
        acov = acov[~complete]
    ess = size / np.where(1 / np.log10(size) > tau, 1 / np.log10(size), tau)
    constant = (y.max(axis=(1, 2)) - y.min(axis=(1, 2))) < np.finfo(float).resolution
    return np.where(constant, float(size), ess)


def _direct_autocov(centered, start, stop):
    """Autocovariances at lags start..stop − 1 of centered (b, chains, n), summed: (b, chains, lags)."""
    n = centered.shape[2]
    return np.stack([np.einsum("bci,bci->bc", centered[..., :n - t], centered[..., t:])
                     for t in range(start, stop)], axis=2) / n


def _fft_autocov(centered):
    """Autocovariances at every lag of centered (b, chains, n) by FFT, as ArviZ: (b, chains, n)."""
    n = centered.shape[2]
    spectrum = np.fft.rfft(centered, n=next_fast_len(2 * n), axis=2)
    spectrum *= np.conjugate(spectrum)
    return np.fft.irfft(spectrum, n=next_fast_len(2 * n), axis=2)[..., :n] / n


def _geyer_tau(acov, between, n, limit):
    """τ̂ (b,) from the autocovariances (b, chains, L) of chains of n draws whose means have the
    variance ``between`` (b,) (0 for one chain), and whether L lags sufficed (Geyer's sequence
    ended within them).

    With ρ̂_t the chain-averaged autocorrelations (ρ̂_0 = 1) and P_k = ρ̂_2k + ρ̂_2k+1, ArviZ's loop
    takes the pairs k = 1.. while P_(k−1) > 0 and k ≤ ``limit``; with K the number it takes,
    τ̂ = −1 + 2 Σ_(k<K) min(P_0..P_k) + ρ̂_2K (ρ̂_2K only if P_K ≥ 0 or ρ̂_2K > 0; 1 when K = 0).
    """
    pairs = acov.shape[2] // 2
    mean_acov = acov.mean(axis=1)
    mean_var = mean_acov[:, 0] * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n + between
    rho = 1.0 - (mean_var[:, None] - mean_acov[:, :2 * pairs]) / var_plus[:, None]
    rho[:, 0] = 1.0
    sums = rho[:, 0::2] + rho[:, 1::2]                       # P_k, (b, pairs)
    stop = ~(sums > 0)
    first = np.where(stop.any(axis=1), np.argmax(stop, axis=1), pairs)
    taken = np.minimum(first, limit)                         # K
    K = np.minimum(taken, pairs - 1)
    rows = np.arange(len(K))
    monotone = np.minimum.accumulate(sums, axis=1)
    head = np.sum(np.where(np.arange(pairs) < K[:, None], monotone, 0.0), axis=1)
    even = rho[rows, 2 * K]
    tail = np.where(K == 0, 1.0, np.where((sums[rows, K] >= 0) | (even > 0), even, 0.0))
    tau = -1.0 + 2.0 * head + tail
    return np.where(np.isnan(rho[:, 1]), np.nan, tau), taken < pairs


def _mcse(x, everything, sd):
    """MCSE of the mean and of the sd of each parameter of x (b, chains, draws) whose sd is ``sd``, as ArviZ's."""
    mcse_mean = sd / np.sqrt(_ess(_split_chains(x)))
    centered = x - everything.mean(axis=1)[:, None, None]
    squared = centered ** 2
    evar = squared.reshape(len(x), -1).mean(axis=1)
    fourth = (squared * squared).reshape(len(x), -1).mean(axis=1)     # not ** 4: NumPy's pow is 200× slower
    varvar = (fourth - evar ** 2) / _ess(_split_chains(squared))
    return [mcse_mean, np.sqrt(varvar / evar / 4)]
