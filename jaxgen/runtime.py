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

**Memory.** :func:`require_memory` compares what a computation is about to allocate (the draws of a
sampler, Gram matrices, a kinship) with what the device has free, so that a run that cannot fit is
refused at once, with the sizes, instead of failing after minutes of compiling.
"""

from __future__ import annotations

from contextlib import contextmanager

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from threadpoolctl import threadpool_limits

__all__ = ["InsufficientMemoryError", "available_memory", "batch_mesh", "platform_devices", "require_memory", "single_threaded_blas",
           "spread_over_devices"]


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


class InsufficientMemoryError(MemoryError):
    """A computation was refused before it started: it needs more memory than is available."""


def available_memory(device=None) -> int | None:
    """Bytes free for new arrays on ``device`` (default: the first of :func:`platform_devices`), or None
    when unknown. An accelerator reports its allocator's limit minus the bytes in use; a CPU device
    shares the host's memory, whose ``MemAvailable`` (Linux) is used."""
    device = device or platform_devices()[0]
    if device.platform != "cpu":
        stats = device.memory_stats() or {}
        if "bytes_limit" in stats:
            return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
        return None
    return host_available_memory()


def host_available_memory() -> int | None:
    """Bytes of host memory available to a new allocation (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def require_memory(nbytes: float, what: str, hint: str, *, device=None, host: bool = False) -> None:
    """Raise InsufficientMemoryError when ``nbytes`` exceed the memory available on ``device`` (or on the host with
    ``host=True``); ``what`` says what needs them and ``hint`` how to need less. Unknown: no check."""
    free = host_available_memory() if host else available_memory(device)
    if free is not None and nbytes > free:
        where = "the host" if host else str(device or platform_devices()[0])
        raise InsufficientMemoryError(f"{what} needs {_size(nbytes)} but {_size(free)} are available on {where}; {hint}")


def _size(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:.3g} {unit}" if nbytes < 1000 else f"{nbytes:.0f} {unit}"
        nbytes /= 1024
