"""Test-wide settings: float64 on (tests asserting exactness need it; float32 paths pass explicit dtypes),
and no compilation cache in the user's folders (a test that wants one gives its own folder)."""

import os

import jax

os.environ["JAXGEN_NO_CACHE"] = "1"
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
