"""Statistical tests: the Cauchy combination test and classic association baselines."""

from jaxgen.stats.cct import cct, cct_log

__all__ = ["cct", "cct_log"]
