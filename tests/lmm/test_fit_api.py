"""The fit API: labelled posterior, diagnostics, tables, the convergence gate, determinism, bad input."""

import jax
import numpy as np
import pandas as pd
import pytest
from numpyro.infer import MCMC

from jaxgen import lmm
from jaxgen.data import simulate_spatial_lmm, unit_scale_covariates
from jaxgen.stats import cct_log


@pytest.fixture(scope="module")
def study():
    return simulate_spatial_lmm(5, n=120, p=8, c=6, n_causal=2, rho=0.5, h2=0.3, effect=0.3)


@pytest.fixture(scope="module")
def result(study):
    d = study
    return lmm.fit(d.Y, d.X, d.adjacency, covariates=d.covariates, kinship=d.kinship, snp_ids=d.snp_ids,
                   region_names=d.region_names, num_chains=3, num_warmup=200, num_samples=400, progress=False)


def test_posterior_is_a_labelled_datatree(result, study):
    post = result.posterior["posterior"]
    assert post["B"].dims == ("chain", "draw", "snp", "qt")
    assert post["B"].shape == (3, 400, 8, 6)
    assert list(post["snp"].values) == study.snp_ids and list(post["qt"].values) == study.region_names
    for name in ("Gamma", "tau2", "sigma2", "h2", "rho"):
        assert name in post


def test_diagnostics_report_rhat_ess_and_mcse(result):
    table = result.diagnostics(var_names=["rho", "sigma2", "h2"])
    assert {"r_hat", "ess_bulk", "ess_tail", "mcse_mean"} <= set(table.columns)
    assert (table["r_hat"] < 1.05).all()


def test_association_and_snp_tables(result, study):
    table = result.associations()
    assert len(table) == 8 * 6
    for column in ("snp", "qt", "mean", "sd", "q2.5", "q97.5", "beta", "se", "z", "p_value", "posterior_z",
                   "posterior_log10_p", "rhat", "ess_bulk", "ess_tail", "passed"):
        assert column in table
    assert table["p_value"].between(0, 1).all()
    assert (table["q2.5"] < table["mean"]).all() and (table["mean"] < table["q97.5"]).all()
    snps = result.snp_tests(test="posterior")
    assert list(snps["snp"]) == study.snp_ids and (snps["n_qts"] + snps["n_excluded"] == 6).all()
    gated = table.assign(passed=table["passed"] & (np.arange(len(table)) % 3 != 0))  # some pairs fail the gate
    one_by_one = pd.DataFrame([result._combine(snp, rows) for snp, rows in gated.groupby("snp", sort=False)],
                              columns=["snp", "p_value", "log10_p", "n_qts", "n_excluded"])
    pd.testing.assert_frame_equal(result._combine_per_snp(gated), one_by_one, rtol=1e-6)
    sets = result.set_tests({"gene1": study.snp_ids[:3], "gene2": study.snp_ids[3:]})
    assert list(sets["set"]) == ["gene1", "gene2"] and sets["p_value"].between(0, 1).all()
    with pytest.raises(ValueError, match="not in the fit"):
        result.set_tests({"g": ["nope"]})


def test_convergence_gate_excludes_pairs_with_a_warning_naming_them(study):
    d = study
    fit = lmm.fit(d.Y, d.X, d.adjacency, num_chains=2, num_warmup=50, num_samples=100, progress=False,
                  ess_min=10_000, snp_ids=d.snp_ids)
    with pytest.warns(lmm.ConvergenceGateWarning, match=d.snp_ids[0]):
        tests = fit.snp_tests(test="posterior")
    assert (tests["n_qts"] == 0).all() and tests["p_value"].isna().all()
    assert fit.snp_tests()["p_value"].between(0, 1).all()  # the score tests need no convergence gate


def test_every_snp_test_and_set_test_is_offered(study):
    """snp_tests(test=...) for each test; a gene's set test is the Cauchy combination of its SNPs' p-values; unknown names are refused."""
    d = study
    fit = lmm.fit(d.Y, d.X, d.adjacency, num_chains=2, num_warmup=50, num_samples=100, progress=False,
                  snp_ids=d.snp_ids, ess_min=1)
    tables = {test: fit.snp_tests(test=test) for test in lmm.SNP_TESTS}
    for test, table in tables.items():
        assert list(table["snp"]) == d.snp_ids and table["p_value"].between(0, 1).all(), test
    genes = fit.set_tests({"g": d.snp_ids[:3]}, test="spatial")
    expected = cct_log(np.log(10) * tables["spatial"]["log10_p"].to_numpy()[:3])
    assert genes["log10_p"].iloc[0] * np.log(10) == pytest.approx(float(expected), rel=1e-10)
    with pytest.raises(ValueError, match="test must be one of"):
        fit.snp_tests(test="fisher")


def test_same_seed_same_draws_and_dataframe_labels(study):
    d = study
    Y = pd.DataFrame(d.Y, columns=d.region_names)
    X = pd.DataFrame(d.X, columns=d.snp_ids)
    a, b = (lmm.fit(Y, X, d.adjacency, num_chains=2, num_warmup=20, num_samples=30, progress=False, seed=4)
            for _ in range(2))
    np.testing.assert_array_equal(np.asarray(a.draws["B"]), np.asarray(b.draws["B"]))
    assert list(a.posterior["posterior"]["snp"].values) == d.snp_ids


def test_non_spatial_baseline_fixes_rho_at_zero(study):
    d = study
    fit = lmm.fit(d.Y, d.X, d.adjacency, priors=lmm.Priors(rho_max=0.0), num_chains=2, num_warmup=20,
                  num_samples=30, progress=False)
    assert np.all(np.asarray(fit.draws["rho"]) == 0) and "h2" not in fit.draws


def test_one_region_fits_and_its_rho_follows_the_prior(study):
    """One QT (adjacency [0], Q(ρ) = 1): the sampler runs, the SNP tests give a p-value per SNP, and ρ,
    which the likelihood no longer involves, is drawn from its Uniform(0, 0.99) prior: mean 0.495 within
    4 MCSE, sd 0.99/√12 within 4 MCSE of the sd."""
    d = study
    one = lmm.fit(d.Y[:, :1], d.X, np.zeros((1, 1)), covariates=d.covariates, kinship=d.kinship, num_chains=2,
                  num_warmup=200, num_samples=1000, progress=False)
    assert one.posterior["posterior"]["B"].shape == (2, 1000, 8, 1)
    assert np.isfinite(one.posterior["posterior"]["B"].values).all()
    tests = one.snp_tests()
    assert len(tests) == 8 and tests["p_value"].between(0, 1).all()
    rho = one.diagnostics(var_names=["rho"]).iloc[0]
    draws = np.asarray(one.draws["rho"])
    assert abs(draws.mean() - 0.495) < 4 * rho["mcse_mean"]
    assert abs(draws.std(ddof=1) - 0.99 / np.sqrt(12)) < 4 * rho["mcse_sd"]


def test_covariates_in_large_units_give_the_posterior_of_unit_scale_ones(study):
    """An intracranial-volume-like covariate (1.5e6 ± 1.5e5, next to the intercept) once collapsed every SNP
    effect to 0 in float32; on the unit scale the model works on, the draws equal those with the covariate
    in sd units, and its span is unchanged (same least-squares fit)."""
    d = study
    big = d.covariates.copy()
    big[:, 1] = 1.5e6 + 1.5e5 * d.covariates[:, 1]
    C_unit = unit_scale_covariates(big)
    fitted = C_unit @ np.linalg.lstsq(C_unit, d.Y, rcond=None)[0]
    np.testing.assert_allclose(fitted, big @ np.linalg.lstsq(big, d.Y, rcond=None)[0], atol=1e-8)
    np.testing.assert_allclose(C_unit[:, 0], 1.0)
    np.testing.assert_allclose(C_unit[:, 1:].std(axis=0, ddof=1), 1.0)
    fits = [lmm.fit(d.Y, d.X, d.adjacency, covariates=C, kinship=d.kinship, num_chains=2, num_warmup=100,
                    num_samples=200, progress=False) for C in (d.covariates, big)]
    unit, large = (np.asarray(f.draws["B"]) for f in fits)
    np.testing.assert_allclose(large, unit, atol=1e-4)
    assert np.abs(large.mean(axis=(0, 1))).max() > 0.1


def test_spatial_gibbs_runs_inside_numpyro_mcmc_vectorized(study):
    d = study
    data, _ = lmm.prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship)
    mcmc = MCMC(lmm.SpatialGibbs(), num_warmup=50, num_samples=100, num_chains=3, chain_method="vectorized",
                progress_bar=False)
    mcmc.run(jax.random.key(0), data, lmm.Priors())
    samples = mcmc.get_samples(group_by_chain=True)
    assert samples["B"].shape == (3, 100, 8, 6) and samples["h2"].shape == (3, 100)
    with pytest.raises(ValueError, match="spatial_lmm_model only"):
        lmm.SpatialGibbs(model=lambda: None)


def test_svi_gives_draws_near_the_gibbs_posterior(study, result):
    d = study
    fit = lmm.fit(d.Y, d.X, d.adjacency, covariates=d.covariates, kinship=d.kinship, method="svi",
                  num_chains=2, num_samples=500, svi_steps=3000, progress=False)
    gibbs_mean = np.asarray(result.draws["B"]).mean(axis=(0, 1))
    svi_mean = np.asarray(fit.draws["B"]).mean(axis=(0, 1))
    assert np.abs(svi_mean - gibbs_mean).max() < 0.1
    assert fit.snp_tests()["p_value"].between(0, 1).all()


def ring(c):
    A = np.zeros((c, c))
    for i in range(c):
        A[i, (i + 1) % c] = A[(i + 1) % c, i] = 1
    return A


@pytest.mark.parametrize("change, message", [
    (dict(X=np.ones((9, 3))), "X has 9 rows"),
    (dict(Y=np.where(np.eye(10, 4) == 1, np.nan, 0.5)), "non-finite values, the first at row 0, column 0"),
    (dict(adjacency=np.triu(ring(4))), "symmetric"),
    (dict(adjacency=np.pad(ring(3), ((0, 1), (0, 1)))), "isolated regions"),
    (dict(adjacency=ring(5)), "adjacency is 5 x 5 but Y has 4"),
    (dict(kinship=-np.eye(10)), "not positive semi-definite"),
    (dict(kinship=np.eye(9)), r"kinship must be \(10, 10\)"),
    (dict(X=np.column_stack([np.arange(10.0), np.ones(10), np.arange(10.0) % 3])), "constant columns"),
    (dict(method="mcmc"), "method must be one of"),
    (dict(num_samples=0), "num_samples must be at least 1"),
])
def test_bad_input_is_refused_clearly(change, message):
    rng = np.random.default_rng(0)
    args = dict(Y=rng.normal(size=(10, 4)), X=rng.integers(0, 3, size=(10, 3)).astype(float), adjacency=ring(4),
                kinship=None, method="gibbs", num_samples=10)
    args |= change
    with pytest.raises(ValueError, match=message):
        lmm.fit(args.pop("Y"), args.pop("X"), args.pop("adjacency"), progress=False, num_warmup=5, **args)


SHARDED_CHAINS = """
import json, sys
import jax
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_num_cpu_devices", 3)
from jaxgen import lmm
from jaxgen.data import simulate_spatial_lmm, unit_scale_covariates
d = simulate_spatial_lmm(5, n=120, p=8, c=6, n_causal=2, rho=0.5, h2=0.3, effect=0.3)
r = lmm.fit(d.Y, d.X, d.adjacency, covariates=d.covariates, kinship=d.kinship, num_chains=4, num_warmup=20,
            num_samples=30, progress=False)
json.dump({"devices": len(r.draws["B"].sharding.device_set),
           "draws": {k: v.tolist() for k, v in r.draws.items()}}, sys.stdout)
"""


def test_chains_spread_over_cpu_devices_give_the_single_device_draws(study):
    """Four chains on three CPU devices (a fresh process) run two per device on two of them, and
    their draws are those of one device (to rounding: the batched products change shape)."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", SHARDED_CHAINS], capture_output=True, text=True, env=env, check=True)
    sharded = json.loads(out.stdout)
    d = study
    single = lmm.fit(d.Y, d.X, d.adjacency, covariates=d.covariates, kinship=d.kinship, num_chains=4,
                     num_warmup=20, num_samples=30, progress=False)
    assert sharded["devices"] == 2
    for name, values in single.draws.items():
        np.testing.assert_allclose(sharded["draws"][name], np.asarray(values), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_chain_mesh_uses_the_most_devices_that_divide_the_chains():
    from jaxgen.lmm.driver import chain_mesh

    devices = jax.devices() * 4                                          # stand-ins: only the count matters
    assert [chain_mesh(chains, devices[:count]).size for chains, count in [(4, 3), (6, 4), (5, 2), (8, 4)]] \
        == [2, 3, 1, 4]
