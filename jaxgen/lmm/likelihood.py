"""The pointwise log likelihood of the spatial LMM over its draws, for PSIS-LOO and WAIC.

**The unit.** A term is the log density of one rotated row ỹ_i (a row of UᵀY, see
:mod:`jaxgen.lmm.data`) given (Γ, B, σ², h², ρ): the c-variate normal N(Γᵀc̃_i + Bᵀx̃_i,
σ² d_i Q(ρ)⁻¹), d_i = h²λ_i + 1 − h². The kinship random effect is not a parameter of the samplers (it
is integrated out into d_i), and the rotated rows are independent given the parameters, so the terms
add up to the log density of the whole data (the rotation is orthogonal). This marginal likelihood
is the right target for leave-one-out: a likelihood conditional on a per-subject random effect would
leave almost nothing out.

**What LOO then means.** Without kinship the rows are the subjects. With kinship a rotated row mixes
every subject: leaving out row i leaves out one eigen-direction of the kinship, not one subject, so
PSIS-LOO over these rows estimates how well the model predicts a new such direction, which is not
exactly leave-one-subject-out (that would need the conditional of a subject given the others, which
is not independent across subjects). Models compared on the same rows (same rotation) have paired
terms, which the standard error of an ELPD difference assumes.

**WAIC.** ArviZ 1.x estimates the ELPD by PSIS-LOO only; :func:`waic` computes Watanabe's WAIC
from the same terms, as a second opinion.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import logsumexp

from jaxgen.lmm.data import LMMData
from jaxgen.lmm.model import observation_distribution

__all__ = ["pointwise_log_likelihood", "waic"]


@partial(jax.jit, static_argnames="batch_size")
def pointwise_log_likelihood(draws: dict, data: LMMData, batch_size: int = 64) -> jnp.ndarray:
    """log p(ỹ_i | Γ_s, B_s, σ²_s, h²_s, ρ_s), (chains, draws, n), for every kept draw s and rotated row i.

    draws : the latent sites, each (chains, draws, ...) (``h2`` absent without kinship). One compiled
    map over the draws, ``batch_size`` draws of every chain at a time (memory chains × batch_size × n × c).
    """
    names = ("Gamma", "B", "sigma2", "rho", *(("h2",) if "h2" in draws else ()))
    sites = {name: draws[name] for name in names}

    def one_draw(site):
        h2 = site.get("h2", jnp.zeros((), data.Y.dtype))
        law = observation_distribution(data, site["Gamma"], site["B"], site["sigma2"], h2, site["rho"])
        return law.row_log_prob(data.Y)

    # vmapped over the chains, mapped over each chain's draws: draws sharded by chain (the Gibbs driver's
    # output) stay on their devices; a map over chains × draws flattened would gather them on each device
    return jax.vmap(lambda chain: jax.lax.map(one_draw, chain, batch_size=batch_size))(sites)


def waic(log_likelihood) -> dict:
    """WAIC's ELPD estimate from pointwise log likelihoods (chains, draws, n) (Watanabe 2010; Vehtari,
    Gelman & Gabry 2017, eq. 3–5 and 23): ``elpd_waic`` = Σ_i lppd_i − p_i with p_i the variance over
    draws of log p(y_i | θ_s), its standard error ``se_waic`` = √(n Var_i(elpd_i)), and ``p_waic`` = Σ_i p_i."""
    values = np.asarray(log_likelihood, dtype=float)
    values = values.reshape(-1, values.shape[-1])
    lppd = logsumexp(values, axis=0) - np.log(values.shape[0])
    penalty = values.var(axis=0, ddof=1)
    pointwise = lppd - penalty
    return {"elpd_waic": pointwise.sum(), "se_waic": np.sqrt(len(pointwise) * pointwise.var(ddof=1)),
            "p_waic": penalty.sum()}
