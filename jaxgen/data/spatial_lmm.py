"""Simulated imaging-genetics studies for the spatial-correlated multitask LMM, with ground truth.

    Y = CΓ + X̃B + G + E,   G ~ MN(0, K, σ²h² Q(ρ)⁻¹),   E ~ MN(0, Iₙ, σ²(1 − h²) Q(ρ)⁻¹),

with X̃ the column-standardized dosages (ddof = 1), Q(ρ) = D_A − ρA the proper CAR precision of the
region graph and K the families' relationship matrix. B is sparse: each causal SNP acts on a
spatially contiguous group of regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jaxgen.data.genotypes import LDGenotypeModel
from jaxgen.data.pedigree import family_genotypes, family_kinship
from jaxgen.data.standardize import standardize_columns
from jaxgen.graphs import contiguous_regions, lattice_adjacency, ring_adjacency
from jaxgen.graphs.car import car_precision

__all__ = ["SpatialLMMData", "SpatialLMMTruth", "simulate_spatial_lmm"]


@dataclass(frozen=True)
class SpatialLMMTruth:
    """The parameters that generated a :class:`SpatialLMMData`.

    B : (p, c) effects of standardized SNPs on regions; Gamma : (m, c) covariate effects;
    rho, h2, sigma2 : spatial correlation, heritability of the population term, residual scale;
    causal : (p,) bool, SNPs with any effect; causal_mask : (p, c) bool, the nonzero entries of B.
    """

    B: np.ndarray
    Gamma: np.ndarray
    rho: float
    h2: float
    sigma2: float
    causal: np.ndarray
    causal_mask: np.ndarray


@dataclass(frozen=True)
class SpatialLMMData:
    """A simulated study.

    Y : (n, c) regional QTs; X : (n, p) SNP dosages 0/1/2; covariates : (n, m), first column the
    intercept; adjacency : (c, c) region graph; kinship : (n, n) relationship matrix; ids name the
    subjects, SNPs and regions.
    """

    Y: np.ndarray
    X: np.ndarray
    covariates: np.ndarray
    adjacency: np.ndarray
    kinship: np.ndarray
    truth: SpatialLMMTruth
    subject_ids: list[str]
    snp_ids: list[str]
    region_names: list[str]


def simulate_spatial_lmm(seed: int, n: int, p: int, c: int, n_causal: int, rho: float, h2: float,
                         sigma2: float = 1.0, effect: float = 0.15, *, regions_per_snp: int | None = None,
                         graph: str = "lattice", family_size: int = 4, block_size: int = 10,
                         maf_range: tuple[float, float] = (0.05, 0.5)) -> SpatialLMMData:
    """Simulate a study from the spatial multitask LMM.

    Parameters
    ----------
    seed : int
        Seed of a NumPy generator; the same seed gives the same study.
    n, p, c : int
        Subjects, SNPs, brain regions.
    n_causal : int
        Number of causal SNPs (0 gives the null).
    rho : float
        Spatial correlation in [0, 1) of the proper CAR precision D_A − ρA.
    h2 : float
        Share of σ² due to the population (kinship) term, in [0, 1).
    sigma2 : float
        Residual scale σ².
    effect : float
        Size |B_jk| of each causal effect (per standardized SNP); signs are random per SNP.
    regions_per_snp : int, optional
        Size of the contiguous region group hit by each causal SNP (default max(1, c // 4)).
    graph : {"lattice", "ring"}
        Region graph.
    family_size : int
        Members per family (2 parents + children); 1 gives unrelated subjects and K = I.
    block_size : int, maf_range : tuple
        LD-block length and range of minor-allele frequencies.
    """
    _check_simulation_args(n, p, c, n_causal, rho, h2, sigma2, family_size)
    rng = np.random.default_rng(seed)
    model = LDGenotypeModel.draw(rng, p, block_size=block_size, maf_range=maf_range)
    X = _polymorphic_genotypes(rng, model, n, family_size)
    X_std, _, _ = standardize_columns(X)
    A = {"lattice": lattice_adjacency, "ring": ring_adjacency}[graph](c)
    K = family_kinship(n, family_size)

    covariates = np.column_stack([np.ones(n), rng.standard_normal(n), rng.integers(0, 2, n).astype(float)])
    Gamma = rng.normal(0.0, 0.5, size=(covariates.shape[1], c))
    B, causal = _sparse_effects(rng, A, p, n_causal, effect, regions_per_snp or max(1, c // 4))
    residual = _matrix_normal_residual(rng, K, family_size, np.asarray(car_precision(A, rho)), h2, sigma2)
    Y = covariates @ Gamma + X_std @ B + residual

    truth = SpatialLMMTruth(B=B, Gamma=Gamma, rho=float(rho), h2=float(h2), sigma2=float(sigma2),
                            causal=causal, causal_mask=B != 0)
    return SpatialLMMData(Y=Y, X=X, covariates=covariates, adjacency=A, kinship=K, truth=truth,
                          subject_ids=[f"sub{i:05d}" for i in range(n)],
                          snp_ids=[f"rs{100000 + j}" for j in range(p)],
                          region_names=[f"region{k:03d}" for k in range(c)])


def _check_simulation_args(n, p, c, n_causal, rho, h2, sigma2, family_size):
    if n < 4 or p < 1 or c < 2:
        raise ValueError(f"need n >= 4 subjects, p >= 1 SNPs and c >= 2 regions; got n={n}, p={p}, c={c}")
    if not 0 <= n_causal <= p:
        raise ValueError(f"n_causal must lie in [0, p={p}], got {n_causal}")
    if not 0 <= rho < 1:
        raise ValueError(f"rho must lie in [0, 1) for a proper CAR model, got {rho}")
    if not 0 <= h2 < 1:
        raise ValueError(f"h2 must lie in [0, 1), got {h2}")
    if not sigma2 > 0:
        raise ValueError(f"sigma2 must be positive, got {sigma2}")
    if family_size < 1:
        raise ValueError(f"family_size must be at least 1, got {family_size}")


def _polymorphic_genotypes(rng, model, n, family_size, attempts: int = 20):
    """Family genotypes (n, p) redrawn until no SNP is monomorphic in the sample."""
    for _ in range(attempts):
        X = family_genotypes(rng, model, n, family_size)
        if np.all(X.std(axis=0) > 0):
            return X
    raise ValueError(f"could not draw {model.n_snps} polymorphic SNPs for n={n} subjects; "
                     "raise n or the lower end of maf_range")


def _sparse_effects(rng, adjacency, p, n_causal, effect, regions_per_snp):
    """B (p, c) with ``n_causal`` nonzero rows, each on a contiguous region group; causal (p,) bool."""
    c = adjacency.shape[0]
    B = np.zeros((p, c))
    causal_snps = rng.choice(p, size=n_causal, replace=False)
    for j in causal_snps:
        group = contiguous_regions(rng, adjacency, min(regions_per_snp, c))
        B[j, group] = effect * rng.choice([-1.0, 1.0])
    causal = np.zeros(p, dtype=bool)
    causal[causal_snps] = True
    return B, causal


def _matrix_normal_residual(rng, kinship, family_size, car_prec, h2, sigma2):
    """G + E (n, c): rows with covariance σ²(h²K + (1 − h²)I), columns with Q⁻¹.

    K is block-diagonal by family, so its square root is taken block by block (O(n))."""
    n, c = kinship.shape[0], car_prec.shape[0]
    R = np.linalg.cholesky(car_prec)  # Q = R Rᵀ, so R⁻ᵀz has covariance (R Rᵀ)⁻¹ = Q⁻¹

    def column_correlated(z):
        return np.linalg.solve(R.T, z.T).T

    G = np.empty((n, c))
    Z = rng.standard_normal((n, c))
    for start in range(0, n, family_size):
        block = slice(start, min(start + family_size, n))
        lam, U = np.linalg.eigh(kinship[block, block])
        G[block] = U @ (np.sqrt(np.clip(lam, 0.0, None))[:, None] * (U.T @ Z[block]))
    E = rng.standard_normal((n, c))
    return np.sqrt(sigma2) * column_correlated(np.sqrt(h2) * G + np.sqrt(1.0 - h2) * E)
