"""Run many vmapped Gibbs chains, warm-up and draws, as one compiled computation.

The chains are spread over the devices of the platform in use (see :mod:`jaxgen.runtime`) with
``shard_map``: each device runs its own chains, vmapped, with no communication between devices, so
N CPU devices run the chains on N cores. The number of devices used is the largest that divides
the number of chains. A chain's draws depend only on its key; how many chains share a device can
change the rounding of the batched products, so runs on different device counts agree in
distribution, not bit for bit.

The compiled function is cached by array shapes and the static settings, so repeated fits of
equal shapes (simulation studies, permutations) do not recompile. Progress, when asked for, is
reported through a rare ``jax.debug.callback`` (every ~2% of the sweeps) from the first device,
compiled in only then.
"""

from __future__ import annotations

import sys
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec

from jaxgen.lmm.data import LMMData
from jaxgen.lmm.gibbs import gibbs_sweep, init_params
from jaxgen.lmm.priors import Priors
from jaxgen.runtime import platform_devices

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
                     num_samples: int, thin: int = 1, progress: bool = False, devices=None) -> dict:
    """Sample ``num_chains`` chains; returns the latent sites, each (num_chains, num_samples, ...).

    devices : the devices to spread the chains over (default: :func:`jaxgen.runtime.platform_devices`).
    """
    if progress:
        _Progress.start(num_warmup + num_samples * thin, f"Gibbs, {num_chains} chains")
    keys = jax.random.split(key, num_chains)
    mesh = chain_mesh(num_chains, platform_devices() if devices is None else devices)
    return _compiled(mesh, num_warmup, num_samples, thin, progress)(keys, data, priors)


def chain_mesh(num_chains: int, devices) -> Mesh:
    """A one-axis mesh ("chains") over the most of ``devices`` whose number divides ``num_chains``."""
    devices = list(devices)
    used = max(k for k in range(1, len(devices) + 1) if num_chains % k == 0)
    return Mesh(np.array(devices[:used]), ("chains",))


@lru_cache(maxsize=None)
def _compiled(mesh, num_warmup, num_samples, thin, progress):
    """``_run`` compiled for ``mesh``: keys split over its devices, data and priors on each."""
    run = partial(_run, num_warmup=num_warmup, num_samples=num_samples, thin=thin, progress=progress)
    spread = PartitionSpec("chains")
    # check_vma=False: the slice samplers' while loops start from per-device constants
    return jax.jit(jax.shard_map(run, mesh=mesh, in_specs=(spread, PartitionSpec(), PartitionSpec()),
                                 out_specs=spread, check_vma=False))


def _run(keys, data, priors, *, num_warmup, num_samples, thin, progress):
    """The chains of one device, vmapped: keys (chains,) → latent sites (chains, num_samples, ...)."""
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
            first_device = jax.lax.axis_index("chains") == 0
            jax.lax.cond(first_device & ((done % every == 0) | (done == total)),
                         lambda: jax.debug.callback(_Progress.report, done), lambda: None)
        return params, keys

    def step_and_keep(i, carry):
        """Sweep i; after warm-up, every thin-th sweep goes into slot (i − num_warmup + 1)/thin − 1."""
        params, keys, kept = carry
        params, keys = step(i, (params, keys))
        after = i - num_warmup + 1
        slot = jnp.clip(after // thin - 1, 0, num_samples - 1)
        keep = (after > 0) & (after % thin == 0)
        kept = jax.tree.map(lambda buffer, x: buffer.at[slot].set(jnp.where(keep, x, buffer[slot])),
                            kept, params.sites(data.has_kinship))
        return params, keys, kept

    # one loop over all sweeps, so that the sweep is compiled once
    empty = jax.tree.map(lambda x: jnp.zeros((num_samples, *x.shape), x.dtype), params.sites(data.has_kinship))
    _, _, draws = jax.lax.fori_loop(0, total, step_and_keep, (params, run_keys, empty))
    return jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), draws)
