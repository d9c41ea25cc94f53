"""Kinship between subjects: the genomic relationship matrix and the checks a kinship must pass."""

from __future__ import annotations

import numpy as np

__all__ = ["genomic_relationship", "kinship_eigen", "relationship_from_sums", "relationship_sums"]


def genomic_relationship(dosages, *, frequency=None, called=None) -> np.ndarray:
    """The GRM (n, n) of dosages (n, p): each SNP centred at 2f and scaled by √(2f(1 − f)), then
    G_ij = Σ_k z_ik z_jk / N_ij.

    frequency : (p,) allele frequencies f of the counted allele (default: the sample's, X̄/2; the
        GCTA/Yang et al. 2011 standardization). PLINK uses the founders' frequencies.
    called : (n, p) bool, the calls that were made. Without it N_ij = p; with it a missing call adds
        nothing and N_ij counts the SNPs called in both i and j — PLINK's ``--make-rel`` rule.
    Monomorphic SNPs must be removed first.
    """
    return relationship_from_sums(*relationship_sums(dosages, frequency=frequency, called=called))


def relationship_from_sums(products, pairs) -> np.ndarray:
    """G = ΣZZᵀ / N (n, n) from :func:`relationship_sums` (summed over blocks); every pair needs a joint call."""
    if not np.all(pairs > 0):
        i, j = np.argwhere(~(pairs > 0))[0]
        raise ValueError(f"subjects {i} and {j} have no SNP called in both: their relationship is undefined")
    return products / pairs


def relationship_sums(dosages, *, frequency=None, called=None, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The two sums of the GRM, (Σ_k z_ik z_jk (n, n), N_ij (n, n)), float64, which add up over SNP blocks:
    G = ΣZZᵀ / N over all blocks. Arguments as :func:`genomic_relationship`; ``dtype`` is that of the
    standardized genotypes and their product (float32: half the time of float64's; the GRM then moves by at most
    2e-6 over 6 000 SNPs, and a singular GRM's zero eigenvalues by a few 1e-6 of the largest)."""
    X = np.asarray(dosages, dtype=float)
    frequency = X.mean(axis=0) / 2.0 if frequency is None else np.asarray(frequency, dtype=float)
    scale = np.sqrt(2.0 * frequency * (1.0 - frequency))
    if not np.all(scale > 0):
        raise ValueError(f"genotypes have {int(np.sum(~(scale > 0)))} monomorphic SNPs; drop them before the GRM")
    # standardized in ``dtype`` (X·(1/s) − 2f/s): a float32 GRM spends a third of its time here in float64
    Z = X.astype(dtype) * (1.0 / scale).astype(dtype) - (2.0 * frequency / scale).astype(dtype)
    if called is None or np.all(called):
        pairs = np.full((X.shape[0], X.shape[0]), float(X.shape[1]))
    else:
        called = np.asarray(called, dtype=bool)
        Z, pairs = np.where(called, Z, 0), _pair_counts(called)
    return (Z @ Z.T).astype(np.float64), pairs


def _pair_counts(called) -> np.ndarray:
    """N_ij = #SNPs called in both subjects (n, n), from called (n, k): k − m_i − m_j + (MMᵀ)_ij with M the
    missing calls, the product over the SNPs that miss any (none, mostly: one matrix product saved)."""
    missing = ~called[:, ~called.all(axis=0)]
    per_subject = missing.sum(axis=1).astype(float)
    M = missing.astype(float)
    return called.shape[1] - per_subject[:, None] - per_subject[None, :] + M @ M.T


def kinship_eigen(kinship, n: int, name: str = "kinship") -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (n,) ≥ 0 and eigenvectors (n, n) of a kinship matrix, after checking it.

    It must be (n, n), finite, symmetric and positive semi-definite to float32 rounding (eigenvalues
    ≥ −1e-4·max: a GRM is singular or nearly so when it has few SNPs, and float32 products, or a file written
    to 6–7 digits, move its smallest eigenvalues by up to about 1e-5·max; a matrix that is not a kinship has
    eigenvalues of order −0.01·max and below; those below 0 are set to 0);
    otherwise ValueError naming ``name``.
    """
    K = np.asarray(kinship, dtype=float)
    if K.shape != (n, n):
        raise ValueError(f"{name} must be ({n}, {n}) to match the subjects, got shape {K.shape}")
    if not np.all(np.isfinite(K)):
        i, j = np.argwhere(~np.isfinite(K))[0]
        raise ValueError(f"{name} has a missing or non-finite entry at ({i}, {j})")
    if not np.allclose(K, K.T, rtol=0, atol=1e-10 * max(1.0, np.abs(K).max())):
        i, j = np.unravel_index(np.argmax(np.abs(K - K.T)), K.shape)
        raise ValueError(f"{name} must be symmetric: entry ({i}, {j}) = {K[i, j]:.6g} but ({j}, {i}) = {K[j, i]:.6g}")
    lam, U = np.linalg.eigh((K + K.T) / 2)
    if lam.min() < -1e-4 * max(1.0, lam.max()):
        raise ValueError(f"{name} is not positive semi-definite: smallest eigenvalue {lam.min():.3g}")
    return np.clip(lam, 0.0, None), U
