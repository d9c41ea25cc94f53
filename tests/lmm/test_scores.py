"""Marginal score tests against dense GLS algebra, their correlation across regions, and their calibration."""

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.data import simulate_spatial_lmm
from jaxgen.data.pedigree import family_kinship
from jaxgen.graphs import lattice_adjacency
from jaxgen.lmm import scores
from jaxgen.lmm.data import prepare_data
from jaxgen.lmm.null import fit_null_model, inverse_variance_factors
from jaxgen.lmm.scores import TESTS, _direction_scores, _loaded, _variance_moments, _whitened, score_tests
from jaxgen.stats.whitened import whitened_statistics


@pytest.fixture(scope="module")
def study():
    d = simulate_spatial_lmm(2, n=120, p=8, c=5, n_causal=2, rho=0.8, h2=0.5, effect=0.3, graph="ring")
    data, _ = prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship)
    return d, data


def _snps(data):
    return data.W[:, data.n_covariates:]


@pytest.mark.parametrize("heritability", ["per-region", "shared"])
def test_region_scores_equal_dense_gls(study, heritability):
    """z_jk = xᵀP_k y_k / √(xᵀP_k x) with P_k = V⁻¹ − V⁻¹C(CᵀV⁻¹C)⁻¹CᵀV⁻¹, V = σ²_k(h²_k K + (1 − h²_k)I),
    built densely in the subjects' original basis; β̂ and se are the GLS effect and its se."""
    d, data = study
    null = fit_null_model(data, heritability=heritability)
    tests = score_tests(null, _snps(data))
    X = (d.X - d.X.mean(0)) / d.X.std(0, ddof=1)
    C, K, n = d.covariates, d.kinship, len(d.kinship)
    for k in range(d.Y.shape[1]):
        h2, sigma2 = float(null.h2[k]), float(null.sigma2[k])
        V_inv = np.linalg.inv(sigma2 * (h2 * K + (1 - h2) * np.eye(n)))
        P = V_inv - V_inv @ C @ np.linalg.solve(C.T @ V_inv @ C, C.T @ V_inv)
        information = np.einsum("ij,ik,kj->j", X, P, X)
        score = X.T @ P @ d.Y[:, k]
        np.testing.assert_allclose(np.asarray(tests.z[:, k]), score / np.sqrt(information), rtol=1e-9)
        np.testing.assert_allclose(np.asarray(tests.beta[:, k]), score / information, rtol=1e-9)
        np.testing.assert_allclose(np.asarray(tests.se[:, k]), 1 / np.sqrt(information), rtol=1e-9)


def test_whitened_statistic_uses_the_exact_z_covariance(study):
    """zᵀCorr(z)⁻¹z with Cov(s_jk, s_jl) = Σ_i x*_ik x*_il (λ_iΣ_g + Σ_e)_kl / (v_ik v_il), x* the SNP with the
    covariates projected out per region (built densely): equal up to that projection (O(m/n))."""
    d, data = study
    null = fit_null_model(data)
    X = np.asarray(_snps(data))
    v, lam = 1 / np.asarray(null.inverse_variance), np.asarray(null.kinship_eigenvalues)
    C, c = np.asarray(null.covariates), v.shape[1]
    genetic_sd = np.sqrt(np.asarray(null.sigma2 * null.h2))
    residual_sd = np.sqrt(np.asarray(null.sigma2 * (1 - null.h2)))
    R_g, R_e = np.asarray(null.spatial_genetic), np.asarray(null.spatial_residual)
    Sigma_g, Sigma_e = R_g * np.outer(genetic_sd, genetic_sd), R_e * np.outer(residual_sd, residual_sd)
    adjusted = np.stack([X - C @ np.linalg.solve(C.T @ (C / v[:, [k]]), (C / v[:, [k]]).T @ X) for k in range(c)])
    scaled = adjusted / v.T[:, :, None]  # x*_ik / v_ik, (c, n, p)
    covariance = (Sigma_g[:, :, None] * np.einsum("kij,i,lij->klj", scaled, lam, scaled)
                  + Sigma_e[:, :, None] * np.einsum("kij,lij->klj", scaled, scaled))
    z = np.asarray(score_tests(null, _snps(data)).z)
    exact = np.array([z[j] @ np.linalg.solve(_correlation(covariance[:, :, j]), z[j]) for j in range(len(z))])
    ours = np.asarray(_whitened(jnp.asarray(z), _variance_moments(null, _snps(data)), null,
                                null.spatial_genetic, null.spatial_residual)[0])
    np.testing.assert_allclose(ours, exact, rtol=0.03)


@pytest.mark.parametrize("heritability", ["per-region", "shared"])
def test_spatial_test_takes_the_mean_the_residuals_show(study, heritability):
    """The spatial p-value is P(F(c, νc) > T/(cκ_T)) with κ_T = tr(P⁻¹Ŝ)/c, built densely: Ŝ the whitened
    residuals' correlation and P the fit's implied one, the correlation of Σ_i (λ_iΣ_g + Σ_e)/√(v_i v_iᵀ)."""
    from scipy import stats

    _, data = study
    null = fit_null_model(data, heritability=heritability)
    v, lam = 1 / np.asarray(null.inverse_variance), np.asarray(null.kinship_eigenvalues)
    white = np.asarray(null.weighted_residual) * np.sqrt(v)
    sample = _correlation(white.T @ white)
    genetic_sd = np.sqrt(np.asarray(null.sigma2 * null.h2))
    residual_sd = np.sqrt(np.asarray(null.sigma2 * (1 - null.h2)))
    Sigma_g = np.asarray(null.spatial_genetic) * np.outer(genetic_sd, genetic_sd)
    Sigma_e = np.asarray(null.spatial_residual) * np.outer(residual_sd, residual_sd)
    root = 1 / np.sqrt(v)
    implied = _correlation(np.einsum("ik,i,il->kl", root, lam, root) * Sigma_g + (root.T @ root) * Sigma_e)
    c, dof = v.shape[1], null.residual_dof
    kappa = np.trace(np.linalg.solve(implied, sample)) / c
    np.testing.assert_allclose(float(null.spatial_variance_ratio), kappa, rtol=1e-10)
    assert abs(kappa - 1) > 1e-4, "the ratio must differ from 1 for this test to see it"
    tests = score_tests(null, _snps(data))
    statistic = np.asarray(_whitened(tests.z, _variance_moments(null, _snps(data)), null, null.spatial_genetic,
                                     null.spatial_residual)[0])
    np.testing.assert_allclose(np.asarray(tests.log_p_spatial), stats.f.logsf(statistic / (c * kappa), c, c * dof),
                               rtol=1e-8)


@pytest.mark.slow
def test_spatial_test_stays_calibrated_when_the_fitted_rho_is_low(monkeypatch):
    """At ρ = 0.9 on 16 regions the χ²_16 of a fit whose ρ̂ is 0.02 low rejects about 3% at α = 0.05 (the
    estimate's O(1/n) bias is a third of that at n = 400); divided by κ_T the spatial test is within 4
    binomial SEs of 0.05 (3 replicates × 2 000 null SNPs of unrelated subjects)."""
    from jaxgen.lmm import null as null_module
    from jaxgen.stats.tails import chi2_log_sf

    fit = null_module._fit_spatial_correlation
    monkeypatch.setattr(null_module, "_fit_spatial_correlation",
                        lambda corr, weights, car: (fit(corr, weights, car)[0] - 0.02, 0.0))
    rejected, model_chi2 = {"spatial": []}, []
    for seed in range(3):
        Y, X, C, A = _global_factor_null_study(seed, np.ones(16), c=16, rho=0.9, share=0.0, n_snps=2000)
        data, _ = prepare_data(Y, X, A, C)
        null = fit_null_model(data, omnibus=False, cct=False)
        assert null.car_fits, "the misfit check must pass for the spatial test to be the CAR's"
        tests = score_tests(null, _snps(data), ("spatial",))
        rejected["spatial"].append(np.asarray(tests.log_p_spatial) < np.log(0.05))
        statistic, _ = _whitened(tests.z, _variance_moments(null, _snps(data)), null, null.spatial_genetic,
                                 null.spatial_residual)
        model_chi2.append(np.asarray(chi2_log_sf(statistic, 16)) < np.log(0.05))
    model_chi2 = np.concatenate(model_chi2)
    assert model_chi2.mean() < 0.05 - 6 * np.sqrt(0.05 * 0.95 / model_chi2.size), model_chi2.mean()
    _within_four_se_of_five_percent(rejected)


@pytest.mark.parametrize("heritability", ["per-region", "shared"])
def test_empirical_test_of_unrelated_subjects_is_the_exact_manova_test(heritability):
    """Without a kinship the empirical test is the multivariate regression's exact test of one SNP: Wilks'
    Λ = det(E)/det(E + H), E and E + H the residual cross-products of Y on [C, x] and on C, and
    F = (1 − Λ)/Λ · (n − m − c)/c ~ F(c, n − m − c) (dense NumPy and SciPy, float64)."""
    from scipy import stats

    rng = np.random.default_rng(4)
    n, c, p = 90, 6, 5
    C = np.column_stack([np.ones(n), rng.normal(size=n)])
    Y = rng.normal(size=(n, c)) @ rng.normal(size=(c, c)) + 2.0 * C[:, 1:]
    X = rng.binomial(2, 0.3, size=(n, p)).astype(float)
    data, _ = prepare_data(Y, X, lattice_adjacency(c), C, dtype=jnp.float64)
    got = np.exp(np.asarray(score_tests(fit_null_model(data, heritability=heritability), _snps(data),
                                        tests=("empirical",)).log_p_empirical))

    def residual_cross_products(design):
        residual = Y - design @ np.linalg.lstsq(design, Y, rcond=None)[0]
        return residual.T @ residual

    m = C.shape[1]
    total = residual_cross_products(C)
    wilks = np.array([np.linalg.det(residual_cross_products(np.column_stack([C, x]))) / np.linalg.det(total)
                      for x in X.T])
    expected = stats.f.sf((1 - wilks) / wilks * (n - m - c) / c, c, n - m - c)
    np.testing.assert_allclose(got, expected, rtol=1e-8)


def test_every_test_is_the_same_computed_in_chunks_of_snps(study, monkeypatch):
    """On a CPU the per-SNP solves run a chunk of SNPs at a time (cache-sized); chunks of 3 (the 8 SNPs are not a
    multiple of it, the last chunk is padded) and the whole block at once, as on a GPU, give the same statistics to
    rounding."""
    _, data = study
    null = fit_null_model(data)
    whole = score_tests(null, _snps(data))
    monkeypatch.setattr(scores, "CHUNK", 3)
    chunked = score_tests.__wrapped__(null, _snps(data))
    monkeypatch.setattr(scores.jax, "default_backend", lambda: "gpu")  # a GPU's path: the block at once
    at_once = score_tests.__wrapped__(null, _snps(data))
    for test in TESTS:
        for other in (chunked, at_once):
            np.testing.assert_allclose(np.asarray(other.log_p_of(test)), np.asarray(whole.log_p_of(test)), rtol=1e-12)


def test_spatial_solves_by_conjugate_gradients_equal_factored_ones(study, monkeypatch):
    """The spatial and burden tests solve each SNP's Corr(z) by conjugate gradients preconditioned with the average
    SNP's correlation: they converge here (float64, to 16 eps) and give what a Cholesky factor of every SNP's
    correlation gives; with no iterations allowed, or a preconditioner that is NaN, every chunk is factored."""
    _, data = study
    null = fit_null_model(data)
    X = _snps(data)
    iterative = score_tests(null, X)
    z = iterative.z
    correlation = scores._score_correlations(_variance_moments(null, X), null, null.spatial_genetic,
                                             null.spatial_residual)
    right = jnp.stack([z, jnp.ones_like(z)], axis=2)
    solution, converged = scores._preconditioned_cg(correlation, right, null.score_whitening)
    assert bool(converged)
    np.testing.assert_allclose(np.asarray(solution), np.linalg.solve(np.asarray(correlation), np.asarray(right)),
                               rtol=1e-11, atol=1e-12)
    assert not bool(scores._preconditioned_cg(correlation, right, jnp.full_like(null.score_whitening, jnp.nan))[1])
    monkeypatch.setattr(scores, "SOLVE_ITERATIONS", 0)
    factored = score_tests.__wrapped__(null, X)
    unpreconditioned = score_tests.__wrapped__(dataclasses.replace(
        null, score_whitening=jnp.full_like(null.score_whitening, jnp.nan)), X)
    for test in ("spatial", "burden", "omnibus"):
        for other in (factored, unpreconditioned):
            np.testing.assert_allclose(np.asarray(other.log_p_of(test)), np.asarray(iterative.log_p_of(test)),
                                       rtol=1e-10)


@pytest.mark.parametrize("heritability", ["per-region", "shared"])
def test_omnibus_directions_have_each_snps_exact_variance(study, heritability):
    """The omnibus's region and neighbourhood tests gᵀs/√Var(gᵀs) use fixed directions g and each SNP's own
    Var(gᵀs), from the tensors of the moments: equal to it built from the SNP's dense score covariance. With
    one shared h² every SNP has the average SNP's correlation, and the tests are the whitened scores
    (P z)_k/√P_kk, a_kᵀPz/√(a_kᵀPa_k) of its own P = Corr(z)⁻¹."""
    _, data = study
    null = fit_null_model(data, heritability=heritability)
    z = score_tests(null, _snps(data)).z
    moments = _variance_moments(null, _snps(data))
    regions, local = _direction_scores(z, moments, null, null.spatial_genetic, null.spatial_residual)
    genetic_sd, residual_sd = np.sqrt(null.sigma2 * null.h2), np.sqrt(null.sigma2 * (1 - null.h2))
    weights = [np.asarray(_loaded(m, null.variance_loadings)) for m in moments]
    covariance = (weights[0] * np.asarray(null.spatial_genetic * np.outer(genetic_sd, genetic_sd))
                  + weights[1] * np.asarray(null.spatial_residual * np.outer(residual_sd, residual_sd)))
    directions = np.asarray(null.directions)
    sds = np.sqrt(np.diagonal(covariance, axis1=1, axis2=2))
    expected = (np.einsum("jk,dk->jd", np.asarray(z) * sds, directions)
                / np.sqrt(np.einsum("dk,jkl,dl->jd", directions, covariance, directions)))
    np.testing.assert_allclose(np.concatenate([regions, local], axis=1), expected, rtol=1e-10)
    if heritability == "shared":
        correlation = covariance / (sds[:, :, None] * sds[:, None, :])
        _, _, own_regions, own_local = whitened_statistics(z, jnp.linalg.cholesky(correlation), null.neighbourhoods)
        np.testing.assert_allclose(regions, own_regions, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(local, own_local, rtol=1e-8, atol=1e-10)


def test_few_variance_factors_give_the_tests_of_the_direct_sums():
    """A GRM (its eigenvalues all distinct) and h² from 0 to 0.9 across regions: the factors of 1/v that reach
    float32 rounding (R < c) give every test's p-value as the direct (n, c²) sums do, to float32 precision."""
    rng = np.random.default_rng(5)
    n, c, m = 300, 24, 600
    G = rng.binomial(2, 0.3, (n, m)).astype(float)
    G = (G - G.mean(0)) / G.std(0)
    K = G @ G.T / m
    h2 = np.linspace(0.0, 0.9, c)
    lam, U = np.linalg.eigh(K)
    genetic = U @ (np.sqrt(np.maximum(lam, 0))[:, None] * rng.standard_normal((n, c)))
    Y = genetic * np.sqrt(h2) + rng.standard_normal((n, c)) * np.sqrt(1 - h2)
    data, _ = prepare_data(Y, G[:, :60], lattice_adjacency(c), np.ones((n, 1)), K)
    null = fit_null_model(data)
    assert null.variance_basis.shape[1] == c  # float64: no few factors are exact to its rounding
    basis, loadings = inverse_variance_factors(np.asarray(null.inverse_variance), np.float32)
    assert basis.shape[1] < c
    np.testing.assert_allclose(basis @ loadings.T, np.asarray(null.inverse_variance), rtol=5e-7)
    factored = dataclasses.replace(null, variance_basis=jnp.asarray(basis), variance_loadings=jnp.asarray(loadings))
    direct, few = score_tests(null, _snps(data)), score_tests(factored, _snps(data))
    for test in TESTS:
        np.testing.assert_allclose(np.asarray(few.log_p_of(test)), np.asarray(direct.log_p_of(test)), rtol=1e-5,
                                   atol=1e-6, err_msg=test)


@pytest.mark.parametrize("car_fits", [True, False])
@pytest.mark.parametrize("chosen", [("cct",), ("omnibus",), ("empirical",), ("burden", "spatial")])
def test_a_subset_of_tests_gives_their_p_values_and_nan_for_the_others(study, chosen, car_fits):
    """Computing only some tests (as a scan with --test does) changes none of their p-values; with a wrong CAR
    the spatial and burden tests are then still the empirical ones."""
    d, data = study
    null = dataclasses.replace(fit_null_model(data), car_fits=car_fits)
    every, some = score_tests(null, _snps(data)), score_tests(null, _snps(data), tests=chosen)
    for test in TESTS:
        if test in chosen:
            np.testing.assert_allclose(np.asarray(some.log_p_of(test)), np.asarray(every.log_p_of(test)), rtol=1e-12)
        else:
            assert np.isnan(np.asarray(some.log_p_of(test))).all(), test
    if not car_fits:
        np.testing.assert_array_equal(np.asarray(every.log_p_spatial), np.asarray(every.log_p_empirical))
    with pytest.raises(ValueError, match="tests must be among"):
        score_tests(null, _snps(data), tests=("mostest",))


@pytest.mark.parametrize("law", ["omnibus", "cct"])
def test_a_null_model_without_a_tests_null_law_refuses_only_that_test(study, law):
    """fit_null_model(..., omnibus=False) or (..., cct=False) skips that test's null-law simulation (a scan that
    does not compute it): the other tests are unchanged and asking for it is a clear error, not an uncalibrated
    p-value."""
    _, data = study
    with_law, without = fit_null_model(data), fit_null_model(data, **{law: False})
    assert getattr(without, f"{law}_null").shape == (0,) and getattr(with_law, f"{law}_null").shape[0] > 0
    others = tuple(test for test in TESTS if test != law)
    every, some = score_tests(with_law, _snps(data)), score_tests(without, _snps(data), tests=others)
    for test in others:
        np.testing.assert_allclose(np.asarray(some.log_p_of(test)), np.asarray(every.log_p_of(test)), rtol=1e-12)
    with pytest.raises(ValueError, match=f"without the {law} test's null law"):
        score_tests(without, _snps(data), tests=(law,))


def _correlation(covariance):
    scale = np.sqrt(np.diag(covariance))
    return covariance / np.outer(scale, scale)


def test_log_p_values_do_not_underflow_in_float32():
    """A very strong SNP on a group of regions: every log p is finite, and those of the tests that see
    the group (all but the burden of the uniform direction) lie far below log(float32 tiny)."""
    d = simulate_spatial_lmm(4, n=400, p=4, c=4, n_causal=1, rho=0.5, h2=0.3, effect=3.0, graph="ring")
    data, _ = prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship, dtype=jnp.float32)
    tests = score_tests(fit_null_model(data), _snps(data))
    causal = int(np.flatnonzero(d.truth.causal)[0])
    for test in TESTS:
        log_p = float(tests.log_p_of(test)[causal])
        assert np.isfinite(log_p) and (test == "burden" or log_p < np.log(np.finfo(np.float32).tiny)), test
    assert np.all(np.isfinite(np.asarray(tests.log_p)))


def _car_correlation(A, rho):
    q_inv = np.linalg.inv(np.diag(A.sum(1)) - rho * A)
    return q_inv / np.sqrt(np.outer(np.diag(q_inv), np.diag(q_inv)))


def _heterogeneous_null_study(seed, n_families=75, c=6, rho=0.8, n_snps=1500):
    """Families of 4; per-region h² from 0.1 to 0.6 with genetic and residual region correlations that differ
    (CAR correlations with ρ_g = ``rho`` and ρ_e = 0.3); independent null SNPs. Not the package's simulator."""
    rng = np.random.default_rng(seed)
    K = family_kinship(4 * n_families, 4)
    n = K.shape[0]
    A = lattice_adjacency(c, c // 2)
    R_g, R_e = (_car_correlation(A, r) for r in (rho, 0.3))
    h2 = np.linspace(0.1, 0.6, c)
    L = np.linalg.cholesky(K + 1e-9 * np.eye(n))
    G = L @ rng.standard_normal((n, c)) @ np.linalg.cholesky(R_g).T * np.sqrt(h2)
    E = rng.standard_normal((n, c)) @ np.linalg.cholesky(R_e).T * np.sqrt(1 - h2)
    age = rng.standard_normal(n)
    Y = 1.0 + 0.5 * age[:, None] + G + E
    freq = rng.uniform(0.05, 0.5, n_snps)
    X = rng.binomial(2, freq, size=(n, n_snps)).astype(float)
    return Y, X[:, X.std(0) > 0], np.column_stack([np.ones(n), age]), A, K


@pytest.mark.slow
def test_null_calibration_with_heritability_that_differs_between_regions():
    """Type I error at α = 0.05 of every test within 4 binomial SEs over 3 replicates × ~1500 null SNPs,
    in a design the package's simulator cannot produce (per-region h², Σ_g ≠ Σ_e)."""
    rejected = {test: [] for test in (*TESTS, "region")}
    for seed in range(3):
        Y, X, C, A, K = _heterogeneous_null_study(seed)
        data, _ = prepare_data(Y, X, A, C, K)
        tests = score_tests(fit_null_model(data), _snps(data))
        for test in TESTS:
            rejected[test].append(np.asarray(tests.log_p_of(test)) < np.log(0.05))
        rejected["region"].append(np.asarray(tests.log_p).ravel() < np.log(0.05))
    for test, flags in rejected.items():
        flags = np.concatenate(flags)
        se = np.sqrt(0.05 * 0.95 / len(flags))
        assert abs(flags.mean() - 0.05) < 4 * se, (test, flags.mean(), len(flags))


def test_causal_snps_are_found(study):
    d, data = study
    tests = score_tests(fit_null_model(data), _snps(data))
    p = np.exp(np.asarray(tests.log_p_omnibus))
    assert set(np.argsort(p)[:2]) == set(np.flatnonzero(d.truth.causal))


def _global_factor_null_study(seed, loadings, n=400, c=8, rho=0.3, share=0.5, n_snps=1500):
    """Unrelated subjects whose region correlation is (1 − share)·CAR(ρ) + share·ffᵀ, f = ``loadings`` (c,)
    (a global factor, as brain size loads on every regional volume). Null SNPs."""
    rng = np.random.default_rng(100 + seed)
    A = lattice_adjacency(c, c // 2)
    R = (1 - share) * _car_correlation(A, rho) + share * np.outer(loadings, loadings)
    R /= np.sqrt(np.outer(np.diag(R), np.diag(R)))
    Y = 2.0 + rng.standard_normal((n, c)) @ np.linalg.cholesky(R).T
    X = rng.binomial(2, rng.uniform(0.05, 0.5, n_snps), size=(n, n_snps)).astype(float)
    return Y, X[:, X.std(0) > 0], np.ones((n, 1)), A


def _null_rejections(null, data, tests=("spatial", "burden", "omnibus")):
    """{test: 0/1 rejections at 0.05 (p,)} of the null SNPs of ``data``."""
    scores = score_tests(null, _snps(data))
    return {test: np.asarray(scores.log_p_of(test)) < np.log(0.05) for test in tests}


def _within_four_se_of_five_percent(rejected):
    """Assert each test's pooled rejection rate ({test: [0/1 arrays]}) is within 4 binomial SEs of 0.05."""
    for test, flags in rejected.items():
        flags = np.concatenate(flags)
        assert abs(flags.mean() - 0.05) < 4 * np.sqrt(0.05 * 0.95 / flags.size), (test, flags.mean())


@pytest.mark.slow
def test_a_factor_on_every_region_is_part_of_the_spatial_correlation():
    """A global factor with equal loadings (half the variance) is the spatial model's own: the null model
    recovers its share (0.5, within 0.06) and the CAR's ρ (0.3, within 0.1), does not flag a misfit, and the
    spatial, burden and omnibus tests are within 4 binomial SEs of 0.05 (3 replicates × ~1500 null SNPs)."""
    from jaxgen.lmm.null import CAR_MISFIT_LIMIT

    rejected = {test: [] for test in ("spatial", "burden", "omnibus")}
    for seed in range(3):
        Y, X, C, A = _global_factor_null_study(seed, np.ones(8))
        data, _ = prepare_data(Y, X, A, C)
        null = fit_null_model(data)
        assert float(null.factor_residual) == pytest.approx(0.5, abs=0.06)
        assert float(null.rho_residual) == pytest.approx(0.3, abs=0.1)
        assert float(null.car_misfit) <= CAR_MISFIT_LIMIT and null.car_fits
        for test, flags in _null_rejections(null, data).items():
            rejected[test].append(flags)
    _within_four_se_of_five_percent(rejected)


@pytest.mark.slow
def test_a_wrong_correlation_costs_power_not_calibration():
    """With a factor that contrasts two halves of the regions (loadings +1 and −1, half the variance), which
    neither the CAR nor its equal-loading factor describes, the fitted model's whitened χ² rejects far more
    than 5%; the null model flags the misfit (car_misfit > CAR_MISFIT_LIMIT) and the spatial, burden and
    omnibus tests stay within 4 binomial SEs of 0.05 (3 replicates × ~1500 null SNPs)."""
    from jaxgen.lmm.null import CAR_MISFIT_LIMIT
    from jaxgen.stats.tails import chi2_log_sf

    rejected = {test: [] for test in ("spatial", "burden", "omnibus")}
    model_chi2 = []
    for seed in range(3):
        Y, X, C, A = _global_factor_null_study(seed, np.repeat([1.0, -1.0], 4))
        data, _ = prepare_data(Y, X, A, C)
        null = fit_null_model(data)
        assert float(null.car_misfit) > CAR_MISFIT_LIMIT
        for test, flags in _null_rejections(null, data).items():
            rejected[test].append(flags)
        z = score_tests(null, _snps(data), ("cct",)).z
        statistic, _ = _whitened(z, _variance_moments(null, _snps(data)), null, null.spatial_genetic,
                                 null.spatial_residual)
        model_chi2.append(np.asarray(chi2_log_sf(statistic, Y.shape[1])) < np.log(0.05))
    model_chi2 = np.concatenate(model_chi2)
    se = np.sqrt(0.05 * 0.95 / model_chi2.size)
    assert model_chi2.mean() > 0.05 + 8 * se, "the design must break the spatial model for this test to mean anything"
    _within_four_se_of_five_percent(rejected)


def test_car_misfit_is_a_standard_score_when_the_car_holds():
    """Over the families design with a CAR correlation (per-region h², Σ_g ≠ Σ_e), |car_misfit| < 4."""
    for seed in range(3):
        Y, X, C, A, K = _heterogeneous_null_study(seed, n_snps=5)
        data, _ = prepare_data(Y, X, A, C, K)
        assert abs(float(fit_null_model(data).car_misfit)) < 4.0


def test_with_fewer_residual_degrees_of_freedom_than_regions_the_omnibus_is_the_cct():
    """n − m ≤ c: the regions' correlation cannot be checked against the data (the whitened tests were
    inflated there: 0.17 at 0.05 for 100 subjects and 150 regions), so the null model warns and the omnibus
    is the calibrated per-region cct; with n − m > c the omnibus is its own combination."""
    from jaxgen.lmm.null import UncheckedCorrelationWarning

    d = simulate_spatial_lmm(6, n=30, p=12, c=36, n_causal=1, rho=0.8, h2=0.3, effect=0.3)
    data, _ = prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship)
    with pytest.warns(UncheckedCorrelationWarning, match=r"n − m = 27 ≤ 36 regions"):
        null = fit_null_model(data)
    tests = score_tests(null, _snps(data))
    np.testing.assert_array_equal(np.asarray(tests.log_p_omnibus), np.asarray(tests.log_p_cct))
    assert np.all(np.isfinite(np.asarray(tests.log_p_omnibus)))
    wide = simulate_spatial_lmm(6, n=60, p=12, c=36, n_causal=1, rho=0.8, h2=0.3, effect=0.3)
    data, _ = prepare_data(wide.Y, wide.X, wide.adjacency, wide.covariates, wide.kinship)
    checked = score_tests(fit_null_model(data), _snps(data))
    assert not np.allclose(np.asarray(checked.log_p_omnibus), np.asarray(checked.log_p_cct))
