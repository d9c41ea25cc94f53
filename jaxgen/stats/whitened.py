"""Tests of a vector of region scores z ~ N(μ, R) with a known null correlation R, and their omnibus combination.

R = FFᵀ (F lower triangular) and P = R⁻¹ = F⁻ᵀF⁻¹. Each statistic is the most powerful test of one kind of
alternative μ:

* ``quadratic``: zᵀPz ~ χ²_c, any direction (no preference);
* ``burden``: 1ᵀPz/√(1ᵀP1) ~ N(0, 1), one effect shared by every region (μ ∝ 1);
* ``regions``: (Pz)_k/√P_kk ~ N(0, 1), an effect on region k alone (μ ∝ e_k). Under a strong spatial
  correlation the neighbours' scores carry region k's noise, and this test removes it: its noncentrality
  is P_kk times that of z_k itself (P_kk 1.5–2.8 at ρ = 0.9 on the lattices of 6–150 regions);
* ``neighbourhoods``: a_kᵀPz/√(a_kᵀPa_k) ~ N(0, 1) with a_k the indicator of region k and its neighbours
  in the region graph, an effect on a contiguous group of regions (μ ∝ a_k).

The **omnibus** combination is the Cauchy combination of five parts with equal weight: the quadratic, the
burden, and the c per-region tests of each of ``regions``, ``neighbourhoods`` and the scores z themselves
(each part's c p-values with weight 1/(5c); a CCT of CCTs is one CCT with the products of the weights).
Under strong dependence the Cauchy law is off in the bulk (it over-rejects at α = 0.05), so the combination
is referred to its own null law, simulated once per correlation (:func:`omnibus_null_law`, with
:func:`jaxgen.stats.cct_null.refer_to_null`). Far in the tail it is the Cauchy tail: about 5·p of the
quadratic or burden test, 5c·p of the best region, neighbourhood or score test.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular

from jaxgen.stats.cct import cct_log
from jaxgen.stats.cct_null import NULL_DRAWS, bulk_cct_log, gaussian_null_law
from jaxgen.stats.tails import chi2_log_sf, two_sided_log_pvalue, two_sided_pvalue

__all__ = ["OMNIBUS_PARTS", "omnibus_combination", "omnibus_null_law", "omnibus_weights", "whitened_statistics"]

OMNIBUS_PARTS = ("quadratic", "burden", "regions", "neighbourhoods", "scores")
_HIGHEST = jax.lax.Precision.HIGHEST


def whitened_statistics(z, factor, neighbourhoods):
    """(quadratic (...), burden (...), regions (..., c), neighbourhoods (..., c)) of the scores z (..., c).

    factor : (..., c, c) the lower Cholesky factor F of z's null correlation (broadcast against z's leading
    axes: one for all draws of a null law, or one per SNP; the score tests take these directions for the
    average SNP's correlation, with each SNP's own variance: :func:`jaxgen.lmm.null.omnibus_directions`); neighbourhoods : (c, c) 0/1 rows a_k (region k and its
    neighbours). One triangular inverse F⁻¹ gives every statistic: Pz = F⁻ᵀ(F⁻¹z), P_kk = ‖F⁻¹e_k‖²,
    a_kᵀPa_k = ‖F⁻¹a_k‖².
    """
    c = z.shape[-1]
    inverse = solve_triangular(factor, jnp.broadcast_to(jnp.eye(c, dtype=factor.dtype), factor.shape), lower=True)
    white = jnp.einsum("...kl,...l->...k", inverse, z, precision=_HIGHEST)  # F⁻¹z
    ones = jnp.sum(inverse, axis=-1)  # F⁻¹1
    precision_z = jnp.einsum("...lk,...l->...k", inverse, white, precision=_HIGHEST)  # Pz
    local_directions = jnp.matmul(inverse, neighbourhoods.T, precision=_HIGHEST)  # columns F⁻¹a_k
    quadratic = jnp.sum(white * white, axis=-1)
    burden = jnp.sum(white * ones, axis=-1) / jnp.sqrt(jnp.sum(ones * ones, axis=-1))
    regions = precision_z * jax.lax.rsqrt(jnp.sum(inverse * inverse, axis=-2))
    local = (jnp.matmul(precision_z, neighbourhoods.T, precision=_HIGHEST)
             * jax.lax.rsqrt(jnp.sum(local_directions * local_directions, axis=-2)))
    return quadratic, burden, regions, local


def omnibus_weights(c: int) -> jnp.ndarray:
    """Cauchy weights (2 + 3c,) of the omnibus parts in the order of :data:`OMNIBUS_PARTS`, summing to 1."""
    part = 1.0 / len(OMNIBUS_PARTS)
    return jnp.concatenate([jnp.full(2, part), jnp.full(3 * c, part / c)])


def omnibus_combination(log_p_quadratic, log_p_burden, regions, neighbourhoods, log_p_scores):
    """The omnibus Cauchy combination's log p-value (p,), before it is referred to its null law, from the log
    p-values of the quadratic and burden tests (p,), the whitened region and neighbourhood scores (p, c) of
    :func:`whitened_statistics` and the log p-values of the scores themselves (p, c). Exact for p-values far
    below float range (:func:`jaxgen.stats.cct.cct_log`)."""
    parts = jnp.concatenate([log_p_quadratic[:, None], log_p_burden[:, None], two_sided_log_pvalue(regions),
                             two_sided_log_pvalue(neighbourhoods), log_p_scores], axis=1)
    return cct_log(parts, omnibus_weights(log_p_scores.shape[1]).astype(parts.dtype), axis=1)


def omnibus_null_law(correlation, neighbourhoods, draws: int = NULL_DRAWS, seed: int = 0) -> jnp.ndarray:
    """Sorted log p-values (draws,) of the omnibus Cauchy combination over draws z ~ N(0, correlation (c, c)),
    with ``neighbourhoods`` (c, c) as in :func:`whitened_statistics` (the draws of
    :func:`jaxgen.stats.cct_null.gaussian_cct_null`)."""
    return gaussian_null_law(correlation, _simulated_omnibus, (jnp.asarray(neighbourhoods),), draws, seed)


def _simulated_omnibus(z, root, neighbourhoods):
    """log p-values (draws,) of the omnibus combination of the draws z (draws, c) of N(0, root rootᵀ)."""
    c = z.shape[-1]
    quadratic, burden, regions, local = whitened_statistics(z, root, neighbourhoods.astype(z.dtype))
    p = jnp.concatenate([jnp.exp(chi2_log_sf(quadratic, c))[:, None], two_sided_pvalue(burden)[:, None],
                         two_sided_pvalue(regions), two_sided_pvalue(local), two_sided_pvalue(z)], axis=1)
    return bulk_cct_log(p, omnibus_weights(c).astype(z.dtype))
