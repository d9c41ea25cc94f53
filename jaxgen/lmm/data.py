"""Validated, rotated inputs of the spatial LMM, prepared once before sampling.

With kinship K = UΛUᵀ, rotating subjects by Uᵀ makes rows independent:
Uᵀy_i ~ N(θᵀw̃_i, σ² d_i(h²) Q(ρ)⁻¹), d_i = h²λ_i + 1 − h². The O(n³) eigendecomposition and
O(n²(p + c)) rotation happen here, once; nothing per iteration is O(n²).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data.align import align_columns, align_rows
from jaxgen.data.standardize import standardize_columns
from jaxgen.data.values import checked_matrix
from jaxgen.graphs import CARSpectrum, kinship_eigen, validate_adjacency

__all__ = ["LMMData", "prepare_data"]


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class LMMData:
    """Arrays the model and the samplers read (a pytree; ``n_covariates`` is static).

    Y : (n, c) QTs, rotated by the kinship eigenvectors.
    W : (n, m + p) design [covariates, standardized SNPs], rotated likewise.
    kinship_eigenvalues : (n,) λ, or None without kinship (then h² is absent).
    adjacency : (c, c) region graph A; car : its CARSpectrum (degrees, eigenvalues).
    n_covariates : m, the leading columns of W that are covariates.
    """

    Y: jnp.ndarray
    W: jnp.ndarray
    kinship_eigenvalues: jnp.ndarray | None
    adjacency: jnp.ndarray
    car: CARSpectrum
    n_covariates: int = field(metadata={"static": True})  # static: part of the compiled shape

    @property
    def has_kinship(self) -> bool:
        return self.kinship_eigenvalues is not None

    @property
    def n_snps(self) -> int:
        return self.W.shape[1] - self.n_covariates

    def row_scales(self, h2):
        """d_i(h²) = h²λ_i + 1 − h², (n,); ones without kinship."""
        if self.kinship_eigenvalues is None:
            return jnp.ones(self.Y.shape[0], self.Y.dtype)
        return h2 * self.kinship_eigenvalues + (1.0 - h2)


def prepare_data(Y, X, adjacency, covariates=None, kinship=None, dtype=None) -> tuple[LMMData, dict]:
    """Validate inputs, standardize SNPs, rotate by the kinship eigenvectors.

    Y : (n, c) QTs; X : (n, p) SNP dosages; adjacency : (c, c); covariates : (n, m) with an intercept
    column (default: intercept only); kinship : (n, n) PSD relationship matrix, optional.
    pandas inputs are paired by their index (a kinship by index and columns), a labelled adjacency by
    Y's columns (:mod:`jaxgen.data.align`); every value must be finite and small enough to
    standardize in ``dtype``, and extreme outliers in Y are warned about (:mod:`jaxgen.data.values`).
    Returns the LMMData and a dict with the SNP means and sds (to report effects per allele) and the
    rotation Uᵀ (n, n) that was applied (None without kinship), for SNPs tested later against the same basis.
    """
    dtype = dtype or jnp.result_type(float)
    inputs, subjects = align_rows({"Y": Y, "X": X, "covariates": covariates, "kinship": kinship}, square=["kinship"])
    Y, X, covariates, kinship = (inputs[k] for k in ("Y", "X", "covariates", "kinship"))
    regions = list(Y.columns) if hasattr(Y, "columns") else None
    adjacency = align_columns(adjacency, regions, "adjacency", "Y's columns", square=True)

    def matrix(values, name, screen=False):
        return checked_matrix(values, name, rows=subjects, columns=getattr(values, "columns", None), dtype=dtype,
                              screen=screen)

    Y, X = matrix(Y, "Y", screen=True), matrix(X, "X")
    n, c = Y.shape
    if X.shape[0] != n:
        raise ValueError(f"X has {X.shape[0]} rows (subjects) but Y has {n}")
    A = validate_adjacency(adjacency)
    if A.shape[0] != c:
        raise ValueError(f"adjacency is {A.shape[0]} x {A.shape[0]} but Y has {c} QT columns (regions)")
    C = np.ones((n, 1)) if covariates is None else matrix(covariates, "covariates")
    if C.shape[0] != n:
        raise ValueError(f"covariates has {C.shape[0]} rows but Y has {n}")
    if np.linalg.matrix_rank(C) < C.shape[1]:
        raise ValueError("covariates are collinear (the matrix is rank deficient); drop redundant columns")
    X_std, mean, sd = standardize_columns(X, "X")
    W = np.column_stack([C, X_std])
    lam = U = None
    if kinship is not None:
        lam, U = kinship_eigen(matrix(kinship, "kinship"), n)
        Y, W = U.T @ Y, U.T @ W
    data = LMMData(Y=jnp.asarray(Y, dtype), W=jnp.asarray(W, dtype),
                   kinship_eigenvalues=None if lam is None else jnp.asarray(lam, dtype),
                   adjacency=jnp.asarray(A, dtype),
                   car=CARSpectrum(*(jnp.asarray(a, dtype) for a in CARSpectrum.from_adjacency(A))),
                   n_covariates=C.shape[1])
    return data, {"snp_mean": mean, "snp_sd": sd, "rotation": None if U is None else U.T}

