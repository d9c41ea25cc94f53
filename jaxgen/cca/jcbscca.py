"""JCB-SCCA: joint connectivity-based sparse CCA, a PMD-style solver with cardinality constraints."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from jaxgen.cca.data import CCAData
from jaxgen.cca.estimator import CCAEstimator
from jaxgen.cca.loop import CCASolution, alternate
from jaxgen.cca.tcca import _unit_variance, _unit_variance_per_task

__all__ = ["JCBSCCA"]

HIGHEST = jax.lax.Precision.HIGHEST


def _keep_largest(z, fraction):
    """Zero all but the ⌈fraction·d⌉ (at least 1) largest-magnitude entries of z (d,), then scale to
    unit norm: the maximizer of wᵀz over unit vectors with that many non-zeros."""
    d = z.shape[0]
    count = jnp.clip(jnp.ceil(fraction * d), 1, d).astype(int)
    threshold = jnp.sort(jnp.abs(z))[d - count]
    kept = jnp.where(jnp.abs(z) >= threshold, z, 0.0)
    return kept / jnp.linalg.norm(kept)


def _largest_eigenvalue(L):
    """λ_max of a symmetric L (..., d, d)."""
    return jnp.linalg.eigvalsh(L)[..., -1]


@dataclass(frozen=True)
class ConnectivitySCCASolver:
    """Minorize–maximize ascent of the JCB-SCCA objective (see :class:`JCBSCCA`).

    Each penalty −λ wᵀLw is made convex on the unit sphere by adding c‖w‖² with c ≥ λ λ_max(L), so its
    linearization at the current point is a minorizer; the step is then the top-s truncation of the
    minorizer's gradient, normalized — the PMD update with a cardinality constraint. Every step
    increases the objective.
    """

    def __call__(self, data: CCAData, hyper: dict, tol, max_iter) -> CCASolution:
        X, Ys = data.X, data.Ys
        K, q, p = Ys.shape[0], Ys.shape[2], X.shape[1]
        cross = jnp.einsum("np,knq->kpq", X, Ys, precision=HIGHEST) / (data.n_rows - 1.0)   # (K, p, q)
        lam1, lam2, gamma = hyper["lam1"], hyper["lam2"], hyper["gamma"]
        shift_u = lam1 * _largest_eigenvalue(data.Lx)
        shift_v = lam2 * jnp.max(_largest_eigenvalue(data.Ly)) + gamma * K
        keep_u = jax.vmap(_keep_largest, in_axes=(1, None), out_axes=1)

        def step(U, V, aux):
            grad_u = jnp.einsum("kpq,qk->pk", cross, V) + 2 * (shift_u * U - lam1 * data.Lx @ U)
            U = keep_u(grad_u, hyper["keep_x"])
            fusion = K * V - V.sum(axis=1, keepdims=True)                 # ∂/∂v_k of ½Σ_{k<j}‖v_k − v_j‖²
            grad_v = (jnp.einsum("kpq,pk->qk", cross, U)
                      + 2 * (shift_v * V - lam2 * jnp.einsum("kqr,rk->qk", data.Ly, V) - gamma * fusion))
            return U, keep_u(grad_v, hyper["keep_y"]), aux

        dtype = X.dtype
        solution = alternate(step, jnp.full((p, K), 1.0 / jnp.sqrt(p), dtype),
                             jnp.full((q, K), 1.0 / jnp.sqrt(q), dtype), (), tol, max_iter)
        return solution._replace(U=_unit_variance(X, solution.U), V=_unit_variance_per_task(Ys, solution.V))


class JCBSCCA(CCAEstimator):
    """Joint connectivity-based sparse CCA.

    Kim, M., Won, J. H., Youn, J., Park, H. "Joint-connectivity-based sparse canonical correlation
    analysis of imaging genetics for detecting biomarkers of Parkinson's disease", IEEE TMI
    39(1):23–34 (2020).

    Implemented objective (PMD form: within-view covariances replaced by the identity):

        max Σ_k u_kᵀ Σ_xy,k v_k − λ₁ Σ_k u_kᵀLxu_k − λ₂ Σ_k v_kᵀLy_kv_k − γ Σ_{k<j} ‖v_k − v_j‖²
        s.t. ‖u_k‖₂ = ‖v_k‖₂ = 1, ‖u_k‖₀ ≤ ⌈keep_x·p⌉, ‖v_k‖₀ ≤ ⌈keep_y·q⌉,

    Σ_xy,k = X̃ᵀỸ_k/(n−1): cardinality constraints, a connectivity (brain-network Laplacian) penalty
    and a fusion term tying the modalities' region weights. The ℓ2 fusion (rather than ℓ1) keeps every
    update closed-form. Solved by minorize–maximize PMD-style alternation (monotone ascent); the
    fitted weights are rescaled to ‖X̃u_k‖ = ‖Ỹ_kv_k‖ = 1 like the rest of the family.

    Parameters
    ----------
    keep_x, keep_y : fractions in (0, 1] of SNPs / regions kept per task.
    lam1, lam2 : Laplacian (LD / connectivity) strengths.  gamma : fusion strength between modalities.
    tol, max_iter, standardize : as in :class:`jaxgen.cca.MTS2CCA`.
    """

    _hyper_names = ("keep_x", "keep_y", "lam1", "lam2", "gamma")
    solver = ConnectivitySCCASolver()

    def __init__(self, keep_x=0.2, keep_y=0.3, lam1=1.0, lam2=1.0, gamma=1.0, tol=1e-6, max_iter=400,
                 standardize=True):
        self.keep_x, self.keep_y, self.lam1, self.lam2, self.gamma = keep_x, keep_y, lam1, lam2, gamma
        self.tol, self.max_iter, self.standardize = tol, max_iter, standardize

    def _check_hyper(self, values):
        for name in ("keep_x", "keep_y"):
            if not 0 < values[name] <= 1:
                raise ValueError(f"JCBSCCA: {name} must be a fraction in (0, 1], got {values[name]}")
