"""Test-wide settings: float64 on (tests asserting exactness need it; float32 paths pass explicit dtypes)."""

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
