"""The alternating loop every CCA solver runs: one ``lax.while_loop`` with a relative-change stop."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["CCASolution", "alternate", "relative_change"]


class CCASolution(NamedTuple):
    """U : (p, K) SNP weights; V : (q, K) region weights; n_iter : iterations run; converged : bool."""

    U: jax.Array
    V: jax.Array
    n_iter: jax.Array
    converged: jax.Array


def relative_change(new, old) -> jax.Array:
    """‖new − old‖_F / ‖old‖_F."""
    return jnp.linalg.norm(new - old) / jnp.linalg.norm(old)


def alternate(step: Callable, U0, V0, aux0, tol, max_iter) -> CCASolution:
    """Run ``(U, V, aux) ← step(U, V, aux)`` until the largest relative change of U and V,
    max(‖ΔU‖_F/‖U‖_F, ‖ΔV‖_F/‖V‖_F), falls below ``tol``, or ``max_iter`` iterations have run.

    ``tol = 0`` runs exactly ``max_iter`` iterations. A NaN (a failed solve) stops the loop; the
    caller turns it into an error. Everything is traced: one compiled loop serves any tol/max_iter.
    """

    def cond(carry):
        it, change, *_ = carry
        return (it < max_iter) & (change >= tol)

    def body(carry):
        it, _, U, V, aux = carry
        U_new, V_new, aux = step(U, V, aux)
        change = jnp.maximum(relative_change(U_new, U), relative_change(V_new, V))
        return it + 1, change, U_new, V_new, aux

    start = (jnp.asarray(0), jnp.asarray(jnp.inf, U0.dtype), U0, V0, aux0)
    it, change, U, V, _ = jax.lax.while_loop(cond, body, start)
    return CCASolution(U=U, V=V, n_iter=it, converged=change < tol)
