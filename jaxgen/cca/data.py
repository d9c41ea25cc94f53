"""CCA inputs: validation with clear errors, and the standardized views as one pytree.

Every CCA solver takes a :class:`CCAData`. The rows it learns from are selected by a 0/1 mask, so a
full fit, every cross-validation fold and every permutation share one shape and can be vmapped
together: rows outside the mask are zero in ``X`` and ``Ys`` and drop out of every Gram matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from jaxgen.data.align import align_columns, align_rows
from jaxgen.data.values import checked_matrix
from jaxgen.graphs import column_correlation, correlation_laplacian
from jaxgen.runtime import require_memory

__all__ = ["CCAData", "CCAInputs", "canonical_correlations", "check_inputs", "check_masks", "check_views",
           "masked_views", "standardize_masked"]


@dataclass(frozen=True)
class CCAInputs:
    """Validated raw inputs: X (n, p), Ys (K, n, q), Lx (p, p), Ly (K, q, q), as float64 NumPy.

    snp_names : X's column names when X was a DataFrame, else None; region_names : K such lists
    (or None) for the modalities.
    """

    X: np.ndarray
    Ys: np.ndarray
    Lx: np.ndarray
    Ly: np.ndarray
    snp_names: list | None = None
    region_names: tuple = ()


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class CCAData:
    """What a solver sees.

    X : (n, p) standardized SNPs, rows outside ``mask`` set to 0.
    Ys : (K, n, q) standardized modalities, rows outside ``mask`` set to 0.
    Lx : (p, p) SNP Laplacian; Ly : (K, q, q) region Laplacian per modality.
    groups : (p,) int SNP group labels in [0, p) (used by group penalties).
    mask : (n,) 1.0 for the rows learned from, else 0.0.
    """

    X: jax.Array
    Ys: jax.Array
    Lx: jax.Array
    Ly: jax.Array
    groups: jax.Array
    mask: jax.Array

    @property
    def n_rows(self) -> jax.Array:
        """Number of rows learned from (a traced scalar)."""
        return self.mask.sum()


def check_inputs(X, Ys, Lx=None, Ly=None) -> CCAInputs:
    """Validate shapes and values; build the default Laplacians (|r|² correlation graphs).

    ``Ys`` is a sequence of K arrays (n, q) or an array (K, n, q); ``Ly`` is (q, q), shared by all
    modalities, or (K, q, q). With ``Lx`` or ``Ly`` omitted, the Laplacian of the |r|²-weighted
    correlation graph of X (LD) or of each Y_k is used. pandas inputs are paired by subject id
    (the index), labelled Laplacians by X's and Ys[0]'s columns (:mod:`jaxgen.data.align`).
    """
    X, Ys, snp_names, region_names = labelled_views(X, Ys)
    (K, _, q), p = Ys.shape, X.shape[1]
    require_memory(8.0 * 3 * (p * p + K * q * q), f"the (p, p) and (q, q) Gram and Laplacian matrices of p = {p} "
                   f"SNPs and {K} modalities of q = {q} regions", "analyse fewer SNPs (select them by id or "
                   "position)", host=True)
    if Lx is None:
        Lx = correlation_laplacian(column_correlation(X, "X"))
    Lx = _laplacian_like(align_columns(Lx, snp_names, "Lx", "X's columns", square=True), "Lx", p)
    if Ly is None:
        Ly = np.stack([correlation_laplacian(column_correlation(Y, f"Ys[{k}]")) for k, Y in enumerate(Ys)])
    Ly = np.asarray(align_columns(Ly, region_names[0], "Ly", "Ys[0]'s columns", square=True), dtype=float)
    if Ly.ndim == 2:
        Ly = np.broadcast_to(_laplacian_like(Ly, "Ly", q), (K, q, q))
    elif Ly.ndim == 3 and Ly.shape[0] == K:
        Ly = np.stack([_laplacian_like(L, f"Ly[{k}]", q) for k, L in enumerate(Ly)])
    else:
        raise ValueError(f"Ly must be (q, q) = ({q}, {q}) or (K, q, q) = ({K}, {q}, {q}), got shape {Ly.shape}")
    return CCAInputs(X=X, Ys=Ys, Lx=Lx, Ly=np.ascontiguousarray(Ly), snp_names=snp_names,
                     region_names=region_names)


def check_views(X, Ys) -> tuple[np.ndarray, np.ndarray]:
    """Validate X (n, p) and the modalities Ys; returns float64 X (n, p) and Ys (K, n, q)."""
    X, Ys, _, _ = labelled_views(X, Ys)
    return X, Ys


def labelled_views(X, Ys) -> tuple[np.ndarray, np.ndarray, list | None, tuple]:
    """X and the modalities paired by subject id and checked (:func:`jaxgen.data.values.checked_matrix`;
    the modalities are screened for extreme outliers).

    Returns X (n, p), Ys (K, n, q) as float64 NumPy, X's column names (or None) and the K modalities'
    column names (each None when not a DataFrame).
    """
    if isinstance(Ys, np.ndarray | jax.Array) and np.ndim(Ys) == 3:
        Ys = list(np.asarray(Ys))
    elif isinstance(Ys, np.ndarray | jax.Array | pd.DataFrame | pd.Series) and np.ndim(Ys) <= 2:
        raise ValueError("Ys must be a sequence of K matrices (n, q) or an array (K, n, q); "
                         "wrap a single modality as [Y]")
    Ys = list(Ys)
    views, subjects = align_rows({"X": X, **{f"Ys[{k}]": Y for k, Y in enumerate(Ys)}})
    dtype = jnp.result_type(float)

    def matrix(name, screen):
        value = views[name]
        return checked_matrix(value, name, rows=subjects, columns=_columns(value), dtype=dtype, screen=screen)

    X = matrix("X", screen=False)
    if X.shape[0] < 3:
        raise ValueError(f"need at least 3 subjects, got n={X.shape[0]}")
    region_names = tuple(_columns(views[f"Ys[{k}]"]) for k in range(len(Ys)))
    return X, _modalities([matrix(f"Ys[{k}]", screen=True) for k in range(len(Ys))], X.shape[0]), \
        _columns(views["X"]), region_names


def _columns(value) -> list | None:
    return list(value.columns) if isinstance(value, pd.DataFrame) else None


def _modalities(Ys, n):
    """Stack the K checked modalities (n, q) into (K, n, q), checking each against X's n rows and a common q."""
    if not Ys:
        raise ValueError("Ys must hold at least one modality")
    for k, Y in enumerate(Ys):
        if Y.shape[0] != n:
            raise ValueError(f"Ys[{k}] has {Y.shape[0]} rows but X has {n}: every modality needs the same subjects")
        if Y.shape[1] != Ys[0].shape[1]:
            raise ValueError(f"Ys[{k}] has {Y.shape[1]} regions but Ys[0] has {Ys[0].shape[1]}: "
                             "modalities must share the regions")
    return np.stack(Ys)


def _laplacian_like(L, name, d):
    L = checked_matrix(L, name, dtype=jnp.result_type(float))
    if L.shape != (d, d):
        raise ValueError(f"{name} must be square ({d}, {d}) to match the data, got shape {L.shape}")
    if not np.allclose(L, L.T, rtol=0, atol=1e-10 * max(1.0, np.abs(L).max())):
        raise ValueError(f"{name} must be symmetric")
    if np.linalg.eigvalsh(L)[0] < -1e-8 * max(1.0, np.abs(L).max()):
        raise ValueError(f"{name} must be positive semi-definite (a graph Laplacian)")
    return L


def check_masks(inputs: CCAInputs, masks: np.ndarray, what: str) -> None:
    """Refuse row subsets (S, n) on which some column of X or of a Y_k is constant (no sd); ``what``
    names subset s in the message (``"training fold {s}"``)."""
    for name, A in [("X", inputs.X)] + [(f"Ys[{k}]", Y) for k, Y in enumerate(inputs.Ys)]:
        counts = masks.sum(axis=1, keepdims=True)
        mean = masks @ A / counts
        var = masks @ A ** 2 / counts - mean ** 2
        bad = np.argwhere(~(var > 1e-12 * np.maximum(1.0, mean ** 2)))
        if bad.size:
            s, j = bad[0]
            raise ValueError(f"column {j} of {name} is constant on {what.format(s=s)}: it cannot be standardized")


def standardize_masked(A: jax.Array, mask: jax.Array):
    """Standardize the columns of A (n, d) by the mean and sample sd (ddof = 1) of the rows in mask (n,).

    Returns (Z (n, d) for every row, mean (d,), sd (d,)).
    """
    weights = mask[:, None]
    count = mask.sum()
    mean = (weights * A).sum(axis=0) / count
    sd = jnp.sqrt((weights * (A - mean) ** 2).sum(axis=0) / (count - 1.0))
    return (A - mean) / sd, mean, sd


def masked_views(X, Ys, mask, standardize: bool):
    """Standardized views on the rows in ``mask`` (n,) (or as given when not ``standardize``).

    Returns Zx (n, p), Zys (K, n, q) over every row, and (x_mean, x_sd, y_mean (K, q), y_sd (K, q)).
    """
    if not standardize:
        p, (K, _, q) = X.shape[1], Ys.shape
        return X, Ys, (jnp.zeros(p), jnp.ones(p), jnp.zeros((K, q)), jnp.ones((K, q)))
    Zx, x_mean, x_sd = standardize_masked(X, mask)
    Zys, y_mean, y_sd = jax.vmap(standardize_masked, in_axes=(0, None))(Ys, mask)
    return Zx, Zys, (x_mean, x_sd, y_mean, y_sd)


def canonical_correlations(Zx, Zys, U, V, mask) -> jax.Array:
    """Pearson correlation (K,) of X u_k with Y_k v_k over the rows in ``mask``.

    Zx : (n, p), Zys : (K, n, q), U : (p, K), V : (q, K), mask : (n,).
    """
    hi = jax.lax.Precision.HIGHEST
    a = jnp.matmul(Zx, U, precision=hi)                                 # (n, K)
    b = jnp.einsum("knq,qk->nk", Zys, V, precision=hi)                  # (n, K)
    w = mask[:, None] / mask.sum()
    a = a - (w * a).sum(axis=0)
    b = b - (w * b).sum(axis=0)
    return (w * a * b).sum(axis=0) / jnp.sqrt((w * a * a).sum(axis=0) * (w * b * b).sum(axis=0))
