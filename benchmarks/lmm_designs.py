"""Null phenotypes for the SNP-test studies (calibration and power), from two simulators.

``own``: written here, independently of jaxgen's model, and more general than it:

    Y = CΓ + G + E,   G ~ MN(0, K, Σ_g),   E ~ MN(0, Iₙ, Σ_e),
    Σ_g = S_g R(ρ_g) S_g,  Σ_e = S_e R(ρ_e) S_e,  S_g = diag(√(σ²_k h²_k)),  S_e = diag(√(σ²_k (1 − h²_k))),

with R(ρ) the correlation of a CAR precision D_A − ρA on a lattice of regions, per-region scales σ²_k
and heritabilities h²_k, and genetic and residual correlations that differ (ρ_g ≠ ρ_e) — so that
jaxgen's separable model (one h², G and E sharing Q(ρ)⁻¹) is misspecified. K is I (unrelated), the
expected relationship of nuclear families (genotypes transmitted from parents to children, SNPs
unlinked), or, for unrelated subjects from three ancestry groups with Balding–Nichols allele
frequencies (F_ST = 0.1), the GRM of 2 000 background SNPs (G ~ MN(0, GRM, Σ_g): a low-rank
structure, and tested SNPs whose frequencies differ between the groups like the phenotype's mean).

``jaxgen``: :func:`jaxgen.data.simulate_spatial_lmm` (the package's own model, SNPs in LD blocks).

A design is a frozen record; :func:`simulate` draws one replicate of it with any number of tested SNP
columns, all independent of Y given the population (so all are null).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jaxgen.data import simulate_spatial_lmm
from jaxgen.data.pedigree import family_kinship
from jaxgen.graphs import genomic_relationship, lattice_adjacency

FAMILY_SIZE = 4
ANCESTRY_SHARES = (0.5, 0.3, 0.2)
FST = 0.1
BACKGROUND_SNPS = 2000
MAF_RANGE = (0.05, 0.5)


@dataclass(frozen=True)
class Design:
    """One simulated population and phenotype model.

    name : label; simulator : "own" or "jaxgen"; population : "unrelated", "families" or "structure";
    n subjects, c regions; h2 : (lowest, highest) heritability, spread evenly over the regions
    (equal ends: one shared h²); rho : residual CAR ρ_e; rho_genetic : ρ_g (None: equal to ρ_e);
    kinship : whether the analysis is given the kinship (or GRM).
    """

    name: str
    simulator: str
    population: str
    n: int
    c: int
    h2: tuple[float, float]
    rho: float
    rho_genetic: float | None = None
    kinship: bool = True
    factor: float = 0.0

    def describe(self) -> dict:
        return {"name": self.name, "simulator": self.simulator, "population": self.population, "n": self.n,
                "c": self.c, "h2": list(self.h2), "rho": self.rho,
                "rho_genetic": self.rho if self.rho_genetic is None else self.rho_genetic,
                "kinship_given": self.kinship, "global_factor_share": self.factor}


@dataclass(frozen=True)
class Replicate:
    """Y (n, c) null phenotypes; X (n, p) tested dosages; covariates (n, m) with intercept;
    adjacency (c, c); kinship (n, n) or None (as given to the analysis)."""

    Y: np.ndarray
    X: np.ndarray
    covariates: np.ndarray
    adjacency: np.ndarray
    kinship: np.ndarray | None


def simulate(design: Design, rng: np.random.Generator, n_snps: int) -> Replicate:
    """One replicate of ``design`` with ``n_snps`` tested SNP columns (polymorphic; all null for Y)."""
    if design.simulator == "jaxgen":
        return _jaxgen_replicate(design, rng, n_snps)
    n, c = design.n, design.c
    A = lattice_adjacency(c)
    h2 = np.linspace(*design.h2, c)
    sigma2 = rng.uniform(0.5, 2.0, c)
    genetic_root = np.sqrt(sigma2 * h2)[:, None] * _correlation_root(A, _rho_genetic(design), design.factor)
    residual_root = np.sqrt(sigma2 * (1.0 - h2))[:, None] * _correlation_root(A, design.rho, design.factor)
    covariates = np.column_stack([np.ones(n), rng.standard_normal(n), rng.integers(0, 2, n).astype(float)])
    Gamma = rng.normal(0.0, 0.5, (covariates.shape[1], c))
    if design.population == "structure":
        groups = rng.choice(len(ANCESTRY_SHARES), size=n, p=ANCESTRY_SHARES)
        _structured_dosages(rng, groups, BACKGROUND_SNPS)  # an unused draw, kept so seeds give the recorded results
        kinship = genomic_relationship(_structured_dosages(rng, groups, BACKGROUND_SNPS))
        X = _structured_dosages(rng, groups, n_snps)
    elif design.population == "families":
        kinship = family_kinship(n, FAMILY_SIZE)
        X = _family_dosages(rng, n, n_snps)
    else:
        kinship = np.eye(n)
        X = _unrelated_dosages(rng, n, n_snps)
    G = _kinship_root(kinship) @ rng.standard_normal((n, c)) @ genetic_root.T
    E = rng.standard_normal((n, c)) @ residual_root.T
    Y = covariates @ Gamma + G + E
    return Replicate(Y=Y, X=X, covariates=covariates, adjacency=A, kinship=kinship if design.kinship else None)


def _rho_genetic(design):
    return design.rho if design.rho_genetic is None else design.rho_genetic


def _jaxgen_replicate(design, rng, n_snps):
    if design.h2[0] != design.h2[1] or design.rho_genetic not in (None, design.rho):
        raise ValueError(f"{design.name}: jaxgen's simulator has one h² and one ρ")
    family_size = 1 if design.population == "unrelated" else FAMILY_SIZE
    if design.population == "structure":
        raise ValueError(f"{design.name}: jaxgen's simulator has no population structure")
    d = simulate_spatial_lmm(int(rng.integers(2**31)), n=design.n, p=n_snps, c=design.c, n_causal=0,
                             rho=design.rho, h2=design.h2[0], family_size=family_size)
    return Replicate(Y=d.Y, X=d.X, covariates=d.covariates, adjacency=d.adjacency,
                     kinship=d.kinship if design.kinship else None)


def _correlation_root(A, rho, factor=0.0):
    """A square root L (c, c) of a region correlation R: L Lᵀ = R.

    R is the correlation of the CAR precision D_A − ρA, or with ``factor`` > 0 the correlation of
    (1 − factor)·CAR + factor·ffᵀ: a global factor (as brain size loads on every regional volume) with
    fixed loadings f_k ∈ [0.3, 1], so that the regions' correlation is no CAR (jaxgen's model misspecified).
    """
    covariance = np.linalg.inv(np.diag(A.sum(axis=1)) - rho * A)
    scale = np.sqrt(np.diag(covariance))
    correlation = covariance / np.outer(scale, scale)
    if factor > 0:
        loadings = np.random.default_rng(len(A)).uniform(0.3, 1.0, len(A))  # its own stream: seeds unchanged
        correlation = (1.0 - factor) * correlation + factor * np.outer(loadings, loadings)
        scale = np.sqrt(np.diag(correlation))
        correlation = correlation / np.outer(scale, scale)
    return np.linalg.cholesky(correlation)


def _kinship_root(K):
    """The symmetric square root (n, n) of a PSD kinship, U Λ^{1/2} Uᵀ.

    Unique, unlike U Λ^{1/2}: a family kinship's eigenvalues repeat (one per family), and the eigenvectors
    LAPACK picks inside a repeated eigenspace change with the machine and its threads, which changed the
    simulated phenotypes (not their law) from one machine to the next for the same seed."""
    lam, U = np.linalg.eigh(K)
    return (U * np.sqrt(np.clip(lam, 0.0, None))) @ U.T


def _frequencies(rng, p):
    return rng.uniform(*MAF_RANGE, p)


def _unrelated_dosages(rng, n, p):
    return _polymorphic(rng, lambda: rng.binomial(2, _frequencies(rng, p), size=(n, p)).astype(float))


def _family_dosages(rng, n, p):
    """Dosages (n, p) of nuclear families (2 parents, 2 children each; unlinked SNPs, Mendelian transmission)."""
    def draw():
        f = _frequencies(rng, p)
        n_families = -(-n // FAMILY_SIZE)
        parents = rng.random((n_families, 2, 2, p)) < f  # (family, parent, haplotype, snp)
        members = [parents[:, 0].sum(axis=1), parents[:, 1].sum(axis=1)]
        for _ in range(FAMILY_SIZE - 2):
            pick = rng.integers(0, 2, (n_families, 2, 1, p))
            transmitted = np.take_along_axis(parents, pick, axis=2)[:, :, 0]  # (family, parent, snp)
            members.append(transmitted.sum(axis=1))
        return np.stack(members, axis=1).reshape(-1, p)[:n].astype(float)
    return _polymorphic(rng, draw)


def _structured_dosages(rng, groups, p):
    """Dosages (n, p) of unrelated subjects in ancestry groups (n,), Balding–Nichols frequencies at F_ST."""
    def draw():
        f = _frequencies(rng, p)
        shape = (1.0 - FST) / FST
        group_f = rng.beta(f * shape, (1.0 - f) * shape, size=(len(ANCESTRY_SHARES), p))
        return rng.binomial(2, group_f[groups]).astype(float)
    return _polymorphic(rng, draw)


def _polymorphic(rng, draw):
    """``draw()`` (n, p), with monomorphic columns replaced by fresh draws until none is left."""
    X = draw()
    for _ in range(20):
        flat = X.std(axis=0) == 0
        if not flat.any():
            return X
        X[:, flat] = draw()[:, flat]
    raise ValueError("could not draw polymorphic SNPs: raise n or the lowest allele frequency")



def jaxgen_log_p(replicate: Replicate, heritability: str = "per-region", block: int = 2000):
    """jaxgen's score tests of every tested SNP against ``replicate``'s phenotypes.

    Returns ({test: log p (p,)} for every SNP-level test, per-region log p (p, c), the null model's
    summary). SNPs go through :func:`score_tests` in blocks of ``block`` columns (at most), the last one
    padded, so that a design compiles one shape.
    """
    from jaxgen.lmm.data import prepare_data
    from jaxgen.lmm.null import fit_null_model
    from jaxgen.lmm.scores import TESTS, score_tests

    data, _ = prepare_data(replicate.Y, replicate.X, replicate.adjacency, replicate.covariates, replicate.kinship)
    null = fit_null_model(data, heritability=heritability)
    snps = data.W[:, data.n_covariates:]
    block = min(block, snps.shape[1])
    parts = [score_tests(null, _padded(snps[:, start:start + block], block))
             for start in range(0, snps.shape[1], block)]
    p = snps.shape[1]
    snp_level = {test: np.concatenate([np.asarray(t.log_p_of(test)) for t in parts])[:p] for test in TESTS}
    region = np.concatenate([np.asarray(t.log_p) for t in parts])[:p]
    return snp_level, region, null.summary()


def _padded(columns, width):
    """``columns`` (n, k ≤ width) padded to (n, width) by repeating its first column (results dropped)."""
    missing = width - columns.shape[1]
    if missing == 0:
        return columns
    return np.concatenate([np.asarray(columns), np.repeat(np.asarray(columns[:, :1]), missing, axis=1)], axis=1)
