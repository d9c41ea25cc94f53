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

__all__ = ["CARSpectrum", "car_degrees", "car_precision"]

_HIGHEST = jax.lax.Precision.HIGHEST


def car_degrees(adjacency):
    """The diagonal of D_A (c,): the row sums of A (c, c); 1 for a single region (c = 1, A = [0]), whose
    CAR precision is then Q(ρ) = 1 for every ρ (one QT, nothing to correlate). NumPy in, NumPy out (in
    its dtype); a JAX array in, a JAX array out."""
    xp = jnp if isinstance(adjacency, jax.Array) else np
    A = xp.asarray(adjacency)
    return A.sum(axis=1) if A.shape[0] > 1 else xp.ones(1, A.dtype)


def car_precision(adjacency, rho):
    """Q(ρ) = D_A − ρA (c, c) for an adjacency A (c, c) and a scalar ρ."""
    A = jnp.asarray(adjacency)
    return jnp.diag(car_degrees(A)) - rho * A


class CARSpectrum(NamedTuple):
    """What log|Q(ρ)|, quadratic forms in Q(ρ) and draws with covariance Q(ρ)⁻¹ need, computed
    once from the adjacency.

    degrees : (c,) row sums of A (the diagonal of D_A).
    eigenvalues : (c,) eigenvalues ω of D_A^{-1/2} A D_A^{-1/2}, in [−1, 1].
    eigenvectors : (c, c) its eigenvectors V (columns).
    """

    degrees: jnp.ndarray
    eigenvalues: jnp.ndarray
    eigenvectors: jnp.ndarray

    @classmethod
    def from_adjacency(cls, adjacency) -> "CARSpectrum":
        """Validate A (c, c) and compute its CAR spectrum (in float64 NumPy, then as arrays)."""
        A = validate_adjacency(adjacency)
        d = car_degrees(A)
        omega, V = np.linalg.eigh(A / np.sqrt(np.outer(d, d)))
        return cls(jnp.asarray(d), jnp.asarray(np.clip(omega, -1.0, 1.0)), jnp.asarray(V))

    def logdet(self, rho):
        """log|D_A − ρA| for a scalar ρ in [0, 1)."""
        return jnp.sum(jnp.log(self.degrees)) + jnp.sum(jnp.log1p(-rho * self.eigenvalues))

    def rotate(self, rows):
        """u = r D_A^{1/2} V for every row r of ``rows`` (..., c): then rᵀQ(ρ)r = Σ_j (1 − ρω_j) u_j²."""
        return jnp.matmul(rows * jnp.sqrt(self.degrees), self.eigenvectors, precision=_HIGHEST)

    def row_forms(self, rotated):
        """(rᵀD_Ar, rᵀAr) per row from rotated rows u (..., c): rᵀQ(ρ)r = first − ρ·second."""
        squares = rotated * rotated
        return jnp.sum(squares, axis=-1), jnp.matmul(squares, self.eigenvalues, precision=_HIGHEST)

    def correlated_rows(self, z, rho):
        """Rows of z (..., rows, c) turned into rows with covariance Q(ρ)⁻¹.

        Each iid N(0, 1) row z_r becomes T z_r with T = D_A^{-1/2}V(I − ρΩ)^{-1/2}, whose covariance
        T Tᵀ is Q(ρ)⁻¹: one product with a fixed matrix, no Cholesky.
        """
        scaled = z * jax.lax.rsqrt(1.0 - rho * self.eigenvalues)
        return jnp.matmul(scaled, self.eigenvectors.T, precision=_HIGHEST) / jnp.sqrt(self.degrees)
