"""TCCA: tensor CCA, the best rank-1 approximation of the whitened covariance tensor of all views."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from jaxgen.cca.data import CCAData
from jaxgen.cca.estimator import CCAEstimator
from jaxgen.cca.loop import CCASolution, alternate

__all__ = ["TCCA"]

HIGHEST = jax.lax.Precision.HIGHEST


def _inverse_sqrt(C):
    """C^{-1/2} (d, d) of a symmetric positive definite C by eigendecomposition."""
    values, vectors = jnp.linalg.eigh(C)
    return (vectors / jnp.sqrt(values)) @ vectors.T


def _unit(w):
    return w / jnp.linalg.norm(w)


@dataclass(frozen=True)
class TensorCCASolver:
    """ALS for max |⟨M, h₀ ∘ h₁ ∘ … ∘ h_K⟩| over unit vectors, M the covariance tensor of the whitened
    views Z₀ = X C₀₀^{-1/2}, Z_k = Y_k C_kk^{-1/2}, C_kk = cov(view k) + ε I.

    The tensor is never formed: the contraction of M with every factor but view j is
    Z_jᵀ (∏_{i≠j} Z_i h_i) / n, an O(n d_j) product. ALS finds a local maximum, so it runs from
    ``n_starts`` starts at once (vmapped: the uniform vector and fixed pseudo-random ones) and keeps
    the best.
    """

    n_starts: int = 10

    def __call__(self, data: CCAData, hyper: dict, tol, max_iter) -> CCASolution:
        X, Ys, n = data.X, data.Ys, data.n_rows
        K, q, p = Ys.shape[0], Ys.shape[2], X.shape[1]

        def whitener(A):
            return _inverse_sqrt(jnp.matmul(A.T, A, precision=HIGHEST) / (n - 1.0)
                                 + hyper["eps"] * jnp.eye(A.shape[1], dtype=A.dtype))

        Wx, Wy = whitener(X), jax.vmap(whitener)(Ys)                         # (p, p), (K, q, q)
        Zx = jnp.matmul(X, Wx, precision=HIGHEST)                            # (n, p)
        Zy = jnp.einsum("knq,kqr->knr", Ys, Wy, precision=HIGHEST)           # (K, n, q)

        def step(H, G, aux):
            scores_y = jnp.einsum("knq,qk->nk", Zy, G, precision=HIGHEST)    # (n, K)
            h = _unit(jnp.matmul(Zx.T, jnp.prod(scores_y, axis=1), precision=HIGHEST) / n)
            score_x = jnp.matmul(Zx, h, precision=HIGHEST)
            for k in range(K):                                                # Gauss–Seidel over views
                others = score_x * jnp.prod(jnp.delete(scores_y, k, axis=1), axis=1)
                g = _unit(jnp.matmul(Zy[k].T, others, precision=HIGHEST) / n)
                G = G.at[:, k].set(g)
                scores_y = scores_y.at[:, k].set(jnp.matmul(Zy[k], g, precision=HIGHEST))
            return jnp.broadcast_to(h[:, None], (p, K)), G, aux

        def tensor_value(solution):
            product = jnp.matmul(Zx, solution.U[:, 0], precision=HIGHEST) * jnp.prod(
                jnp.einsum("knq,qk->nk", Zy, solution.V, precision=HIGHEST), axis=1)
            return jnp.abs(product.sum() / n)

        starts_h, starts_g = _starts(self.n_starts, p, q, K, X.dtype)
        runs = jax.vmap(lambda h, g: alternate(step, jnp.broadcast_to(h[:, None], (p, K)), g, (), tol, max_iter)
                        )(starts_h, starts_g)
        best = jnp.argmax(jax.vmap(tensor_value)(runs))
        solution = jax.tree_util.tree_map(lambda a: a[best], runs)
        U = jnp.matmul(Wx, solution.U, precision=HIGHEST)
        V = jnp.einsum("kqr,rk->qk", Wy, solution.V, precision=HIGHEST)
        U, V = _unit_variance(X, U), _unit_variance_per_task(Ys, V)
        sign = jnp.sign(jnp.sum(jnp.matmul(X, U, precision=HIGHEST)
                                * jnp.einsum("knq,qk->nk", Ys, V, precision=HIGHEST), axis=0))
        return solution._replace(U=U, V=V * jnp.where(sign == 0, 1.0, sign))


def _starts(n_starts, p, q, K, dtype):
    """(S, p) and (S, q, K) unit starting factors: the uniform vector, then fixed pseudo-random ones."""
    key_h, key_g = jax.random.split(jax.random.key(0))
    h = jax.random.normal(key_h, (n_starts, p), dtype).at[0].set(1.0)
    g = jax.random.normal(key_g, (n_starts, q, K), dtype).at[0].set(1.0)
    return h / jnp.linalg.norm(h, axis=1, keepdims=True), g / jnp.linalg.norm(g, axis=1, keepdims=True)


def _unit_variance(X, U):
    """Scale U (p, K) so ‖X u_k‖ = 1 for X (n, p)."""
    return U / jnp.linalg.norm(jnp.matmul(X, U, precision=HIGHEST), axis=0)


def _unit_variance_per_task(Ys, V):
    """Scale V (q, K) so ‖Y_k v_k‖ = 1 for Ys (K, n, q)."""
    return V / jnp.linalg.norm(jnp.einsum("knq,qk->nk", Ys, V, precision=HIGHEST), axis=0)


class TCCA(CCAEstimator):
    """Tensor canonical correlation analysis.

    Luo, Y., Tao, D., Ramamohanarao, K., Xu, C., Wen, Y. "Tensor canonical correlation analysis for
    multi-view dimension reduction", IEEE TKDE 27(11):3111–3124 (2015).

    With the K + 1 views X, Y₁ … Y_K (columns standardized), maximizes the high-order canonical
    correlation

        ρ = C₀₁…K ×₀ h₀ᵀ ×₁ h₁ᵀ … ×_K h_Kᵀ   s.t. h_jᵀ (C_jj + ε I) h_j = 1,

    C₀₁…K = (1/n) Σᵢ x_i ∘ y_1i ∘ … ∘ y_Ki the covariance tensor, as the best rank-1 approximation of
    the whitened tensor, by alternating least squares (the tensor is never formed). One SNP weight
    vector serves every task: ``U_`` repeats it in its K columns; ``V_[:, k]`` is modality k's weight.
    ALS converges to a local maximum, so it runs from ``n_starts`` starts (vmapped) and keeps the best.
    Columns are scaled to ‖X̃u_k‖ = ‖Ỹ_kv_k‖ = 1 and signed so each training correlation is ≥ 0.

    Parameters
    ----------
    eps : ridge ε added to each view's covariance (needed when a view has more columns than rows).
    n_starts : ALS starts (the uniform vector and fixed pseudo-random ones).
    tol, max_iter, standardize : as in :class:`jaxgen.cca.MTS2CCA`.
    """

    _hyper_names = ("eps",)

    def __init__(self, eps=1e-2, n_starts=10, tol=1e-6, max_iter=400, standardize=True):
        self.eps, self.n_starts, self.tol, self.max_iter, self.standardize = eps, n_starts, tol, max_iter, standardize

    @property
    def solver(self):
        """ALS from ``n_starts`` starts (a static setting: a new value compiles a new solver)."""
        if int(self.n_starts) != self.n_starts or self.n_starts < 1:
            raise ValueError(f"n_starts must be a positive integer, got {self.n_starts}")
        return TensorCCASolver(n_starts=int(self.n_starts))
