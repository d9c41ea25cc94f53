"""How compiled work shares the host CPU with the BLAS library that jaxlib's LAPACK kernels call.

On CPU, jaxlib runs Cholesky factorizations and triangular solves through LAPACK from SciPy's
OpenBLAS. OpenBLAS starts its own threads for every call, even on a 53 × 53 matrix, and those
threads compete with XLA's thread pool (and with other CPU devices) for the same cores. Measured on
2 cores: a Gibbs sweep of the spatial LMM (n = 500, p = 50, c = 20, 4 chains) took 1.24 ms instead
of 0.68 ms, and the float64 MTS2CCA CV grid of the CCA benchmark, sharded over two CPU devices,
took 14.2 s instead of 6.4 s. :func:`single_threaded_blas` limits BLAS to one thread while compiled
samplers and solvers run: their small solves do not need more, and XLA keeps the cores.
"""

from __future__ import annotations

from contextlib import contextmanager

from threadpoolctl import threadpool_limits

__all__ = ["single_threaded_blas"]


@contextmanager
def single_threaded_blas():
    """Within the block, every loaded BLAS library (OpenBLAS, MKL, BLIS) uses one thread.

    Compiled JAX work is asynchronous: call ``jax.block_until_ready`` inside the block so that
    the computation finishes before the limit is lifted.
    """
    import scipy.linalg.cython_lapack  # noqa: F401  jaxlib's LAPACK: load it so that it is limited too

    with threadpool_limits(limits=1, user_api="blas"):
        yield
