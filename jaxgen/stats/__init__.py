"""Statistical tests: the Cauchy combination test and classic association baselines."""

from jaxgen.stats.cct import cct, cct_log
from jaxgen.stats.univariate import UnivariateFit, mass_univariate_ols, student_t_two_sided, student_t_two_sided_log

__all__ = ["UnivariateFit", "cct", "cct_log", "mass_univariate_ols", "student_t_two_sided",
           "student_t_two_sided_log"]
