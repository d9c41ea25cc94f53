"""Penalties of the reweighting CCA engine, each a small object with the same three functions.

Every penalty on a weight matrix W (d, K) (d features, K tasks) is handled by iterative reweighting:
at each iteration it contributes a quadratic majorizer wᵀMw to the linear system of its side, with
M (T, d, d) built from a *reweighting state* computed from the previous weights (T = 1 when the
matrix is shared by all K columns, T = K when each column has its own). The three functions are

* ``init(d, K)`` – the reweighting state before the first iteration (all ones, as in the published
  algorithms);
* ``reweight(W, data, side)`` – the state for the next iteration from the new weights;
* ``matrix(state, data, side)`` – the majorizer M (T, d, d);
* ``value(W, data, side)`` – the penalty itself, for objectives and tests.

ε = 2.220446e-16 (double machine epsilon) keeps the reweights finite when a row or entry vanishes.
``side`` is ``"x"`` (SNP weights U, p rows) or ``"y"`` (region weights V, q rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

__all__ = ["EPS", "Fused", "GraphNet", "GroupL21", "L1", "RowL21"]

EPS = 2.220446e-16


def _diagonal(d_values):
    """(T, d) reweights → (T, d, d) diagonal matrices."""
    return d_values[:, :, None] * jnp.eye(d_values.shape[-1], dtype=d_values.dtype)


@dataclass(frozen=True)
class RowL21:
    """ℓ2,1 across tasks, ‖W‖₂,₁ = Σᵢ ‖Wᵢ,:‖₂: a feature is kept or dropped for all tasks together.

    Reweight dᵢ = 1 / (2 √(Σ_k (W_ik² + ε))), one diagonal shared by the K columns (T = 1).
    """

    def init(self, d, K):
        return jnp.ones((1, d))

    def reweight(self, W, data, side):
        return (0.5 / jnp.sqrt(jnp.sum(W ** 2 + EPS, axis=1)))[None, :]

    def matrix(self, state, data, side):
        return _diagonal(state)

    def value(self, W, data, side):
        return jnp.sum(jnp.sqrt(jnp.sum(W ** 2, axis=1)))


@dataclass(frozen=True)
class L1:
    """Individual sparsity ‖W‖₁,₁ = Σᵢₖ |W_ik|, each task's support its own.

    Reweight d_ik = 1 / (2 √(W_ik² + ε)), one diagonal per column (T = K).
    """

    def init(self, d, K):
        return jnp.ones((K, d))

    def reweight(self, W, data, side):
        return (0.5 / jnp.sqrt(W ** 2 + EPS)).T

    def matrix(self, state, data, side):
        return _diagonal(state)

    def value(self, W, data, side):
        return jnp.sum(jnp.abs(W))


@dataclass(frozen=True)
class GroupL21:
    """Group ℓ2,1 over SNP groups, Σ_g ‖W_g,:‖_F, with groups from ``data.groups`` (p,) (LD blocks or
    genes): a whole group is kept or dropped for all tasks. SNP side only.

    Reweight dᵢ = 1 / (2 √(Σ_{j ∈ g(i)} Σ_k (W_jk² + ε))), shared by the K columns (T = 1).
    """

    def init(self, d, K):
        return jnp.ones((1, d))

    def reweight(self, W, data, side):
        group_sq = jax.ops.segment_sum(jnp.sum(W ** 2 + EPS, axis=1), data.groups, num_segments=W.shape[0])
        return (0.5 / jnp.sqrt(group_sq[data.groups]))[None, :]

    def matrix(self, state, data, side):
        return _diagonal(state)

    def value(self, W, data, side):
        group_sq = jax.ops.segment_sum(jnp.sum(W ** 2, axis=1), data.groups, num_segments=W.shape[0])
        return jnp.sum(jnp.sqrt(group_sq))


@dataclass(frozen=True)
class GraphNet:
    """GraphNet smoothness Σ_k w_kᵀ L w_k with the side's Laplacian (``data.Lx`` (p, p) or
    ``data.Ly`` (K, q, q)); quadratic already, so there is nothing to reweight."""

    def init(self, d, K):
        return jnp.zeros((0,))

    def reweight(self, W, data, side):
        return jnp.zeros((0,), W.dtype)

    def matrix(self, state, data, side):
        return data.Lx[None] if side == "x" else data.Ly

    def value(self, W, data, side):
        L = self.matrix(None, data, side)
        return jnp.sum(jnp.einsum("dk,tde,ek->k", W, L, W) if L.shape[0] == 1
                       else jnp.einsum("dk,kde,ek->k", W, L, W))


@dataclass(frozen=True)
class Fused:
    """Fused lasso along the feature order (genome order for SNPs), Σ_k Σᵢ |W_{i+1,k} − W_ik|.

    Reweight c_ik = 1 / (2 √((W_{i+1,k} − W_ik)² + ε)) per edge and task; the majorizer is the
    weighted chain Laplacian Σᵢ c_ik (e_{i+1} − e_i)(e_{i+1} − e_i)ᵀ (T = K).
    """

    def init(self, d, K):
        return jnp.ones((K, d - 1))

    def reweight(self, W, data, side):
        return (0.5 / jnp.sqrt(jnp.diff(W, axis=0) ** 2 + EPS)).T

    def matrix(self, state, data, side):
        degree = jnp.pad(state, ((0, 0), (1, 0))) + jnp.pad(state, ((0, 0), (0, 1)))
        off = jax.vmap(lambda c: jnp.diag(c, 1) + jnp.diag(c, -1))(state)
        return _diagonal(degree) - off

    def value(self, W, data, side):
        return jnp.sum(jnp.abs(jnp.diff(W, axis=0)))
