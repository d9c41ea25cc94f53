"""The result of a spatial LMM fit: labelled posterior, diagnostics, association and SNP tests."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from jaxgen.lmm.association import conditional_scores
from jaxgen.lmm.data import LMMData
from jaxgen.lmm.null import NullModel, fit_null_model
from jaxgen.lmm.diagnostics import diagnostics_table
from jaxgen.lmm.likelihood import pointwise_log_likelihood
from jaxgen.lmm.priors import Priors
from jaxgen.lmm.scores import TESTS, ScoreTests, score_tests
from jaxgen.stats import cct_log
from jaxgen.stats.tails import p_value, two_sided_log_pvalue

__all__ = ["LMMResult", "ConvergenceGateWarning", "SNP_TESTS"]

SNP_TESTS = (*TESTS, "posterior")
_LOG10 = np.log(10)

_DIMS = {"B": ["snp", "qt"], "Gamma": ["covariate", "qt"], "tau2": ["snp"], "Y": ["row"]}


class ConvergenceGateWarning(UserWarning):
    """Some (SNP, QT) pairs failed R-hat/ESS and were left out of the Cauchy combinations."""


@dataclass
class LMMResult:
    """Posterior of a spatial LMM fit and the tests built on it.

    posterior : arviz DataTree; group ``posterior`` holds B (chain, draw, snp, qt), Gamma, tau2,
        sigma2, h2 (with kinship) and rho: the joint fit, the tool for effects (means, sds, credible
        intervals, shrinkage across regions); group ``log_likelihood`` holds Y (chain, draw, row), the
        pointwise log likelihood of the rotated rows for PSIS-LOO (:mod:`jaxgen.lmm.likelihood`).
    null_model : the null model (no SNPs) the SNP tests are computed against (:mod:`jaxgen.lmm.null`),
        fitted on first use with ``heritability``.
    method : "gibbs", "nuts" or "svi". rhat_max, ess_min : the convergence gate of ``test="posterior"``.
    seconds : wall time of sampling (compilation included on a first call of a shape).
    sampled_log_likelihood : (chains, draws, n) the rows' log likelihood at each draw where the sampler
        recorded it (the Gibbs driver does); otherwise :attr:`log_likelihood` computes it from the draws.
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
    heritability: str = "per-region"
    sampled_log_likelihood: Any = None
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def posterior(self):
        """ArviZ DataTree with named dims and coords (snp ids, region names)."""
        if "posterior" not in self._cache:
            self._cache["posterior"] = self._datatree({"log_likelihood": {"Y": self.log_likelihood}})
        return self._cache["posterior"]

    def _draws(self):
        """The ``posterior`` group alone (diagnostics need no log likelihood)."""
        if "posterior" in self._cache:
            return self._cache["posterior"]["posterior"]
        if "draws" not in self._cache:
            self._cache["draws"] = self._datatree({})["posterior"]
        return self._cache["draws"]

    def _datatree(self, groups: dict):
        return az.from_dict({"posterior": {k: np.asarray(v) for k, v in self.draws.items()}, **groups},
                            dims=_DIMS, coords={"snp": self.snp_ids, "qt": self.region_names,
                                                "covariate": self.covariate_names},
                            attrs={"posterior": {"inference_method": self.method}})

    @property
    def log_likelihood(self) -> np.ndarray:
        """(chains, draws, n) log p(ỹ_i | draw) of every rotated row (:mod:`jaxgen.lmm.likelihood`: without
        kinship the rows are the subjects; with kinship, the kinship eigen-directions)."""
        if "log_likelihood" not in self._cache:
            values = self.sampled_log_likelihood
            if values is None:
                values = pointwise_log_likelihood({k: jnp.asarray(v) for k, v in self.draws.items()}, self.data)
            self._cache["log_likelihood"] = np.asarray(values)
        return self._cache["log_likelihood"]

    def diagnostics(self, var_names: Sequence[str] | None = None) -> pd.DataFrame:
        """Posterior mean, sd, 2.5% and 97.5% quantiles, then rank-normalized R-hat, bulk and tail ESS and MCSE
        per parameter element (ArviZ's ``summary(kind="diagnostics")`` after the statistics), computed for all
        elements at once (:mod:`jaxgen.lmm.diagnostics`) and kept per variable (the convergence gate and the
        association table read B's)."""
        tables = self._cache.setdefault("diagnostics", {})
        names = list(var_names or self.draws)
        for name in names:
            if name not in tables:
                tables[name] = diagnostics_table(self._draws(), [name], statistics=True)
        return pd.concat([tables[name] for name in names])

    def _summary_of_b(self, *columns):
        """Columns of B's :meth:`diagnostics` table, each (p, c)."""
        table, shape = self.diagnostics(["B"]), np.shape(self.draws["B"])[2:]
        return tuple(table[column].to_numpy().reshape(shape) for column in columns)

    @property
    def null_model(self) -> NullModel:
        """The REML null model of the SNP tests: covariates + kinship + region correlation, no SNPs."""
        if "null_model" not in self._cache:
            self._cache["null_model"] = fit_null_model(self.data, heritability=self.heritability)
        return self._cache["null_model"]

    def score_tests(self) -> ScoreTests:
        """Marginal score tests of every SNP against :attr:`null_model` (:mod:`jaxgen.lmm.scores`)."""
        if "score_tests" not in self._cache:
            snps = self.data.W[:, self.data.n_covariates:]
            self._cache["score_tests"] = jax.block_until_ready(score_tests(self.null_model, snps))
        return self._cache["score_tests"]

    def associations(self) -> pd.DataFrame:
        """One row per (SNP, QT).

        From the joint posterior: ``mean``, ``sd``, ``q2.5``, ``q97.5`` (95% credible interval) of B
        (per sd of dosage), ``effect_per_allele``; R-hat, bulk and tail ESS, and ``passed`` (the
        convergence gate); ``posterior_z`` and ``posterior_log10_p``, the seed's conditional score.
        From the marginal score test against the null model: ``beta`` and ``se`` (GLS effect per
        allele), ``z``, ``p_value``, ``log10_p``.
        """
        if "associations" not in self._cache:
            self._cache["associations"] = self._association_table()
        return self._cache["associations"]

    def _association_table(self) -> pd.DataFrame:
        z_conditional = conditional_scores(self.draws, self.data, self.priors)
        conditional = np.asarray(two_sided_log_pvalue(z_conditional))
        z_conditional = np.asarray(z_conditional)
        marginal = self.score_tests()
        log_p = np.asarray(marginal.log_p)
        mean, sd, low, high, rhat, ess_bulk, ess_tail = self._summary_of_b("mean", "sd", "q2.5", "q97.5", "r_hat",
                                                                           "ess_bulk", "ess_tail")
        p, c = mean.shape
        per_allele = 1.0 / self.snp_sd[:, None]
        table = pd.DataFrame({
            "snp": np.repeat(self.snp_ids, c), "qt": np.tile(self.region_names, p),
            "mean": mean.ravel(), "sd": sd.ravel(), "q2.5": low.ravel(), "q97.5": high.ravel(),
            "effect_per_allele": (mean * per_allele).ravel(),
            "beta": (np.asarray(marginal.beta) * per_allele).ravel(), "se": (np.asarray(marginal.se) * per_allele).ravel(),
            "z": np.asarray(marginal.z).ravel(), "p_value": p_value(log_p).ravel(), "log10_p": (log_p / _LOG10).ravel(),
            "posterior_z": z_conditional.ravel(), "posterior_log10_p": (conditional / _LOG10).ravel(),
            "rhat": rhat.ravel(), "ess_bulk": ess_bulk.ravel(), "ess_tail": ess_tail.ravel()})
        table["passed"] = (table["rhat"] <= self.rhat_max) & (table["ess_bulk"] >= self.ess_min)
        return table

    def snp_tests(self, test: str = "omnibus") -> pd.DataFrame:
        """One row per SNP: ``p_value`` and ``log10_p`` of ``test``.

        test : one of "omnibus" (default: the Cauchy combination of "spatial", "burden" and the whitened
            region, neighbourhood and per-region tests, referred to its simulated null law), "cct" (the
            Cauchy combination over regions of the per-region score tests), "spatial" (whitened χ²_c
            with the null model's CAR-and-factor correlations), "empirical" (the same with the residuals'
            average-SNP correlation, Hotelling's law), "burden" (one effect on every region), all marginal score
            tests against :attr:`null_model`, with ``log10_p_<test>`` columns for each; or "posterior", the seed's construction (the Cauchy
            combination of the conditional per-pair p-values of the MCMC fit over the pairs that pass
            the convergence gate, with ``n_qts`` and ``n_excluded``).
        """
        _check_test(test)
        if test == "posterior":
            table = self.associations()
            self._warn_excluded(table)
            return self._combine_per_snp(table)
        tests = self.score_tests()
        log_p = np.asarray(tests.log_p_of(test))
        table = pd.DataFrame({"snp": self.snp_ids, "p_value": p_value(log_p), "log10_p": log_p / _LOG10})
        for name in TESTS:
            table[f"log10_p_{name}"] = np.asarray(tests.log_p_of(name)) / _LOG10
        return table

    def set_tests(self, sets: Mapping[str, Sequence[str]], test: str = "omnibus") -> pd.DataFrame:
        """One row per named SNP set (gene): the Cauchy combination of its SNPs' ``test`` p-values
        (for "posterior", of every passing (SNP, QT) pair), with ``n_snps``."""
        _check_test(test)
        unknown = {s for members in sets.values() for s in members} - set(self.snp_ids)
        if unknown:
            raise ValueError(f"SNP sets name SNPs that are not in the fit: {sorted(unknown)[:10]}")
        if test == "posterior":
            table = self.associations()
            self._warn_excluded(table)
            rows = [self._combine(name, table[table["snp"].isin(list(members))]) for name, members in sets.items()]
            return pd.DataFrame(rows, columns=["set", "p_value", "log10_p", "n_qts", "n_excluded"])
        log_p = pd.Series(np.asarray(self.score_tests().log_p_of(test)), index=self.snp_ids)
        rows = []
        for name, members in sets.items():
            combined = float(cct_log(jnp.asarray(log_p.loc[list(members)].to_numpy()))) if len(members) else np.nan
            rows.append((name, float(p_value(combined)), combined / _LOG10, len(members)))
        return pd.DataFrame(rows, columns=["set", "p_value", "log10_p", "n_snps"])

    @staticmethod
    def _combine_per_snp(table: pd.DataFrame) -> pd.DataFrame:
        """Per SNP (in order of first appearance), the CCT over its passing (SNP, QT) rows of ``table``,
        in one vectorized call: columns snp, p_value, log10_p, n_qts (pairs used), n_excluded."""
        snps = pd.unique(table["snp"])
        rows = pd.Categorical(table["snp"], categories=snps).codes
        columns = pd.Categorical(table["qt"], categories=pd.unique(table["qt"])).codes
        shape = (len(snps), int(columns.max()) + 1 if len(columns) else 0)
        log_p, used = np.zeros(shape), np.zeros(shape)
        log_p[rows, columns] = _LOG10 * table["posterior_log10_p"].to_numpy()
        used[rows, columns] = table["passed"].to_numpy()
        n_used = used.sum(axis=1).astype(int)
        combined = np.asarray(cct_log(jnp.asarray(log_p), weights=jnp.asarray(np.maximum(used, n_used[:, None] == 0)),
                                      axis=1), float)
        combined = np.where(n_used > 0, combined, np.nan)
        n_rows = np.bincount(rows, minlength=len(snps))
        return pd.DataFrame({"snp": snps, "p_value": p_value(combined), "log10_p": combined / _LOG10,
                             "n_qts": n_used, "n_excluded": n_rows - n_used})

    @staticmethod
    def _combine(label, rows: pd.DataFrame):
        """(label, p, log10 p, pairs used, pairs excluded) of the CCT over the passing rows."""
        used = rows[rows["passed"]]
        if used.empty:
            return label, np.nan, np.nan, 0, len(rows)
        log_p = float(cct_log(jnp.asarray(_LOG10 * used["posterior_log10_p"].to_numpy())))
        return label, float(p_value(log_p)), log_p / _LOG10, len(used), len(rows) - len(used)

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


def _check_test(test):
    if test not in SNP_TESTS:
        raise ValueError(f"test must be one of {SNP_TESTS}, got {test!r}")
