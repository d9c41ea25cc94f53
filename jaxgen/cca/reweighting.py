"""One iteratively reweighted alternating solver; MTS2CCA, MTSCCA, MTGSCCA and SCCA configure it.

Each iteration solves, for the SNP side and then the region side,

    U ← ((1 + r₁) XᵀX + Σ_pen h_pen M_pen)⁻¹ [Xᵀ Y_k v_k]_k,   u_k ← u_k / √(u_kᵀXᵀXu_k),
    v_k ← ((1 + r₂) Y_kᵀY_k + Σ_pen h_pen M_pen,k)⁻¹ Y_kᵀ X u_k,  v_k ← v_k / √(v_kᵀY_kᵀY_kv_k),

where each penalty (:mod:`jaxgen.cca.penalties`) contributes its majorizer M_pen, reweighted from the
previous weights, and h_pen is its hyperparameter. When every term of a side is shared across tasks
(T = 1) the K columns are solved with one Cholesky factor, as the published MTS2CCA code does.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve

from jaxgen.cca.data import CCAData
from jaxgen.cca.loop import CCASolution, alternate

__all__ = ["ReweightedSolver"]

HIGHEST = jax.lax.Precision.HIGHEST


@dataclass(frozen=True)
class ReweightedSolver:
    """The engine, configured by the penalties of each side.

    x_penalties, y_penalties : tuples of (hyperparameter name, penalty object), in the order their
        majorizers are added to the system. ``hyper`` (a dict of scalars, vmappable) must hold these
        names and ``r1``, ``r2``.
    """

    x_penalties: tuple
    y_penalties: tuple

    def __call__(self, data: CCAData, hyper: dict, tol, max_iter) -> CCASolution:
        """Fit on ``data``; returns U (p, K), V (q, K), iterations and convergence."""
        X, Ys = data.X, data.Ys
        p, (K, _, q) = X.shape[1], Ys.shape
        XX = jnp.matmul(X.T, X, precision=HIGHEST)[None]                    # (1, p, p)
        YY = jnp.einsum("knq,knr->kqr", Ys, Ys, precision=HIGHEST)          # (K, q, q)
        XY = jnp.einsum("np,knq->kpq", X, Ys, precision=HIGHEST)            # (K, p, q)

        def step(U, V, reweights):
            rw_x, rw_y = reweights
            U = _side_update(XX, self.x_penalties, rw_x, hyper, hyper["r1"],
                             jnp.einsum("kpq,qk->pk", XY, V, precision=HIGHEST), data, "x")
            rw_x = tuple(pen.reweight(U, data, "x") for _, pen in self.x_penalties)
            V = _side_update(YY, self.y_penalties, rw_y, hyper, hyper["r2"],
                             jnp.einsum("kpq,pk->qk", XY, U, precision=HIGHEST), data, "y")
            rw_y = tuple(pen.reweight(V, data, "y") for _, pen in self.y_penalties)
            return U, V, (rw_x, rw_y)

        dtype = X.dtype
        reweights = (tuple(jnp.asarray(pen.init(p, K), dtype) for _, pen in self.x_penalties),
                     tuple(jnp.asarray(pen.init(q, K), dtype) for _, pen in self.y_penalties))
        return alternate(step, jnp.ones((p, K), dtype), jnp.ones((q, K), dtype), reweights, tol, max_iter)


def _side_update(gram, penalties, reweights, hyper, ridge, rhs, data, side):
    """Solve one side's system for all K columns and scale each to unit variance.

    gram : (T, d, d) with T ∈ {1, K}; rhs : (d, K). Returns W (d, K) with w_kᵀ gram_k w_k = 1.
    """
    A = (1.0 + ridge) * gram
    for (name, pen), state in zip(penalties, reweights):
        A = A + hyper[name] * pen.matrix(state, data, side)
    W = _solve(A, rhs)
    return W / jnp.sqrt(_quadratic_forms(gram, W))


def _solve(A, rhs):
    """Solve A W = rhs column by column with A (T, d, d) SPD, T = 1 (one factor) or K."""
    if A.shape[0] == 1:
        return cho_solve(cho_factor(A[0], lower=True), rhs)
    return jax.vmap(lambda a, b: cho_solve(cho_factor(a, lower=True), b), in_axes=(0, 1), out_axes=1)(A, rhs)


def _quadratic_forms(gram, W):
    """(K,) w_kᵀ G_k w_k for gram (T, d, d), T ∈ {1, K}, and W (d, K)."""
    GW = jnp.matmul(gram[0], W, precision=HIGHEST) if gram.shape[0] == 1 \
        else jnp.einsum("kde,ek->dk", gram, W, precision=HIGHEST)
    return jnp.sum(W * GW, axis=0)
