"""Proper CAR (conditional autoregressive) precision Q(ρ) = D_A − ρA and its spectrum.

With S = D_A^{-1/2} A D_A^{-1/2} = VΩVᵀ (eigendecomposition once), Q(ρ) = D_A^{1/2}(I − ρS)D_A^{1/2},
so ``log|Q(ρ)| = Σ log d_i + Σ log(1 − ρ ω_i)`` is O(c) for any ρ, and T(ρ) = D_A^{-1/2}V(I − ρΩ)^{-1/2}
is a square root of Q(ρ)⁻¹ (T Tᵀ = Q⁻¹) with no factorization per ρ. Q(ρ) is positive definite
for ρ in [0, 1) when A is a valid adjacency (no isolated region), since the ω_i lie in [−1, 1].
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.graphs.adjacency import validate_adjacency

__all__ = ["CARSpectrum", "car_precision"]


def car_precision(adjacency, rho):
    """Q(ρ) = D_A − ρA (c, c) for an adjacency A (c, c) and a scalar ρ."""
    A = jnp.asarray(adjacency)
    return jnp.diag(A.sum(axis=1)) - rho * A


class CARSpectrum(NamedTuple):
    """What log|Q(ρ)| and draws with covariance Q(ρ)⁻¹ need, computed once from the adjacency.

    degrees : (c,) row sums of A (the diagonal of D_A).
    eigenvalues : (c,) eigenvalues ω of D_A^{-1/2} A D_A^{-1/2}, in [−1, 1].
    scaled_eigenvectors : (c, c) D_A^{-1/2}V, V the eigenvectors (columns) of D_A^{-1/2} A D_A^{-1/2}.
    """

    degrees: jnp.ndarray
    eigenvalues: jnp.ndarray
    scaled_eigenvectors: jnp.ndarray

    @classmethod
    def from_adjacency(cls, adjacency) -> "CARSpectrum":
        """Validate A (c, c) and compute its CAR spectrum (in float64 NumPy, then as arrays)."""
        A = validate_adjacency(adjacency)
        d = A.sum(axis=1)
        scaled = A / np.sqrt(np.outer(d, d))
        omega, V = np.linalg.eigh(scaled)
        return cls(jnp.asarray(d), jnp.asarray(np.clip(omega, -1.0, 1.0)), jnp.asarray(V / np.sqrt(d)[:, None]))

    def logdet(self, rho):
        """log|D_A − ρA| for a scalar ρ in [0, 1)."""
        return jnp.sum(jnp.log(self.degrees)) + jnp.sum(jnp.log1p(-rho * self.eigenvalues))

    def correlated_rows(self, z, rho):
        """Rows of z (..., rows, c) turned into rows with covariance Q(ρ)⁻¹: z T(ρ)ᵀ.

        Each iid N(0, 1) row z_r becomes T z_r with covariance T Tᵀ = Q(ρ)⁻¹; one product with a
        fixed matrix, no Cholesky.
        """
        scaled = z * jax.lax.rsqrt(1.0 - rho * self.eigenvalues)
        return jnp.matmul(scaled, self.scaled_eigenvectors.T, precision=jax.lax.Precision.HIGHEST)
