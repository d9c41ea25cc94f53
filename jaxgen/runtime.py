"""How compiled work uses the machine: BLAS threads, devices and the compilation cache.

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

**Compilation cache.** The ``jaxgen`` command keeps JAX's persistent compilation cache in a user cache
folder (:func:`compilation_cache_dir`: ``$JAXGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/jaxgen/jax``, else
``~/.cache/jaxgen/jax``; ``JAXGEN_NO_CACHE=1`` turns it off), so a second run with the same shapes
loads its programs instead of compiling them (tracing and lowering to MLIR still happen: about a
tenth of the cold compile time of the Gibbs sampler). :func:`compile_clock` measures the time spent tracing,
lowering and compiling (or loading compiled programs) inside a block, so that logs can report
compile and run time separately.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from threadpoolctl import threadpool_limits

__all__ = ["CompileClock", "InsufficientMemoryError", "StageTime", "Stopwatch", "available_memory", "batch_mesh",
           "compilation_cache_dir", "compile_clock", "enable_compilation_cache", "platform_devices", "require_memory",
           "single_threaded_blas", "spread_over_devices"]

CACHE_DIR_VARIABLE = "JAXGEN_CACHE_DIR"
NO_CACHE_VARIABLE = "JAXGEN_NO_CACHE"
# JAX's compile events (seconds): tracing to a jaxpr, lowering to MLIR, and XLA compilation or a cache load
_COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                   "/jax/core/compile/backend_compile_duration")


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
def compilation_cache_dir() -> Path | None:
    """The folder of the ``jaxgen`` command's compilation cache, or None when ``JAXGEN_NO_CACHE`` is set
    (to anything but "" or "0"): ``$JAXGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/jaxgen/jax``, else
    ``~/.cache/jaxgen/jax``."""
    if os.environ.get(NO_CACHE_VARIABLE, "").strip() not in ("", "0"):
        return None
    if os.environ.get(CACHE_DIR_VARIABLE):
        return Path(os.environ[CACHE_DIR_VARIABLE]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jaxgen" / "jax"


def enable_compilation_cache() -> Path | None:
    """Turn on JAX's persistent compilation cache in :func:`compilation_cache_dir`; returns the folder
    (None when turned off). Call it before the first computation. A folder the user already gave JAX
    (``JAX_COMPILATION_CACHE_DIR``) is kept. Every program is cached, however fast it compiled (a run
    compiles a few big programs and dozens of small ones; an lmm run adds about 1 MB), unless
    ``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS`` says otherwise. Delete the folder to empty it."""
    folder = compilation_cache_dir()
    if folder is None:
        return None
    if jax.config.jax_compilation_cache_dir:
        return Path(jax.config.jax_compilation_cache_dir)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return folder


class CompileClock:
    """Seconds spent compiling inside a :func:`compile_clock` block (``seconds``): the union of the
    intervals of JAX's compile events, so nested traces count once."""

    def __init__(self):
        self._intervals: list[tuple[float, float]] = []

    def record(self, event: str, duration: float, **_):
        if event in _COMPILE_EVENTS:
            end = time.perf_counter()
            self._intervals.append((end - duration, end))

    @property
    def seconds(self) -> float:
        total, reach = 0.0, float("-inf")
        for start, end in sorted(self._intervals):
            if end > reach:
                total += end - max(start, reach)
                reach = end
        return total


@contextmanager
def compile_clock():
    """Yield a :class:`CompileClock` that measures the compile time of the block (all threads)."""
    clock = CompileClock()
    jax.monitoring.register_event_duration_secs_listener(clock.record)
    try:
        yield clock
    finally:
        jax.monitoring.unregister_event_duration_listener(clock.record)


class StageTime(NamedTuple):
    """Wall seconds of a stage, the part spent compiling, and the CPU seconds of the process (all threads)."""

    seconds: float
    compile_seconds: float
    cpu_seconds: float


class Stopwatch:
    """Times of named stages (:class:`StageTime`), in the order they ran: ``stages[name]``."""

    def __init__(self):
        self.stages: dict[str, StageTime] = {}

    @contextmanager
    def stage(self, name: str):
        """Time the block as stage ``name`` (a repeated name adds up)."""
        start, cpu = time.perf_counter(), time.process_time()
        with compile_clock() as clock:
            yield
        spent = StageTime(time.perf_counter() - start, clock.seconds, time.process_time() - cpu)
        before = self.stages.get(name, StageTime(0.0, 0.0, 0.0))
        self.stages[name] = StageTime(*(a + b for a, b in zip(before, spent)))

    def summary(self) -> str:
        """``"time: reading 1.2 s, sampling 40.3 s (compiling 5.1 s), ...; total 50.2 s"`` (wall time)."""
        parts = [f"{name} {t.seconds:.1f} s" + (f" (compiling {t.compile_seconds:.1f} s)" if t.compile_seconds >= 0.05
                                                else "") for name, t in self.stages.items()]
        return f"time: {', '.join(parts)}; total {sum(t.seconds for t in self.stages.values()):.1f} s"
