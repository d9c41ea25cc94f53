"""JCB-SCCA: joint connectivity-based sparse CCA, iterated as the authors' published code iterates it."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.cca.data import CCAData
from jaxgen.cca.estimator import CCAEstimator
from jaxgen.cca.loop import CCASolution, alternate
from jaxgen.cca.tcca import _unit_variance, _unit_variance_per_task

__all__ = ["JCBSCCA", "fuse_modalities", "soft_threshold_at_rank"]

HIGHEST = jax.lax.Precision.HIGHEST
MATLAB_EPS = float(np.finfo(np.float64).eps)     # 2.220446049250313e-16, the ``eps`` of d = 1/√(w² + eps)


def soft_threshold_at_rank(z, threshold_of, rank):
    """sign(z)·max(|z| − t, 0) with t the ``rank``-th largest entry of ``threshold_of`` (d,).

    z : (d,) or (d, K); rank : a whole number in [1, d] (traced). Every entry at or below t becomes
    0, so rank − 1 entries of ``threshold_of`` stay non-zero (fewer on ties).
    """
    d = threshold_of.shape[0]
    t = jnp.sort(threshold_of)[d - jnp.asarray(rank).astype(int)]
    return jnp.sign(z) * jnp.maximum(jnp.abs(z) - t, 0.0)


def fuse_modalities(B, tau):
    """argmin_W ½‖W − B‖_F² + τ Σ_{k<j} Σᵢ |W_ik − W_ij| for B (q, K), row by row (exact).

    The minimizer keeps each row's order, so on the sorted row b₍₁₎ ≤ … ≤ b₍K₎ it is the isotonic
    (non-decreasing) regression of z₍ᵣ₎ = b₍ᵣ₎ − τ(2r − K − 1), computed by the min–max formula
    w₍ᵣ₎ = max_{a≤r} min_{b≥r} mean(z₍ₐ₎ … z₍b₎). For K = 2 it moves the two entries towards each
    other by min(τ, |b₁ − b₂|/2): the published two-modality step.
    """
    K = B.shape[1]
    order = jnp.argsort(B, axis=1)
    rank = jnp.arange(K)
    z = jnp.take_along_axis(B, order, axis=1) - tau * (2 * rank - K + 1)
    # span[a, b, i] = 1 for a ≤ i ≤ b: means[:, a, b] = mean(z_a … z_b) (0 where a > b, never used)
    span = ((rank[:, None, None] <= rank) & (rank[None, :, None] >= rank)).astype(B.dtype)
    means = jnp.einsum("abi,qi->qab", span, z) / jnp.maximum(rank[None, :] - rank[:, None] + 1, 1)
    tail = rank[None, None, :] >= rank[:, None, None]                                  # [r, ·, b]: b ≥ r
    lowest = jnp.min(jnp.where(tail, means[:, None], jnp.inf), axis=3)                 # (q, r, a)
    head = rank[None, :] <= rank[:, None]                                              # [r, a]: a ≤ r
    fused_sorted = jnp.max(jnp.where(head, lowest, -jnp.inf), axis=2)                  # (q, r)
    return jnp.take_along_axis(fused_sorted, jnp.argsort(order, axis=1), axis=1)


def _connectivity_term(Lw, w):
    """(L w) ⊙ w / √(w² + eps): the code's diag(H w)·diag(d)·w with d = 1/√(w² + eps)."""
    return Lw * w / jnp.sqrt(w ** 2 + MATLAB_EPS)


@dataclass(frozen=True)
class PublishedJCBSolver:
    """The iterations of the authors' ``jcbscca.m`` (see :class:`JCBSCCA`), on the shared loop with
    their relative-objective stopping rule."""

    def __call__(self, data: CCAData, hyper: dict, tol, max_iter) -> CCASolution:
        """Fit on ``data``; returns U (p, K) (the shared u in every column), V (q, K)."""
        X, Ys, Lx, Ly = data.X, data.Ys, data.Lx, data.Ly
        p, (K, _, q) = X.shape[1], Ys.shape
        dtype = X.dtype
        cross = jnp.einsum("np,knq->kpq", X, Ys, precision=HIGHEST)                     # (K, p, q) XᵀY_k
        lam1, tau, beta1, beta2 = hyper["lam1"], hyper["tau"], hyper["n_keep_x"], hyper["n_keep_y"]
        lam2 = jnp.broadcast_to(hyper["lam2"], (K,))
        u0 = jnp.full(p, 1.0 / p, dtype)
        pairs = jnp.triu(jnp.ones((K, K), dtype), 1)

        def quadratic(w, L):
            return w @ jnp.matmul(L, w, precision=HIGHEST)

        def objective(u, V):
            """The value the code records: only the last modality's terms survive its loop over k."""
            last = V[:, -1]
            fusion = jnp.sum(pairs * jnp.abs(V[:, :, None] - V[:, None, :]).sum(axis=0))
            return (-u @ jnp.matmul(cross[-1], last, precision=HIGHEST) + lam2[-1] * quadratic(last, Ly[-1])
                    + beta2 * jnp.abs(last).sum() + beta1 * jnp.abs(u).sum() + tau * fusion
                    + lam1 * quadratic(u, Lx))

        def step(u, V, _):
            a = (u0 + jnp.einsum("kpq,qk->p", cross, V, precision=HIGHEST) / q
                 + lam1 * _connectivity_term(jnp.matmul(Lx, u, precision=HIGHEST), u))
            u = soft_threshold_at_rank(a, jnp.abs(a), beta1)
            u = u / jnp.linalg.norm(u)
            B = (jnp.einsum("kpq,p->qk", cross, u, precision=HIGHEST) / p
                 + lam2 * _connectivity_term(jnp.einsum("kqr,rk->qk", Ly, V, precision=HIGHEST), V))
            B = fuse_modalities(B, tau)
            V = soft_threshold_at_rank(B, jnp.abs(B[:, 0]), beta2)                   # modality 1's magnitudes
            V = V / jnp.linalg.norm(V)
            return u, V, objective(u, V)

        def objective_change(new, old):
            value, previous = new[2], old[2]
            return jnp.where(jnp.isfinite(previous), jnp.abs((value - previous) / previous), jnp.inf)

        solution = alternate(step, u0, jnp.full((q, K), 1.0 / q, dtype), jnp.asarray(jnp.inf, dtype), tol, max_iter,
                             change=objective_change)
        U = jnp.broadcast_to(solution.U[:, None], (p, K))
        return solution._replace(U=_unit_variance(X, U), V=_unit_variance_per_task(Ys, solution.V))


class JCBSCCA(CCAEstimator):
    """Joint connectivity-based sparse CCA, as the authors' published code computes it.

    Kim, M., Won, J. H., Youn, J., Park, H. "Joint-connectivity-based sparse canonical correlation
    analysis of imaging genetics for detecting biomarkers of Parkinson's disease", IEEE TMI
    39(1):23–34 (2020); code: ``jcbscca.m`` and ``get_connectivity.m`` in
    github.com/mansooru/imaging.genetics.jcb-scca (written anew here from its equations).

    One SNP weight u (p,) shared by the K modalities and one v_k (q,) per modality, for X (n, p)
    and Y_k (n, q) with columns z-scored (ddof = 1), H_x = Lx (p, p), H_k = Ly[k] (q, q). From
    u₀ = 1/p, v_k = 1/q (the starts of the authors' example script), each iteration runs

        a   = u₀ + Σ_k XᵀY_k v_k / q + λ₁ (H_x u) ⊙ u / √(u² + eps)       (u₀ again every iteration)
        u   ← S(a, t₁) / ‖S(a, t₁)‖,  t₁ = the β₁-th largest |a|
        b_k = Y_kᵀX u / p + λ₂ₖ (H_k v_k) ⊙ v_k / √(v_k² + eps)
        B   ← the fused step on [b₁ … b_K]  (K = 2: b₁, b₂ move towards each other by min(τ, |b₁ − b₂|/2))
        V   ← S(B, t₂) / ‖S(B, t₂)‖_F,  t₂ = the β₂-th largest |b₁|: the magnitudes of modality 1
              only (the code sorts each modality's column and indexes the first), applied to all,

    with S(z, t) = sign(z)·max(|z| − t, 0), so β − 1 entries stay non-zero, and eps = 2⁻⁵². It records

        f = −uᵀXᵀY_K v_K + λ₂_K v_KᵀH_K v_K + β₂‖v_K‖₁ + β₁‖u‖₁ + τ Σ_{k<j}‖v_k − v_j‖₁ + λ₁ uᵀH_x u

    (the code's loop over modalities assigns rather than adds, so only the last modality's terms
    remain) and stops at the first iteration i ≥ 2 with |f_i − f_{i−1}| / |f_{i−1}| < ``tol``, or
    after ``max_iter``; ``tol = 0`` runs exactly ``max_iter``. Finally u and each v_k are scaled to
    ‖X u‖ = ‖Y_k v_k‖ = 1. Omitted Laplacians are the code's ``get_connectivity(·, 2)``: D − R² of the
    columns' correlation R with zero diagonal (:func:`jaxgen.graphs.correlation_laplacian`).

    K ≠ 2: the code is written for two modalities. Here its loops over modalities run over all K,
    and the fused step is the exact proximal step of τ Σ_{k<j} |w_k − w_j| over all pairs
    (:func:`fuse_modalities`), which is the code's two-modality step when K = 2. All pairs rather
    than consecutive modalities: modalities have no order, the all-pairs step is the same whatever
    their order, and its proximal step has a closed form. K = 1 has no fused step.

    Parameters
    ----------
    variant : "published", the authors' iterations (the only one).
    n_keep_x, n_keep_y : the code's β₁, β₂: whole numbers in [2, p] and [2, q] (soft-thresholding at
        the β-th largest magnitude keeps β − 1); None is p (or q), the loosest the code allows.
    lam1 : λ₁, the SNP connectivity strength.   lam2 : λ₂ₖ, one number or one per modality.
    tau : τ, the fusion between modalities.
    tol, max_iter : the relative-objective stopping rule (the code's 0.005 and 400).
    standardize : z-score the columns on the training rows (the example script's ``zscore``).
    """

    _hyper_names = ("n_keep_x", "n_keep_y", "lam1", "lam2", "tau")
    _per_task_hypers = ("lam2",)
    _failure_cause = ("a modality kept no region, so its scaling divides 0 by 0 as the code's does (the region "
                      "threshold is modality 1's n_keep_y-th largest magnitude); increase n_keep_y or tau")
    solver = PublishedJCBSolver()

    def __init__(self, variant="published", n_keep_x=None, n_keep_y=None, lam1=0.1, lam2=0.1, tau=0.1, tol=0.005,
                 max_iter=400, standardize=True):
        self.variant, self.n_keep_x, self.n_keep_y = variant, n_keep_x, n_keep_y
        self.lam1, self.lam2, self.tau = lam1, lam2, tau
        self.tol, self.max_iter, self.standardize = tol, max_iter, standardize

    def _hyper_value(self, name, value, inputs):
        if name in ("n_keep_x", "n_keep_y") and value is None:
            if inputs is None:
                raise ValueError(f"JCBSCCA: {name}=None stands for all features, known only with the data")
            return float(inputs.X.shape[1] if name == "n_keep_x" else inputs.Ys.shape[2])
        return super()._hyper_value(name, value, inputs)

    def _check_hyper(self, values, inputs):
        if self.variant != "published":
            raise ValueError(f"JCBSCCA: variant must be 'published', got {self.variant!r}")
        if inputs is None:
            return
        for name, size, what in (("n_keep_x", inputs.X.shape[1], "p (SNPs)"),
                                 ("n_keep_y", inputs.Ys.shape[2], "q (regions)")):
            value = values[name]
            if value != int(value) or not 2 <= value <= size:
                raise ValueError(f"JCBSCCA: {name} must be a whole number between 2 and {what} = {size}, got {value:g}")
