"""Proper CAR (conditional autoregressive) precision Q(ρ) = D_A − ρA and its cheap log-determinant.

With S = D_A^{-1/2} A D_A^{-1/2} = VΩVᵀ (eigendecomposition once), Q(ρ) = D_A^{1/2}(I − ρS)D_A^{1/2},
so ``log|Q(ρ)| = Σ log d_i + Σ log(1 − ρ ω_i)`` is O(c) for any ρ. Q(ρ) is positive definite for
ρ in [0, 1) when A is a valid adjacency (no isolated region), since the ω_i lie in [−1, 1].
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular

from jaxgen.graphs.adjacency import validate_adjacency

__all__ = ["CARSpectrum", "car_correlated_columns", "car_precision"]


def car_precision(adjacency, rho):
    """Q(ρ) = D_A − ρA (c, c) for an adjacency A (c, c) and a scalar ρ."""
    A = jnp.asarray(adjacency)
    return jnp.diag(A.sum(axis=1)) - rho * A


def car_correlated_columns(z, precision):
    """Rows of z (..., rows, c) turned into rows with covariance Q⁻¹ for a precision Q (c, c).

    With Q = RRᵀ (Cholesky), each row zR⁻¹ has covariance R⁻ᵀR⁻¹ = Q⁻¹ when z has iid N(0, 1) rows.
    """
    R = jnp.linalg.cholesky(precision)
    columns = solve_triangular(R, jnp.swapaxes(z, -1, -2), trans="T", lower=True)
    return jnp.swapaxes(columns, -1, -2)


class CARSpectrum(NamedTuple):
    """What log|Q(ρ)| needs, computed once from the adjacency.

    degrees : (c,) row sums of A (the diagonal of D_A).
    eigenvalues : (c,) eigenvalues ω of D_A^{-1/2} A D_A^{-1/2}, in [−1, 1].
    """

    degrees: jnp.ndarray
    eigenvalues: jnp.ndarray

    @classmethod
    def from_adjacency(cls, adjacency) -> "CARSpectrum":
        """Validate A (c, c) and compute its CAR spectrum (in float64 NumPy, then as arrays)."""
        A = validate_adjacency(adjacency)
        d = A.sum(axis=1)
        scaled = A / np.sqrt(np.outer(d, d))
        omega = np.clip(np.linalg.eigvalsh(scaled), -1.0, 1.0)
        return cls(jnp.asarray(d), jnp.asarray(omega))

    def logdet(self, rho):
        """log|D_A − ρA| for a scalar ρ in [0, 1)."""
        return jnp.sum(jnp.log(self.degrees)) + jnp.sum(jnp.log1p(-rho * self.eigenvalues))
