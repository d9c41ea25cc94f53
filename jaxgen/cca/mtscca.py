"""MTSCCA and MTGSCCA: multi-task sparse CCA with ℓ2,1 across tasks, individual ℓ1, and SNP groups."""

from __future__ import annotations

from jaxgen.cca.estimator import CCAEstimator
from jaxgen.cca.penalties import L1, GroupL21, RowL21
from jaxgen.cca.reweighting import ReweightedSolver
from jaxgen.graphs import group_labels, ld_blocks

__all__ = ["MTGSCCA", "MTSCCA"]

_MTSCCA_X = (("beta1", RowL21()), ("alpha1", L1()))
_MTSCCA_Y = (("beta2", RowL21()), ("alpha2", L1()))


class MTSCCA(CCAEstimator):
    """Multi-task sparse CCA.

    Du, L., et al. "Identifying diagnosis-specific genotype–phenotype associations via joint
    multitask sparse canonical correlation analysis and classification", and Du, L., Liu, F., Liu, K.,
    Yao, X., Risacher, S. L., Han, J., Saykin, A. J., Shen, L. "Associating multi-modal brain imaging
    phenotypes and genetic risk factors via a dirty multi-task learning method", IEEE/ACM TCBB
    18(1):227–239 (2021).

    Minimizes, by the same alternating reweighted iterations as :class:`MTS2CCA`,

        Σ_k ‖Xu_k − Y_kv_k‖² + β₁‖U‖₂,₁ + α₁‖U‖₁,₁ + β₂‖V‖₂,₁ + α₂‖V‖₁,₁
        s.t. ‖Xu_k‖² ≤ 1, ‖Y_kv_k‖² ≤ 1:

    ℓ2,1 shares a support across tasks, ℓ1,1 lets each task keep its own features. The ℓ1 reweights
    are per task, so each u_k (and v_k) has its own system ((1+r)XᵀX + β D₂,₁ + α D₁,ₖ) u_k = XᵀY_kv_k.

    Parameters
    ----------
    beta1, beta2 : ℓ2,1 strengths.   alpha1, alpha2 : ℓ1,1 strengths.   r1, r2 : ridge terms.
    tol, max_iter, standardize : as in :class:`MTS2CCA`.
    """

    _hyper_names = ("beta1", "beta2", "alpha1", "alpha2", "r1", "r2")
    solver = ReweightedSolver(x_penalties=_MTSCCA_X, y_penalties=_MTSCCA_Y)

    def __init__(self, beta1=1.0, beta2=1.0, alpha1=1.0, alpha2=1.0, r1=1.0, r2=1.0, tol=1e-5, max_iter=400,
                 standardize=True):
        self.beta1, self.beta2, self.alpha1, self.alpha2 = beta1, beta2, alpha1, alpha2
        self.r1, self.r2, self.tol, self.max_iter, self.standardize = r1, r2, tol, max_iter, standardize


class MTGSCCA(CCAEstimator):
    """Multi-task group-sparse CCA: :class:`MTSCCA` plus a group ℓ2,1 term over SNP groups.

    Minimizes Σ_k ‖Xu_k − Y_kv_k‖² + β₁‖U‖₂,₁ + α₁‖U‖₁,₁ + γ₁ Σ_g ‖U_g,:‖_F + β₂‖V‖₂,₁ + α₂‖V‖₁,₁,
    with ‖Xu_k‖² ≤ 1, ‖Y_kv_k‖² ≤ 1; U_g,: holds the rows of the SNPs in group g (an LD block or a gene)
    for every task, so whole groups enter or leave together.

    Parameters
    ----------
    gamma1 : group ℓ2,1 strength.
    groups : (p,) labels (gene names, block ids …) or None for LD blocks found in X
        (:func:`jaxgen.graphs.ld_blocks`, neighbouring SNPs with r² ≥ 0.1 share a block).
    Others as in :class:`MTSCCA`.
    """

    _hyper_names = ("beta1", "beta2", "alpha1", "alpha2", "gamma1", "r1", "r2")
    solver = ReweightedSolver(x_penalties=_MTSCCA_X + (("gamma1", GroupL21()),), y_penalties=_MTSCCA_Y)

    def __init__(self, beta1=1.0, beta2=1.0, alpha1=1.0, alpha2=1.0, gamma1=1.0, groups=None, r1=1.0, r2=1.0,
                 tol=1e-5, max_iter=400, standardize=True):
        self.beta1, self.beta2, self.alpha1, self.alpha2, self.gamma1 = beta1, beta2, alpha1, alpha2, gamma1
        self.groups = groups
        self.r1, self.r2, self.tol, self.max_iter, self.standardize = r1, r2, tol, max_iter, standardize

    def snp_groups(self, inputs):
        """SNP group labels (p,): the given ``groups`` relabelled 0..G−1, or the LD blocks of X."""
        p = inputs.X.shape[1]
        return ld_blocks(inputs.X) if self.groups is None else group_labels(self.groups, p)
