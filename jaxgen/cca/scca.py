"""SCCA: single-task sparse CCA per modality (ℓ1, with GraphNet and fused variants)."""

from __future__ import annotations

from jaxgen.cca.estimator import CCAEstimator
from jaxgen.cca.penalties import L1, Fused, GraphNet
from jaxgen.cca.reweighting import ReweightedSolver

__all__ = ["SCCA"]


class SCCA(CCAEstimator):
    """Sparse CCA fitted to each modality on its own (no sharing across tasks).

    Witten, D. M., Tibshirani, R., Hastie, T. "A penalized matrix decomposition, with applications to
    sparse principal components and canonical correlation analysis", Biostatistics 10(3):515–534
    (2009); GraphNet variant after Du, L., et al. "GN-SCCA", Bioinformatics (2016).

    For each task k independently, minimizes

        ‖Xu_k − Y_kv_k‖² + α₁‖u_k‖₁ + α₂‖v_k‖₁ + λ₁ u_kᵀLxu_k + λ₂ v_kᵀLy_kv_k + φ₁ Σᵢ|u_{i+1,k} − u_ik|
        s.t. ‖Xu_k‖² ≤ 1, ‖Y_kv_k‖² ≤ 1,

    by the alternating reweighted iterations of :class:`MTS2CCA` (λ = φ = 0 by default: plain ℓ1
    SCCA; λ > 0 the GraphNet variant; φ₁ > 0 fuses neighbouring SNPs in genome order).

    Parameters
    ----------
    alpha1, alpha2 : ℓ1 strengths.  lam1, lam2 : GraphNet strengths.  fused1 : fused-lasso strength on U.
    r1, r2, tol, max_iter, standardize : as in :class:`MTS2CCA`.
    """

    _hyper_names = ("alpha1", "alpha2", "lam1", "lam2", "fused1", "r1", "r2")
    solver = ReweightedSolver(x_penalties=(("alpha1", L1()), ("lam1", GraphNet()), ("fused1", Fused())),
                              y_penalties=(("alpha2", L1()), ("lam2", GraphNet())))

    def __init__(self, alpha1=1.0, alpha2=1.0, lam1=0.0, lam2=0.0, fused1=0.0, r1=1.0, r2=1.0, tol=1e-5,
                 max_iter=400, standardize=True):
        self.alpha1, self.alpha2, self.lam1, self.lam2, self.fused1 = alpha1, alpha2, lam1, lam2, fused1
        self.r1, self.r2, self.tol, self.max_iter, self.standardize = r1, r2, tol, max_iter, standardize
