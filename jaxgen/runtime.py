"""How compiled work uses the machine: BLAS threads and devices.

**BLAS threads.** On CPU, jaxlib runs Cholesky factorizations and triangular solves through LAPACK
from SciPy's OpenBLAS. OpenBLAS starts its own threads for every call, even on a 53 × 53 matrix, and
those threads compete with XLA's thread pool (and with other CPU devices) for the same cores.
Measured on 2 cores: a Gibbs sweep of the spatial LMM (n = 500, p = 50, c = 20, 4 chains) took
1.24 ms instead of 0.68 ms, and the float64 MTS2CCA CV grid of the CCA benchmark, sharded over two
CPU devices, took 14.2 s instead of 6.4 s. :func:`single_threaded_blas` limits BLAS to one thread
while compiled samplers and solvers run: their small solves do not need more, and XLA keeps the cores.

**Devices.** Independent work (CV settings, permutations, MCMC chains) is spread over every device of
the platform in use: several GPUs, or several CPU devices, which JAX creates when
``jax.config.update("jax_num_cpu_devices", N)`` runs before its first computation (the ``jaxgen``
command does this, one per core). Small factorizations run one after another inside a CPU device,
so N CPU devices use N cores.
"""

from __future__ import annotations

from contextlib import contextmanager

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from threadpoolctl import threadpool_limits

__all__ = ["batch_mesh", "platform_devices", "single_threaded_blas", "spread_over_devices"]


@contextmanager
def single_threaded_blas():
    """Within the block, every loaded BLAS library (OpenBLAS, MKL, BLIS) uses one thread.

    Compiled JAX work is asynchronous: call ``jax.block_until_ready`` inside the block so that
    the computation finishes before the limit is lifted.
    """
    import scipy.linalg.cython_lapack  # noqa: F401  jaxlib's LAPACK: load it so that it is limited too

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def platform_devices() -> list:
    """All devices of the platform that ``jax.default_device`` selects (default backend if unset)."""
    chosen = jax.config.jax_default_device
    if chosen is None:
        return jax.devices()
    return jax.devices(chosen if isinstance(chosen, str) else chosen.platform)


def batch_mesh(devices=None) -> Mesh:
    """A one-axis mesh named "batch" over ``devices`` (default :func:`platform_devices`)."""
    return Mesh(np.array(platform_devices() if devices is None else list(devices)), ("batch",))


def spread_over_devices(batched: dict, devices=None) -> tuple[dict, int]:
    """Shard the leading axis of every leaf of ``batched`` (all of one length B) over ``devices``.

    devices : a list of devices (default :func:`platform_devices`). The axis is padded to a
    multiple of their number by repeating its last entry; drop the padded results with
    ``[..., :B]``. Returns (the sharded dict, B). With one device the leaves are returned as they are.
    """
    mesh = batch_mesh(devices)
    lengths = {len(leaf) for leaf in jax.tree.leaves(batched)}
    if len(lengths) != 1:
        raise ValueError(f"batched leaves must share their leading length, got {sorted(lengths)}")
    (length,) = lengths
    if mesh.size == 1:
        return batched, length
    padded = -(-length // mesh.size) * mesh.size
    sharding = NamedSharding(mesh, PartitionSpec("batch"))

    def spread(leaf):
        leaf = jnp.asarray(leaf)
        filler = jnp.repeat(leaf[-1:], padded - length, axis=0)
        return jax.device_put(jnp.concatenate([leaf, filler]), sharding)

    return jax.tree.map(spread, batched), length
