"""MTS2CCA: multi-task structured sparse CCA (ℓ2,1 across tasks + LD and brain-network GraphNet)."""

from __future__ import annotations

from jaxgen.cca.estimator import CCAEstimator
from jaxgen.cca.penalties import GraphNet, RowL21
from jaxgen.cca.reweighting import ReweightedSolver

__all__ = ["MTS2CCA"]


class MTS2CCA(CCAEstimator):
    """Multi-task structured sparse CCA.

    Kim, M., …, Shen, L. "Multi-task learning based structured sparse canonical correlation analysis
    for brain imaging genetics", Medical Image Analysis 76:102297 (2022).

    X (n, p) SNPs against K modalities Y_k (n, q) on the same regions; minimizes

        Σ_k ‖Xu_k − Y_kv_k‖² + β₁‖U‖₂,₁ + β₂‖V‖₂,₁ + λ₁ tr(UᵀLxU) + λ₂ Σ_k v_kᵀLy_kv_k
        s.t. ‖Xu_k‖² ≤ 1, ‖Y_kv_k‖² ≤ 1,

    with ‖W‖₂,₁ = Σᵢ ‖Wᵢ,:‖₂ (a SNP across tasks, a region across modalities), by the authors'
    alternating reweighted iterations (columns standardized with ddof = 1; U, V, d₁, d₂ start at ones):

        U ← ((1+r₁)XᵀX + λ₁Lx + β₁diag(d₁))⁻¹ [XᵀY_kv_k]_k,  u_k ← u_k/√(u_kᵀXᵀXu_k),
        d₁ᵢ = 1/(2√(Σ_k (U_ik² + ε))),
        v_k ← ((1+r₂)Y_kᵀY_k + λ₂Ly_k + β₂diag(d₂))⁻¹ Y_kᵀXu_k,  v_k ← v_k/√(v_kᵀY_kᵀY_kv_k),
        d₂ᵢ = 1/(2√(Σ_k (V_ik² + ε))),  ε = 2.220446e-16,

    until the largest relative change max(‖ΔU‖_F/‖U‖_F, ‖ΔV‖_F/‖V‖_F) < ``tol`` or ``max_iter``
    iterations (``tol=0`` runs exactly ``max_iter``). With K = 1 and β = λ = 0 the iterations are a
    power method for the first canonical pair.

    Parameters
    ----------
    beta1, beta2 : ℓ2,1 strengths on U and V.   lam1, lam2 : GraphNet strengths (Lx, Ly).
    r1, r2 : ridge terms on XᵀX and Y_kᵀY_k.    tol, max_iter : stopping rule.
    standardize : standardize columns (mean 0, sd 1, ddof = 1) on the training rows.
    """

    _hyper_names = ("beta1", "beta2", "lam1", "lam2", "r1", "r2")
    solver = ReweightedSolver(x_penalties=(("lam1", GraphNet()), ("beta1", RowL21())),
                              y_penalties=(("lam2", GraphNet()), ("beta2", RowL21())))

    def __init__(self, beta1=1.0, beta2=1.0, lam1=1.0, lam2=1.0, r1=1.0, r2=1.0, tol=1e-5, max_iter=400,
                 standardize=True):
        self.beta1, self.beta2, self.lam1, self.lam2 = beta1, beta2, lam1, lam2
        self.r1, self.r2, self.tol, self.max_iter, self.standardize = r1, r2, tol, max_iter, standardize
