"""Run many vmapped Gibbs chains, warm-up and draws, as one compiled computation.

The compiled function is cached by array shapes and the static settings, so repeated fits of
equal shapes (simulation studies, permutations) do not recompile. Progress, when asked for, is
reported through a rare ``jax.debug.callback`` (every ~2% of the sweeps), compiled in only then.
"""

from __future__ import annotations

import sys
from functools import partial

import jax
import jax.numpy as jnp

from jaxgen.lmm.data import LMMData
from jaxgen.lmm.gibbs import gibbs_sweep, init_params
from jaxgen.lmm.priors import Priors

__all__ = ["run_gibbs_chains"]


class _Progress:
    """A one-line progress report on stderr, updated from inside the compiled loop."""

    total = 1
    label = "sampling"

    @classmethod
    def start(cls, total: int, label: str):
        cls.total, cls.label = total, label

    @staticmethod
    def report(done):
        done = int(done)
        end = "\n" if done >= _Progress.total else ""
        print(f"\r{_Progress.label}: sweep {done}/{_Progress.total}", end=end, file=sys.stderr, flush=True)


def run_gibbs_chains(key, data: LMMData, priors: Priors, *, num_chains: int, num_warmup: int,
                     num_samples: int, thin: int = 1, progress: bool = False) -> dict:
    """Sample ``num_chains`` chains; returns the latent sites, each (num_chains, num_samples, ...)."""
    if progress:
        _Progress.start(num_warmup + num_samples * thin, f"Gibbs, {num_chains} chains")
    keys = jax.random.split(key, num_chains)
    return _run(keys, data, priors, num_warmup=num_warmup, num_samples=num_samples, thin=thin,
                progress=progress)


@partial(jax.jit, static_argnames=("num_warmup", "num_samples", "thin", "progress"))
def _run(keys, data, priors, *, num_warmup, num_samples, thin, progress):
    init_keys, run_keys = jnp.moveaxis(jax.vmap(jax.random.split)(keys), 1, 0)
    params = jax.vmap(init_params, in_axes=(0, None, None))(init_keys, data, priors)
    sweep_chains = jax.vmap(gibbs_sweep, in_axes=(0, 0, None, None))
    total = num_warmup + num_samples * thin
    every = max(1, total // 50)

    def step(i, carry):
        params, keys = carry
        keys, subs = jnp.moveaxis(jax.vmap(jax.random.split)(keys), 1, 0)
        params = sweep_chains(subs, params, data, priors)
        if progress:
            done = i + 1
            jax.lax.cond((done % every == 0) | (done == total),
                         lambda: jax.debug.callback(_Progress.report, done), lambda: None)
        return params, keys

    carry = jax.lax.fori_loop(0, num_warmup, step, (params, run_keys))

    def draw(carry, index):
        start = num_warmup + index * thin
        carry = jax.lax.fori_loop(start, start + thin, step, carry)
        return carry, carry[0].sites(data.has_kinship)

    _, draws = jax.lax.scan(draw, carry, jnp.arange(num_samples))
    return jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), draws)
