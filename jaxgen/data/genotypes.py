"""SNP genotypes with linkage disequilibrium (LD) blocks and a known population covariance.

Each haplotype carries, per LD block, a latent Gaussian AR(1) chain z (corr(z_i, z_j) = r^|i−j|);
allele = 1 where z_i < Φ⁻¹(f_i), so SNP i has minor-allele frequency f_i. A dosage is the sum of two
independent haplotypes (Hardy–Weinberg). Blocks are independent. The population covariance of
dosages is exact: Cov(d_i, d_j) = 2 (Φ₂(a_i, a_j; r_ij) − f_i f_j), evaluated by Gauss–Legendre
quadrature of Φ₂(a, b; r) − Φ(a)Φ(b) = ∫₀^r φ₂(a, b; t) dt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = ["LDGenotypeModel"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)


@dataclass(frozen=True)
class LDGenotypeModel:
    """A population of p SNPs in LD blocks.

    maf : (p,) minor-allele frequencies.
    block : (p,) LD-block index of each SNP (blocks are contiguous).
    block_ld : (n_blocks,) AR(1) correlation r of the latent chain within each block.
    """

    maf: np.ndarray
    block: np.ndarray
    block_ld: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, p: int, block_size: int = 10,
             maf_range: tuple[float, float] = (0.05, 0.5),
             ld_range: tuple[float, float] = (0.3, 0.9)) -> "LDGenotypeModel":
        """Draw frequencies uniformly in ``maf_range`` and block LD uniformly in ``ld_range``."""
        if p < 1 or block_size < 1:
            raise ValueError(f"need p >= 1 and block_size >= 1, got p={p}, block_size={block_size}")
        if not 0 < maf_range[0] <= maf_range[1] <= 0.5:
            raise ValueError(f"maf_range must lie in (0, 0.5], got {maf_range}")
        if not 0 <= ld_range[0] <= ld_range[1] < 1:
            raise ValueError(f"ld_range must lie in [0, 1), got {ld_range}")
        block = np.arange(p) // block_size
        return cls(maf=rng.uniform(*maf_range, size=p), block=block,
                   block_ld=rng.uniform(*ld_range, size=block[-1] + 1))

    @property
    def n_snps(self) -> int:
        return self.maf.shape[0]

    @property
    def thresholds(self) -> np.ndarray:
        """(p,) liability thresholds a_i = Φ⁻¹(f_i)."""
        return np.array([NormalDist().inv_cdf(f) for f in self.maf])

    def latent_correlation(self) -> np.ndarray:
        """(p, p) correlation of the latent chains: r^|i−j| within a block, 0 across blocks."""
        idx = np.arange(self.n_snps)
        same_block = self.block[:, None] == self.block[None, :]
        r = self.block_ld[self.block]
        return np.where(same_block, r[:, None] ** np.abs(idx[:, None] - idx[None, :]), 0.0)

    def haplotypes(self, rng: np.random.Generator, n_haplotypes: int) -> np.ndarray:
        """(n_haplotypes, p) 0/1 alleles, one AR(1) chain per block."""
        p = self.n_snps
        z = np.empty((n_haplotypes, p))
        innovations = rng.standard_normal((n_haplotypes, p))
        starts = np.r_[True, self.block[1:] != self.block[:-1]]
        for i in range(p):
            if starts[i]:
                z[:, i] = innovations[:, i]
            else:
                r = self.block_ld[self.block[i]]
                z[:, i] = r * z[:, i - 1] + math.sqrt(1 - r * r) * innovations[:, i]
        return (z < self.thresholds).astype(np.int8)

    def dosage_covariance(self) -> np.ndarray:
        """(p, p) exact population covariance of dosages (two independent haplotypes)."""
        a = self.thresholds
        r = self.latent_correlation()
        excess = _orthant_excess(a[:, None], a[None, :], r)
        np.fill_diagonal(excess, self.maf * (1 - self.maf))
        return 2.0 * excess

    def ld_correlation(self) -> np.ndarray:
        """(p, p) population correlation of dosages (LD r)."""
        cov = self.dosage_covariance()
        sd = np.sqrt(np.diag(cov))
        return cov / np.outer(sd, sd)


def _orthant_excess(a, b, r):
    """Φ₂(a, b; r) − Φ(a)Φ(b) = ∫₀^r φ₂(a, b; t) dt, elementwise over broadcast arrays, |r| < 1."""
    t = 0.5 * r[..., None] * (_GL_NODES + 1.0)  # nodes mapped to [0, r]
    a, b = np.asarray(a)[..., None], np.asarray(b)[..., None]
    one_minus = 1.0 - t * t
    density = np.exp(-(a * a - 2 * t * a * b + b * b) / (2 * one_minus)) / (2 * np.pi * np.sqrt(one_minus))
    return 0.5 * r * np.sum(_GL_WEIGHTS * density, axis=-1)
