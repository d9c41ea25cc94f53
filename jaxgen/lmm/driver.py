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
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec

from jaxgen.lmm.data import LMMData
from jaxgen.lmm.gibbs import Params, gibbs_step, init_params, residual_row_forms
from jaxgen.lmm.model import row_log_density
from jaxgen.lmm.priors import Priors
from jaxgen.runtime import platform_devices

__all__ = ["GibbsDraws", "run_gibbs_chains"]


class GibbsDraws(NamedTuple):
    """The kept draws of :func:`run_gibbs_chains`: ``sites``, the latent sites, each (chains, draws, ...);
    ``log_likelihood`` (chains, draws, n), log p(ỹ_i | draw) of every rotated row, as
    :func:`jaxgen.lmm.likelihood.pointwise_log_likelihood` computes it from the sites."""

    sites: dict
    log_likelihood: jnp.ndarray


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
                     num_samples: int, thin: int = 1, progress: bool = False, devices=None) -> GibbsDraws:
    """Sample ``num_chains`` chains; returns their kept draws and the rows' log likelihood at each (:class:`GibbsDraws`).

    devices : the devices to spread the chains over (default: :func:`jaxgen.runtime.platform_devices`).
    """
    if progress:
        _Progress.start(num_warmup + num_samples * thin, f"Gibbs, {num_chains} chains")
    keys = jax.random.split(key, num_chains)
    mesh = chain_mesh(num_chains, platform_devices() if devices is None else devices)
    return GibbsDraws(*_compiled(mesh, num_warmup, num_samples, thin, progress)(keys, data, priors))


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
    """The chains of one device, vmapped: keys (chains,) → latent sites (chains, num_samples, ...) and the
    log likelihood (chains, num_samples, n) of the rows at each kept draw."""
    init_keys, run_keys = jnp.moveaxis(jax.vmap(jax.random.split)(keys), 1, 0)
    params = jax.vmap(init_params, in_axes=(0, None, None))(init_keys, data, priors)
    step_chains = jax.vmap(gibbs_step, in_axes=(0, 0, None, None))
    total = num_warmup + num_samples * thin
    every = max(1, total // 50)

    def step(i, carry):
        """Sweep i of every chain: the new params and keys, and the draws' residual row forms (or None)."""
        params, keys = carry
        keys, subs = jnp.moveaxis(jax.vmap(jax.random.split)(keys), 1, 0)
        params, row_forms = step_chains(subs, params, data, priors)
        if progress:
            done = i + 1
            first_device = jax.lax.axis_index("chains") == 0
            jax.lax.cond(first_device & ((done % every == 0) | (done == total)),
                         lambda: jax.debug.callback(_Progress.report, done), lambda: None)
        return (params, keys), row_forms

    def keep(slot, kept, params: Params, row_forms):
        """The draw and its rows' log likelihood into slot ``slot`` of the buffers ``kept``."""
        if row_forms is None:        # without kinship the sweep needs no residual: formed for kept draws only
            row_forms = jax.vmap(residual_row_forms, in_axes=(0, None))(params, data)
        log_likelihood = jax.vmap(lambda forms, p: row_log_density(forms, data.row_scales(p.h2), p.sigma2, p.rho,
                                                                   data.car))(row_forms, params)
        return jax.tree.map(lambda buffer, x: buffer.at[slot].set(x), kept,
                            (params.sites(data.has_kinship), log_likelihood))

    def step_and_keep(i, carry):
        """Sweep i; after warm-up, every thin-th sweep goes into slot (i − num_warmup + 1)/thin − 1."""
        params, keys, kept = carry
        (params, keys), row_forms = step(i, (params, keys))
        after = i - num_warmup + 1
        slot = jnp.clip(after // thin - 1, 0, num_samples - 1)
        kept = jax.lax.cond((after > 0) & (after % thin == 0), partial(keep, slot), lambda kept, *_: kept,
                            kept, params, row_forms)
        return params, keys, kept

    # one loop over all sweeps, so that the sweep is compiled once
    kept = (params.sites(data.has_kinship), jnp.zeros((len(keys), data.Y.shape[0]), data.Y.dtype))
    empty = jax.tree.map(lambda x: jnp.zeros((num_samples, *x.shape), x.dtype), kept)
    _, _, draws = jax.lax.fori_loop(0, total, step_and_keep, (params, run_keys, empty))
    return jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), draws)
