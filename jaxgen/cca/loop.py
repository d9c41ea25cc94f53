"""The alternating loop every CCA solver runs: one ``lax.while_loop`` with a relative-change stop."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["CCASolution", "alternate", "relative_change", "weight_change"]


class CCASolution(NamedTuple):
    """U : (p, K) SNP weights; V : (q, K) region weights; n_iter : iterations run; converged : bool."""

    U: jax.Array
    V: jax.Array
    n_iter: jax.Array
    converged: jax.Array


def relative_change(new, old) -> jax.Array:
    """‖new − old‖_F / ‖old‖_F."""
    return jnp.linalg.norm(new - old) / jnp.linalg.norm(old)


def weight_change(new, old) -> jax.Array:
    """max(‖ΔU‖_F/‖U‖_F, ‖ΔV‖_F/‖V‖_F) between two carries (U, V, aux) of the loop."""
    return jnp.maximum(relative_change(new[0], old[0]), relative_change(new[1], old[1]))


def alternate(step: Callable, U0, V0, aux0, tol, max_iter, change: Callable = weight_change) -> CCASolution:
    """Run ``(U, V, aux) ← step(U, V, aux)`` until ``change(new, old)`` of the carries (U, V, aux)
    falls below ``tol``, or ``max_iter`` iterations have run.

    The default measure is the largest relative change of U and V (:func:`weight_change`); a method
    with its own stopping rule (JCB-SCCA's relative objective change) passes its own. ``tol = 0``
    runs exactly ``max_iter`` iterations. A NaN (a failed solve) stops the loop; the caller turns it
    into an error. Everything is traced: one compiled loop serves any tol/max_iter.
    """

    def cond(carry):
        it, measure, *_ = carry
        return (it < max_iter) & (measure >= tol)

    def body(carry):
        it, _, U, V, aux = carry
        new = step(U, V, aux)
        return it + 1, change(new, (U, V, aux)), *new

    start = (jnp.asarray(0), jnp.asarray(jnp.inf, U0.dtype), U0, V0, aux0)
    it, measure, U, V, _ = jax.lax.while_loop(cond, body, start)
    return CCASolution(U=U, V=V, n_iter=it, converged=measure < tol)
