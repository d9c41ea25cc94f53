"""Univariate slice sampling on a bounded interval (Neal 2003, Ann. Statist. 31(3), §4).

On a bounded support the whole interval is a valid initial bracket, so no stepping-out is needed:
draw the level, then shrink the bracket towards the current point until a proposal lies in the
slice. Exact (the chain leaves the target invariant) and free of tuning.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

__all__ = ["slice_sample_bounded"]


def slice_sample_bounded(key, x0, log_density: Callable, lower, upper, max_shrinks: int = 200):
    """One slice-sampling update of a scalar x0 in (lower, upper) for an unnormalized log density.

    Returns the new point (a scalar). ``max_shrinks`` only guards against a density that is NaN
    everywhere; a valid bracket collapses onto x0 in about 60 float64 halvings at most.
    """
    key_level, key_loop = jax.random.split(key)
    log_level = log_density(x0) - jax.random.exponential(key_level, dtype=jnp.result_type(x0))

    def not_done(carry):
        i, _, _, _, accepted, _ = carry
        return (~accepted) & (i < max_shrinks)

    def shrink(carry):
        i, lo, hi, _, _, key = carry
        key, sub = jax.random.split(key)
        x = lo + (hi - lo) * jax.random.uniform(sub, dtype=lo.dtype)
        accepted = log_density(x) > log_level
        lo = jnp.where(accepted | (x > x0), lo, x)
        hi = jnp.where(accepted | (x < x0), hi, x)
        return i + 1, lo, hi, x, accepted, key

    start = (0, jnp.asarray(lower, x0.dtype), jnp.asarray(upper, x0.dtype), x0, jnp.array(False), key_loop)
    _, _, _, x, accepted, _ = jax.lax.while_loop(not_done, shrink, start)
    return jnp.where(accepted, x, x0)
