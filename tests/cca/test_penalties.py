"""Each penalty does what it claims: ℓ2,1 shares supports, ℓ1 sparsifies entries, group ℓ2,1 drops
whole groups, GraphNet smooths over the graph, fused equalizes neighbours."""

import numpy as np
import pytest

from jaxgen.cca import MTGSCCA, MTS2CCA, MTSCCA, SCCA
from jaxgen.cca.penalties import EPS, Fused, GraphNet, GroupL21, L1, RowL21
from jaxgen.data import simulate_multitask_cca


@pytest.fixture(scope="module")
def study():
    return simulate_multitask_cca(4, n=200, p=40, q=16, n_tasks=3, ccc=(0.9, 0.7, 0.5))


def small(W, rel=1e-4):
    """Entries negligible next to their column's largest."""
    return np.abs(W) < rel * np.abs(W).max(axis=0)


def test_row_l21_gives_row_sparsity_shared_by_all_tasks(study):
    d = study
    kept = []
    for beta in (0.1, 10.0, 100.0):
        U = MTS2CCA(beta1=beta, beta2=beta, lam1=0, lam2=0).fit(d.X, d.Ys, d.Lx, d.Ly).U_
        rows = np.linalg.norm(U, axis=1)
        dropped = rows < 1e-4 * rows.max()
        kept.append((~dropped).sum())
        # a row is dropped in every task or in none
        assert np.all(small(U, 1e-3)[dropped])
    assert kept[0] > kept[1] > kept[2] >= 1


def test_l1_sparsifies_each_task_on_its_own(study):
    d = study
    zeros = [small(MTSCCA(beta1=0, beta2=0, alpha1=a, alpha2=a).fit(d.X, d.Ys, d.Lx, d.Ly).U_).mean()
             for a in (0.1, 10.0, 60.0)]
    assert zeros[0] < zeros[1] < zeros[2]
    U = MTSCCA(beta1=0, beta2=0, alpha1=60.0, alpha2=60.0).fit(d.X, d.Ys, d.Lx, d.Ly).U_
    supports = ~small(U)
    assert not np.all(supports == supports[:, :1])                    # tasks keep different SNPs


def test_group_l21_drops_whole_groups(study):
    d = study
    groups = np.repeat(np.arange(8), 5)
    fit = MTGSCCA(beta1=0, alpha1=0, gamma1=60.0, groups=groups).fit(d.X, d.Ys, d.Lx, d.Ly)
    group_norm = np.array([np.linalg.norm(fit.U_[groups == g]) for g in range(8)])
    dropped = group_norm < 1e-4 * group_norm.max()
    assert 1 <= dropped.sum() < 8
    kept_rows = np.linalg.norm(fit.U_, axis=1) > 1e-4 * np.linalg.norm(fit.U_, axis=1).max()
    assert np.all(kept_rows == np.repeat(~dropped, 5))


def test_group_labels_may_be_gene_names(study):
    d = study
    names = np.array([f"GENE{g}" for g in np.repeat([3, 1, 2, 0, 7, 5, 6, 4], 5)])
    by_name = MTGSCCA(gamma1=20.0, groups=names).fit(d.X, d.Ys, d.Lx, d.Ly)
    by_id = MTGSCCA(gamma1=20.0, groups=np.repeat(np.arange(8), 5)).fit(d.X, d.Ys, d.Lx, d.Ly)
    np.testing.assert_allclose(by_name.U_, by_id.U_, atol=1e-12)
    with pytest.raises(ValueError, match="one label per SNP"):
        MTGSCCA(groups=names[:-1]).fit(d.X, d.Ys, d.Lx, d.Ly)


def test_graphnet_smooths_weights_over_the_graph(study):
    d = study

    def roughness(lam):
        fit = MTS2CCA(beta1=0, beta2=0, lam1=lam, lam2=lam).fit(d.X, d.Ys, d.Lx, d.Ly)
        U, V = fit.U_ / np.linalg.norm(fit.U_, axis=0), fit.V_ / np.linalg.norm(fit.V_, axis=0)
        return np.trace(U.T @ d.Lx @ U), np.trace(V.T @ d.Ly @ V)

    rough = np.array([roughness(lam) for lam in (0.0, 10.0, 100.0)])
    assert np.all(np.diff(rough, axis=0) < 0)


def test_fused_penalty_equalizes_neighbouring_snps(study):
    d = study

    def jumps(fused):
        U = SCCA(alpha1=0, alpha2=0, fused1=fused).fit(d.X, d.Ys, d.Lx, d.Ly).U_
        return np.abs(np.diff(U / np.linalg.norm(U, axis=0), axis=0)).sum()

    assert jumps(0.0) > jumps(20.0) > jumps(200.0)


def test_reweighting_matrices_majorize_the_penalties():
    """wᵀ M(w₀) w / 1 ≥ the penalty's local quadratic bound: at w = w₀, ½ wᵀMw equals ½ pen(w) (+ε)."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 3))

    class Data:
        groups = np.array([0, 0, 1, 1, 1, 2])
        Lx = np.diag([1.0, 2, 2, 2, 2, 1]) - (np.eye(6, k=1) + np.eye(6, k=-1))
        Ly = None

    for pen in (RowL21(), L1(), GroupL21(), Fused()):
        M = np.asarray(pen.matrix(pen.reweight(W, Data, "x"), Data, "x"))
        quad = np.einsum("dk,tde,ek->k", W, M, W).sum() if M.shape[0] == 1 \
            else np.einsum("dk,kde,ek->k", W, M, W).sum()
        # Σ (a²)/(2√(a²+ε)) = ½ Σ |a| up to ε: the majorizer touches the penalty at the current point
        assert abs(quad - 0.5 * float(pen.value(W, Data, "x"))) < 1e-6
    L = np.asarray(GraphNet().matrix(None, Data, "x"))[0]
    assert abs(float(GraphNet().value(W, Data, "x")) - np.trace(W.T @ L @ W)) < 1e-12
    assert EPS == 2.220446e-16
