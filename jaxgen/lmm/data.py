"""Validated, rotated inputs of the spatial LMM, prepared once before sampling.

With kinship K = UΛUᵀ, rotating subjects by Uᵀ makes rows independent:
Uᵀy_i ~ N(θᵀw̃_i, σ² d_i(h²) Q(ρ)⁻¹), d_i = h²λ_i + 1 − h². The O(n³) eigendecomposition and
O(n²(p + c)) rotation happen here, once; nothing per iteration is O(n²).

**Shared eigenvalues.** The Gibbs sampler needs W̃ᵀD⁻¹[W̃, Ỹ] = Σ_i [w̃_i w̃_iᵀ, w̃_i ỹ_iᵀ]/d_i(h²) at every
h², O(n(m + p)(m + p + c)). Rotated rows with the same kinship eigenvalue share d_i, so their sum
Σ_(i∈g) [w̃_i w̃_iᵀ, w̃_i ỹ_iᵀ] is computed here once and enters with the weight 1/d_g(h²). Pedigree
kinships have few distinct eigenvalues (nuclear families of one design: four), a genomic
relationship matrix of rank r has n − r zero eigenvalues, and without kinship all rows share d = 1.
Eigenvalues that agree to 1e-9 (relative) are set to their mean, so every block of the sampler sees
the same d_i; the rows are ordered with the ones computed directly first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data.align import align_columns, align_rows, preview_ids
from jaxgen.data.standardize import standardize_columns, unit_scale_covariates
from jaxgen.data.values import checked_matrix, first_dependent_column
from jaxgen.graphs import CARSpectrum, kinship_eigen, validate_adjacency

__all__ = ["LMMData", "prepare_data", "without_kinship"]


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class LMMData:
    """Arrays the model and the samplers read (a pytree; ``n_covariates`` is static).

    Y : (n, c) QTs, rotated by the kinship eigenvectors.
    W : (n, m + p) design [covariates on a unit scale (:func:`jaxgen.data.standardize.unit_scale_covariates`:
        the intercept 1, the others centred to sd 1), standardized SNPs], rotated likewise.
    kinship_eigenvalues : (n,) λ, or None without kinship (then h² is absent).
    adjacency : (c, c) region graph A; car : its CARSpectrum (degrees, eigenvalues).
    n_covariates : m, the leading columns of W that are covariates.
    shared_grams : (G, m + p, m + p + c) Σ over the rows of each group sharing one eigenvalue of
        [w̃_i w̃_iᵀ, w̃_i ỹ_iᵀ], or None; shared_eigenvalues : (G,) their eigenvalues (ones without kinship).
    n_direct : the leading rows that are in no group (all rows when ``shared_grams`` is None).
    """

    Y: jnp.ndarray
    W: jnp.ndarray
    kinship_eigenvalues: jnp.ndarray | None
    adjacency: jnp.ndarray
    car: CARSpectrum
    n_covariates: int = field(metadata={"static": True})  # static: part of the compiled shape
    shared_grams: jnp.ndarray | None = None
    shared_eigenvalues: jnp.ndarray | None = None
    n_direct: int = field(default=0, metadata={"static": True})

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

    def weighted_gram(self, h2):
        """W̃ᵀD⁻¹[W̃, Ỹ] (m + p, m + p + c) at h²: the direct rows' product plus the shared groups' sums."""
        direct = self.n_direct
        inv_d = 1.0 / self.row_scales(h2)[:direct]
        rows = jnp.concatenate([self.W[:direct], self.Y[:direct]], axis=1) * inv_d[:, None]
        gram = jnp.matmul(self.W[:direct].T, rows, precision=jax.lax.Precision.HIGHEST)
        if self.shared_grams is None:
            return gram
        scales = self.shared_eigenvalues if self.kinship_eigenvalues is None else (
            h2 * self.shared_eigenvalues + (1.0 - h2))
        return gram + jnp.tensordot(1.0 / scales, self.shared_grams, axes=1)


def prepare_data(Y, X, adjacency, covariates=None, kinship=None, dtype=None) -> tuple[LMMData, dict]:
    """Validate inputs, standardize SNPs, put the covariates on a unit scale (Γ is then per sd of each
    covariate), rotate by the kinship eigenvectors.

    Y : (n, c) QTs; X : (n, p) SNP dosages; adjacency : (c, c); covariates : (n, m) with an intercept
    column (default: intercept only); kinship : (n, n) PSD relationship matrix, optional.
    pandas inputs are paired by their index (a kinship by index and columns), a labelled adjacency by
    Y's columns (:mod:`jaxgen.data.align`); every value must be finite and small enough to
    standardize in ``dtype``, and extreme outliers in Y are warned about (:mod:`jaxgen.data.values`).
    Returns the LMMData and a dict with the SNP means and sds (to report effects per allele) and the
    rotation (n, n) that was applied to the subjects' rows (Uᵀ, its rows in LMMData's order; None when the
    rows were left as given), for SNPs tested later against the same basis.
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
    constant = np.flatnonzero(~(Y.std(axis=0) > 0))
    if constant.size:
        names = regions or range(c)
        raise ValueError(f"Y has QT columns with no variation across subjects: {preview_ids(names[k] for k in constant)}")
    if X.shape[0] != n:
        raise ValueError(f"X has {X.shape[0]} rows (subjects) but Y has {n}")
    A = validate_adjacency(adjacency)
    if A.shape[0] != c:
        raise ValueError(f"adjacency is {A.shape[0]} x {A.shape[0]} but Y has {c} QT columns (regions)")
    C = np.ones((n, 1)) if covariates is None else matrix(covariates, "covariates")
    if C.shape[0] != n:
        raise ValueError(f"covariates has {C.shape[0]} rows but Y has {n}")
    dependent = first_dependent_column(C)
    if dependent is not None:
        names = list(covariates.columns) if hasattr(covariates, "columns") else list(range(C.shape[1]))
        raise ValueError(f"covariates are collinear: column {names[dependent]!r} is a linear combination of the "
                         f"{dependent} columns before it ({preview_ids(names[:dependent], limit=6)}); drop it")
    X_std, mean, sd = standardize_columns(X, "X")
    W = np.column_stack([unit_scale_covariates(C), X_std])
    lam = U = None
    if kinship is not None:
        lam, U = kinship_eigen(matrix(kinship, "kinship"), n)
        Y, W = U.T @ Y, U.T @ W
    order, n_direct, group_starts, group_values = shared_eigenvalue_groups(np.ones(n) if lam is None else lam)
    Y, W = Y[order], W[order]
    grams = [W[a:b].T @ np.column_stack([W[a:b], Y[a:b]]) for a, b in zip(group_starts[:-1], group_starts[1:])]
    if lam is not None:
        lam = np.concatenate([lam[order[:n_direct]], np.repeat(group_values, np.diff(group_starts))])
    data = LMMData(Y=jnp.asarray(Y, dtype), W=jnp.asarray(W, dtype),
                   kinship_eigenvalues=None if lam is None else jnp.asarray(lam, dtype),
                   adjacency=jnp.asarray(A, dtype),
                   car=CARSpectrum(*(jnp.asarray(a, dtype) for a in CARSpectrum.from_adjacency(A))),
                   n_covariates=C.shape[1], n_direct=n_direct,
                   shared_grams=jnp.asarray(np.stack(grams), dtype) if grams else None,
                   shared_eigenvalues=jnp.asarray(group_values, dtype) if grams else None)
    if U is not None:
        rotation = U.T[order]
    else:
        rotation = None if np.array_equal(order, np.arange(n)) else np.eye(n)[order]
    return data, {"snp_mean": mean, "snp_sd": sd, "rotation": rotation}


def without_kinship(data: LMMData) -> LMMData:
    """The model without a population term (no h², every d_i = 1) on the same rotated rows.

    Rotating iid rows by an orthogonal Uᵀ leaves them iid with the same law, so this is the model
    fitted without a kinship, expressed in the kinship's basis: its pointwise log likelihood is over
    the rows of ``data``, as the kinship model's is, and the two can be compared row by row. All rows
    then share d = 1: one group whose gram is W̃ᵀ[W̃, Ỹ].
    """
    if not data.has_kinship:
        return data
    gram = jnp.matmul(data.W.T, jnp.concatenate([data.W, data.Y], axis=1), precision=jax.lax.Precision.HIGHEST)
    return replace(data, kinship_eigenvalues=None, shared_grams=gram[None], shared_eigenvalues=jnp.ones(1, gram.dtype),
                   n_direct=0)


def shared_eigenvalue_groups(eigenvalues, *, max_groups: int = 32, rtol: float = 1e-9):
    """Rows that share a kinship eigenvalue, for :meth:`LMMData.weighted_gram`.

    eigenvalues : (n,) λ. Values that agree to ``rtol`` (relative to max(1, max λ)) form a group; the
    ``max_groups`` largest groups of two rows or more are kept. Returns (order (n,), n_direct,
    group_starts (G + 1,), group_values (G,)): ``order`` puts the n_direct ungrouped rows first, then
    the groups' rows in ``order[group_starts[g]:group_starts[g + 1]]``, whose eigenvalues are set to
    ``group_values[g]``, the mean of the group's.
    """
    lam = np.asarray(eigenvalues, dtype=float)
    by_value = np.argsort(lam, kind="stable")
    ordered = lam[by_value]
    breaks = np.flatnonzero(np.diff(ordered) > rtol * max(1.0, float(ordered[-1])))
    runs = np.split(by_value, breaks + 1)
    groups = sorted((run for run in runs if len(run) >= 2), key=len, reverse=True)[:max_groups]
    grouped = np.concatenate(groups) if groups else np.empty(0, int)
    direct = np.setdiff1d(np.arange(len(lam)), grouped)
    starts = np.cumsum([len(direct)] + [len(g) for g in groups])
    values = np.array([lam[g].mean() for g in groups])
    return np.concatenate([direct, grouped]), len(direct), starts, values
