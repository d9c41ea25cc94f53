"""Simulated genotype–multimodal-imaging studies for multi-task sparse CCA, with ground truth.

Task k pairs the SNPs x (p,) with imaging modality y_k (q,), all K modalities measured on the same q
regions. With Σx the exact population covariance of dosages and Σy a region correlation from a
CAR model on the brain graph, each modality is drawn given the genotypes as

    y_k = ρ_k Σy v_k s_k + e_k,   s_k = u_kᵀ(x − E x),   e_k ~ N(0, Σy − ρ_k² Σy v_k v_kᵀ Σy),

with u_kᵀΣx u_k = v_kᵀΣy v_k = 1. Then Cov(y_k) = Σy and Cov(x, y_k) = ρ_k Σx u_k v_kᵀ Σy: the
population canonical correlation of task k is exactly ρ_k, with weights u_k and v_k (the single-pair
model). The true weights are sparse: the SNP support is shared across tasks, the region support
(a contiguous group on the brain graph) across modalities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jaxgen.data.genotypes import LDGenotypeModel
from jaxgen.graphs import contiguous_regions, lattice_adjacency, laplacian
from jaxgen.graphs.car import car_precision

__all__ = ["MultitaskCCAData", "MultitaskCCATruth", "multitask_modalities", "simulate_multitask_cca"]


@dataclass(frozen=True)
class MultitaskCCATruth:
    """The population canonical structure of a :class:`MultitaskCCAData`.

    U : (p, K) true SNP weights for standardized SNPs, scaled so Var(x̃ᵀu_k) = 1.
    V : (q, K) true region weights for standardized regions, scaled so Var(ỹ_kᵀv_k) = 1.
    ccc : (K,) population canonical correlation of each task.
    causal_snps : (p,) bool shared SNP support; causal_regions : (q,) bool shared region support.
    snp_correlation : (p, p) population LD correlation (None when drawn from the sample moments: a genome-wide
        p × p matrix would not fit in memory); region_correlation : (q, q) Σy.
    """

    U: np.ndarray
    V: np.ndarray
    ccc: np.ndarray
    causal_snps: np.ndarray
    causal_regions: np.ndarray
    snp_correlation: np.ndarray | None
    region_correlation: np.ndarray


@dataclass(frozen=True)
class MultitaskCCAData:
    """X : (n, p) dosages 0/1/2; Ys : (K, n, q) modalities; Lx : (p, p) LD Laplacian (weights r²);
    Ly : (q, q) brain-network Laplacian; adjacency : (q, q) region graph; truth."""

    X: np.ndarray
    Ys: np.ndarray
    Lx: np.ndarray
    Ly: np.ndarray
    adjacency: np.ndarray
    truth: MultitaskCCATruth


def simulate_multitask_cca(seed: int, n: int, p: int, q: int, n_tasks: int = 3,
                           ccc=(0.9, 0.5, 0.1), *, n_causal_snps: int | None = None,
                           n_causal_regions: int | None = None, region_rho: float = 0.6,
                           block_size: int = 10,
                           maf_range: tuple[float, float] = (0.05, 0.5)) -> MultitaskCCAData:
    """Simulate X and K = ``n_tasks`` modalities with population canonical correlations ``ccc``.

    Parameters
    ----------
    seed : int
        Seed of a NumPy generator.
    n, p, q : int
        Subjects, SNPs, regions.
    n_tasks : int
        Number of modalities K; ``len(ccc)`` must equal it.
    ccc : sequence of K floats in [0, 1)
        True canonical correlation of each task (default high, medium, low).
    n_causal_snps, n_causal_regions : int, optional
        Sizes of the shared supports (defaults max(2, p // 10) and max(2, q // 6)).
    region_rho : float
        CAR correlation in [0, 1) that shapes Σy on the lattice of regions.
    """
    ccc = np.asarray(ccc, dtype=float)
    if ccc.shape != (n_tasks,):
        raise ValueError(f"ccc must hold one correlation per task (n_tasks={n_tasks}), got {ccc.tolist()}")
    if np.any((ccc < 0) | (ccc >= 1)):
        raise ValueError(f"every ccc must lie in [0, 1), got {ccc.tolist()}")
    if n < 4 or p < 2 or q < 2:
        raise ValueError(f"need n >= 4, p >= 2 and q >= 2; got n={n}, p={p}, q={q}")
    n_causal_snps = n_causal_snps or max(2, p // 10)
    n_causal_regions = n_causal_regions or max(2, q // 6)
    if not (1 <= n_causal_snps <= p and 1 <= n_causal_regions <= q):
        raise ValueError(f"supports must be non-empty and fit: n_causal_snps={n_causal_snps} (p={p}), "
                         f"n_causal_regions={n_causal_regions} (q={q})")

    rng = np.random.default_rng(seed)
    model = LDGenotypeModel.draw(rng, p, block_size=block_size, maf_range=maf_range)
    X = model.haplotypes(rng, 2 * n).reshape(n, 2, p).sum(axis=1).astype(float)
    adjacency = lattice_adjacency(q)
    Ys, truth = multitask_modalities(rng, X, adjacency, ccc, snp_mean=2.0 * model.maf,
                                     snp_covariance=model.dosage_covariance(), n_causal_snps=n_causal_snps,
                                     n_causal_regions=n_causal_regions, region_rho=region_rho)
    return MultitaskCCAData(X=X, Ys=Ys, Lx=laplacian(truth.snp_correlation ** 2), Ly=laplacian(adjacency),
                            adjacency=adjacency, truth=truth)


def multitask_modalities(rng: np.random.Generator, X, adjacency, ccc, *, snp_mean=None, snp_covariance=None,
                         n_causal_snps: int, n_causal_regions: int,
                         region_rho: float = 0.6) -> tuple[np.ndarray, MultitaskCCATruth]:
    """Draw K = len(ccc) modalities (K, n, q) given dosages X (n, p) on the region graph ``adjacency``.

    snp_mean (p,), snp_covariance (p, p) : the population moments of X (default: the sample ones,
    which makes ``ccc`` the canonical correlations of the population that X is taken to be).
    Returns the modalities and the truth.
    """
    X = np.asarray(X, dtype=float)
    p, q = X.shape[1], adjacency.shape[0]
    snp_mean = X.mean(axis=0) if snp_mean is None else snp_mean
    sigma_y = _car_correlation(adjacency, region_rho)
    snp_support = np.zeros(p, dtype=bool)
    snp_support[rng.choice(p, size=n_causal_snps, replace=False)] = True
    region_support = np.zeros(q, dtype=bool)
    region_support[contiguous_regions(rng, adjacency, n_causal_regions)] = True
    if snp_covariance is None:  # the sample moments; only the causal SNPs' block is formed (p may be genome-wide)
        support_covariance = np.atleast_2d(np.cov(X[:, snp_support], rowvar=False))
        sd_x, snp_correlation = X.std(axis=0, ddof=1), None
    else:
        support_covariance = snp_covariance[np.ix_(snp_support, snp_support)]
        sd_x = np.sqrt(np.diag(snp_covariance))
        snp_correlation = snp_covariance / np.outer(sd_x, sd_x)

    U = _unit_variance_weights(rng, snp_support, len(ccc), support_covariance, signed=True)
    V = _unit_variance_weights(rng, region_support, len(ccc), sigma_y[np.ix_(region_support, region_support)],
                               signed=False)
    centred = X - snp_mean
    Ys = np.stack([_modality(rng, centred @ U[:, k], V[:, k], sigma_y, ccc[k]) for k in range(len(ccc))])
    truth = MultitaskCCATruth(U=U * sd_x[:, None], V=V, ccc=np.asarray(ccc, dtype=float), causal_snps=snp_support,
                              causal_regions=region_support, snp_correlation=snp_correlation,
                              region_correlation=sigma_y)
    return Ys, truth


def _car_correlation(adjacency, rho):
    """(q, q) correlation matrix of the proper CAR covariance (D_A − ρA)⁻¹."""
    cov = np.linalg.inv(np.asarray(car_precision(adjacency, rho), dtype=float))
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def _unit_variance_weights(rng, support, n_tasks, support_covariance, signed):
    """(d, K) weights on ``support`` (d,), each column scaled so wᵀΣw = 1 (support_covariance: Σ's block on the
    support)."""
    d = support.shape[0]
    W = np.zeros((d, n_tasks))
    magnitudes = rng.uniform(0.5, 1.5, size=(support.sum(), n_tasks))
    signs = rng.choice([-1.0, 1.0], size=(support.sum(), 1)) if signed else 1.0
    W[support] = magnitudes * signs
    return W / np.sqrt(np.einsum("ik,ij,jk->k", W[support], support_covariance, W[support]))


def _modality(rng, signal, v, sigma_y, rho):
    """(n, q) draws y = ρ Σy v s + e, e ~ N(0, Σy − ρ² Σy v vᵀ Σy), for signals s (n,)."""
    a = sigma_y @ v
    noise_cov = sigma_y - rho ** 2 * np.outer(a, a)
    L = np.linalg.cholesky(noise_cov)
    return rho * signal[:, None] * a[None, :] + rng.standard_normal((signal.shape[0], v.shape[0])) @ L.T
