"""The Cauchy combination's null law when the combined z-scores are jointly normal with a known correlation.

The Cauchy tail of the CCT (:mod:`jaxgen.stats.cct`) is exact only as p → 0. Under strong dependence it is
far off in the bulk: for the two-sided p-values of c = 16 z-scores with a CAR correlation at ρ = 0.9 the
median CCT p-value is near 0.7 (λ_GC ≈ 0.6), and at α = 0.05 it rejects up to 5.7%. When the z-scores are
N(0, R) with R known (the SNP tests' scores under the null model), the law of the statistic is simulated
once and each observed combination is referred to it:

* :func:`gaussian_cct_null`: the sorted log CCT p-values of N draws of z ~ N(0, R) (fixed seed: the same R
  gives the same law); :func:`gaussian_null_law` the same for any combination ``statistic(z, root)`` of the
  draws (the SNP tests' omnibus combination, :mod:`jaxgen.lmm.scores`);
* :func:`refer_to_null`: an observed log p-value l becomes log F(l), F(l) = (#{null ≤ l} + 1)/(N + 1),
  where at least :data:`TAIL_COUNT` null draws lie at or below l (relative Monte Carlo error ≤ 1/√TAIL_COUNT);
  deeper, the correction log F(l) − l found at that point fades linearly in log p to 0 over
  :data:`FADE_DECADES` decades, where the Cauchy tail holds. The map is continuous and increasing.
"""

from __future__ import annotations

import math
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from jaxgen.stats.cct import _cot_pi
from jaxgen.stats.tails import two_sided_pvalue

__all__ = ["FADE_DECADES", "NULL_DRAWS", "TAIL_COUNT", "gaussian_cct_null", "gaussian_null_law", "refer_to_null"]

NULL_DRAWS = 1 << 17   # draws of the simulated null law
TAIL_COUNT = 500       # null draws at or below the deepest point read from the simulation
FADE_DECADES = 2.0     # decades of p over which the correction fades into the Cauchy tail
_CHUNK = 1 << 13       # draws per key of the simulation


def gaussian_cct_null(correlation, draws: int = NULL_DRAWS, seed: int = 0) -> jnp.ndarray:
    """Sorted log p-values (draws,) of the CCT of the two-sided p-values of z ~ N(0, correlation).

    correlation : (c, c) positive definite; draws : a multiple of 8 192 (default :data:`NULL_DRAWS`).
    Deterministic in ``seed``, and the same draws whatever the dtype (the correlation's, of the result): the
    normal deviates are drawn in float32 (once per (c, draws, seed), then kept: a scan's null models on every
    chromosome's LOCO kinship share them) and the Cholesky factor taken in float64.
    """
    return gaussian_null_law(correlation, _region_cct, (), draws, seed)


def gaussian_null_law(correlation, statistic, operands=(), draws: int = NULL_DRAWS, seed: int = 0) -> jnp.ndarray:
    """Sorted log p-values (draws,) of ``statistic(z, root, *operands)`` over draws z of N(0, correlation).

    statistic : a module-level function of draws z (k, c), the lower Cholesky factor ``root`` (c, c) of the
    correlation and ``operands`` (arrays) that returns one log p-value per draw (k,); it is a static argument
    of the compiled simulation, which runs it on chunks of :data:`_CHUNK` draws (memory flat in ``draws``).
    The draws are those of :func:`gaussian_cct_null` for the same (c, draws, seed).
    """
    if draws % _CHUNK:
        raise ValueError(f"draws must be a multiple of {_CHUNK}, got {draws}")
    dtype = jnp.asarray(correlation).dtype
    root = jnp.asarray(np.linalg.cholesky(np.asarray(correlation, dtype=np.float64)), dtype)
    return _simulate(root, _standard_normals(root.shape[0], draws, seed), tuple(operands), statistic)


@lru_cache(maxsize=2)
def _standard_normals(c: int, draws: int, seed: int) -> jnp.ndarray:
    """(draws, c) float32 standard normal deviates of ``seed`` (drawn in chunks of :data:`_CHUNK` rows)."""
    keys = jax.random.split(jax.random.key(seed), draws // _CHUNK)
    return jax.vmap(lambda k: jax.random.normal(k, (_CHUNK, c), jnp.float32))(keys).reshape(draws, c)


@partial(jax.jit, static_argnames="statistic")
def _simulate(root, normals, operands, statistic):
    def chunk(block):
        z = jnp.matmul(block.astype(root.dtype), root.T, precision=jax.lax.Precision.HIGHEST)
        return statistic(z, root, *operands)

    chunks = normals.reshape(-1, _CHUNK, normals.shape[1])
    return jnp.sort(jax.lax.map(chunk, chunks).reshape(-1))


def _region_cct(z, root):
    """log CCT p-value (draws,) of the two-sided p-values of the draws z (draws, c)."""
    del root
    return bulk_cct_log(two_sided_pvalue(z))


def bulk_cct_log(p, weights=None):
    """log CCT p-value of each row of p (draws, k), equal weights or ``weights`` (k,) summing to 1:
    :func:`cct_log` without its guards for p-values beyond float range (a null draw has none), 3× faster;
    equal to it up to the float32 rounding of the sum, which cancellation amplifies to at most 4e-4 of the
    p-value (1e-4 in 99.99% of draws)."""
    terms = _cot_pi(p)
    # a weighted sum, not terms @ weights: XLA's CPU matrix-vector product of the fused terms is 12× slower
    # (220 ms against 18 ms for the omnibus law's 131 072 × 206 terms)
    statistic = jnp.mean(terms, axis=1) if weights is None else jnp.sum(terms * weights, axis=1)
    return jnp.where(statistic > 1.0, jnp.log(jnp.arctan(1.0 / statistic)) - math.log(math.pi),
                     jnp.log(0.5 - jnp.arctan(statistic) / math.pi))


def refer_to_null(log_p, null_log_p):
    """The log CCT p-values ``log_p`` (any shape) referred to the simulated null law ``null_log_p``
    (sorted, (N,), from :func:`gaussian_cct_null`); NaN stays NaN."""
    log_p = jnp.asarray(log_p)
    null_log_p = jnp.asarray(null_log_p, log_p.dtype)
    draws = null_log_p.shape[0]
    count = jnp.searchsorted(null_log_p, log_p, side="right")
    log_simulated = jnp.log((count + 1.0) / (draws + 1.0))
    edge = null_log_p[TAIL_COUNT - 1]                       # the deepest log p the simulation resolves
    correction_at_edge = math.log((TAIL_COUNT + 1.0) / (draws + 1.0)) - edge
    fade = jnp.clip(1.0 - (edge - log_p) / (FADE_DECADES * math.log(10.0)), 0.0, 1.0)
    referred = jnp.where(log_p >= edge, log_simulated, log_p + correction_at_edge * fade)
    return jnp.where(jnp.isnan(log_p), jnp.nan, jnp.minimum(referred, 0.0))
