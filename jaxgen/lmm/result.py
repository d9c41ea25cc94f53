"""The result of a spatial LMM fit: labelled posterior, diagnostics, association and SNP tests."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import arviz as az
import jax.numpy as jnp
import numpy as np
import pandas as pd

from jaxgen.lmm.association import conditional_scores, two_sided_log_pvalue
from jaxgen.lmm.data import LMMData
from jaxgen.lmm.diagnostics import diagnostics_table
from jaxgen.lmm.priors import Priors
from jaxgen.stats import cct_log

__all__ = ["LMMResult", "ConvergenceGateWarning"]

_DIMS = {"B": ["snp", "qt"], "Gamma": ["covariate", "qt"], "tau2": ["snp"]}


class ConvergenceGateWarning(UserWarning):
    """Some (SNP, QT) pairs failed R-hat/ESS and were left out of the Cauchy combinations."""


@dataclass
class LMMResult:
    """Posterior of a spatial LMM fit and the tests built on it.

    posterior : arviz DataTree; group ``posterior`` holds B (chain, draw, snp, qt), Gamma, tau2,
        sigma2, h2 (with kinship) and rho.
    method : "gibbs", "nuts" or "svi". rhat_max, ess_min : the convergence gate of the tests.
    seconds : wall time of sampling (compilation included on a first call of a shape).
    """

    draws: dict
    data: LMMData
    snp_ids: list
    region_names: list
    covariate_names: list
    snp_sd: np.ndarray
    method: str
    priors: Priors = Priors()
    rhat_max: float = 1.01
    ess_min: float = 400.0
    seconds: float = float("nan")
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def posterior(self):
        """ArviZ DataTree with named dims and coords (snp ids, region names)."""
        if "posterior" not in self._cache:
            self._cache["posterior"] = az.from_dict(
                {"posterior": {k: np.asarray(v) for k, v in self.draws.items()}},
                dims=_DIMS, coords={"snp": self.snp_ids, "qt": self.region_names,
                                    "covariate": self.covariate_names},
                attrs={"posterior": {"inference_method": self.method}})
        return self._cache["posterior"]

    def diagnostics(self, var_names: Sequence[str] | None = None) -> pd.DataFrame:
        """Rank-normalized R-hat, bulk and tail ESS and MCSE per parameter element: ArviZ's
        ``summary(kind="diagnostics")``, computed for all elements at once (:mod:`jaxgen.lmm.diagnostics`)
        and kept per variable (the convergence gate reads B's)."""
        tables = self._cache.setdefault("diagnostics", {})
        names = list(var_names or self.draws)
        for name in names:
            if name not in tables:
                tables[name] = diagnostics_table(self.posterior["posterior"], [name])
        return pd.concat([tables[name] for name in names])

    def _gate_diagnostics(self):
        """R-hat, bulk and tail ESS of B, each (p, c)."""
        table, shape = self.diagnostics(["B"]), np.shape(self.draws["B"])[2:]
        return tuple(table[column].to_numpy().reshape(shape) for column in ("r_hat", "ess_bulk", "ess_tail"))

    def associations(self) -> pd.DataFrame:
        """One row per (SNP, QT): posterior mean and sd of B, the conditional score z and its p-value,
        R-hat, bulk and tail ESS of B, and whether the pair passed the convergence gate."""
        if "associations" not in self._cache:
            self._cache["associations"] = self._association_table()
        return self._cache["associations"]

    def _association_table(self) -> pd.DataFrame:
        B = np.asarray(self.draws["B"])
        z = np.asarray(conditional_scores(self.draws, self.data, self.priors))
        log_p = np.asarray(two_sided_log_pvalue(z))
        rhat, ess_bulk, ess_tail = self._gate_diagnostics()
        p, c = B.shape[2:]
        mean, sd = B.mean(axis=(0, 1)), B.std(axis=(0, 1), ddof=1)
        table = pd.DataFrame({
            "snp": np.repeat(self.snp_ids, c), "qt": np.tile(self.region_names, p),
            "mean": mean.ravel(), "sd": sd.ravel(),
            "effect_per_allele": (mean / self.snp_sd[:, None]).ravel(),
            "z": z.ravel(), "p_value": np.exp(log_p).ravel(), "log10_p": (log_p / np.log(10)).ravel(),
            "rhat": rhat.ravel(), "ess_bulk": ess_bulk.ravel(), "ess_tail": ess_tail.ravel()})
        table["passed"] = (table["rhat"] <= self.rhat_max) & (table["ess_bulk"] >= self.ess_min)
        return table

    def snp_tests(self) -> pd.DataFrame:
        """One row per SNP: the Cauchy combination over its QTs (column ``p_value``), ``n_qts`` that
        entered, and ``n_excluded`` left out by the convergence gate (with a warning naming them)."""
        table = self.associations()
        self._warn_excluded(table)
        rows = [self._combine(snp, group) for snp, group in table.groupby("snp", sort=False)]
        return pd.DataFrame(rows, columns=["snp", "p_value", "log10_p", "n_qts", "n_excluded"])

    def set_tests(self, sets: Mapping[str, Sequence[str]]) -> pd.DataFrame:
        """One row per named SNP set (gene): the Cauchy combination over every passing (SNP, QT)."""
        table = self.associations()
        unknown = {s for members in sets.values() for s in members} - set(self.snp_ids)
        if unknown:
            raise ValueError(f"SNP sets name SNPs that are not in the fit: {sorted(unknown)[:10]}")
        self._warn_excluded(table)
        rows = [self._combine(name, table[table["snp"].isin(list(members))]) for name, members in sets.items()]
        return pd.DataFrame(rows, columns=["set", "p_value", "log10_p", "n_qts", "n_excluded"])

    @staticmethod
    def _combine(label, rows: pd.DataFrame):
        """(label, p, log10 p, pairs used, pairs excluded) of the CCT over the passing rows."""
        used = rows[rows["passed"]]
        if used.empty:
            return label, np.nan, np.nan, 0, len(rows)
        log_p = float(cct_log(jnp.asarray(np.log(10) * used["log10_p"].to_numpy())))
        return label, float(np.exp(log_p)), log_p / np.log(10), len(used), len(rows) - len(used)

    def _warn_excluded(self, table: pd.DataFrame):
        failed = table[~table["passed"]]
        if failed.empty:
            return
        named = ", ".join(f"{r.snp}/{r.qt} (R-hat {r.rhat:.3f}, ESS {r.ess_bulk:.0f})"
                          for r in failed.head(10).itertuples())
        more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
        warnings.warn(f"{len(failed)} (SNP, QT) pairs failed the convergence gate (R-hat > {self.rhat_max} or "
                      f"bulk ESS < {self.ess_min}) and were left out of the Cauchy combinations: "
                      f"{named}{more}. Run longer chains to include them.", ConvergenceGateWarning, stacklevel=3)
