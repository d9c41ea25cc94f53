"""The null model's REML/ML fits against brute-force dense likelihoods, and GEMMA's REML heritability."""

import shutil
import subprocess

import numpy as np
import pytest
from scipy.optimize import minimize

from jaxgen.data import simulate_spatial_lmm
from jaxgen.lmm.data import prepare_data
from jaxgen.lmm.null import fit_null_model, region_loglik, separable_loglik


@pytest.fixture(scope="module")
def small():
    d = simulate_spatial_lmm(5, n=60, p=3, c=4, n_causal=0, rho=0.7, h2=0.5, graph="ring")
    data, _ = prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship)
    return d, data


def _dense_reml(Y, C, V, reml=True):
    """(Restricted) log-likelihood of vec(Y) (columns stacked) ~ N((I ⊗ C)β, V), β at its GLS value."""
    n, c = Y.shape
    X = np.kron(np.eye(c), C)
    y = Y.T.ravel()
    V_inv = np.linalg.inv(V)
    information = X.T @ V_inv @ X
    beta = np.linalg.solve(information, X.T @ V_inv @ y)
    r = y - X @ beta
    N, M = X.shape
    loglik = -0.5 * (np.linalg.slogdet(V)[1] + r @ V_inv @ r + (N - M if reml else N) * np.log(2 * np.pi))
    if reml:
        loglik -= 0.5 * (np.linalg.slogdet(information)[1] - np.linalg.slogdet(X.T @ X)[1])
    return loglik


def _separable_covariance(d, h2, rho, sigma2):
    Q = np.diag(d.adjacency.sum(1)) - rho * d.adjacency
    return sigma2 * np.kron(np.linalg.inv(Q), h2 * d.kinship + (1 - h2) * np.eye(len(d.kinship)))


def _arrays(data):
    m = data.n_covariates
    car = tuple(np.asarray(a) for a in data.car)
    return (np.asarray(data.Y), np.asarray(data.W[:, :m]), np.asarray(data.kinship_eigenvalues), car,
            np.asarray(data.adjacency))


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("h2, rho", [(0.0, 0.0), (0.3, 0.5), (0.8, 0.95)])
def test_separable_profile_equals_dense_likelihood(small, reml, h2, rho):
    """The O(c)-per-ρ profiled likelihood in the rotated basis is the dense N·c-dimensional one at σ̂²."""
    d, data = small
    loglik, sigma2 = separable_loglik(h2, rho, *_arrays(data), reml=reml)
    dense = _dense_reml(d.Y, d.covariates, _separable_covariance(d, h2, rho, sigma2), reml)
    assert loglik == pytest.approx(dense, abs=1e-8)
    for factor in (0.99, 1.01):  # σ̂² maximizes the dense likelihood
        assert dense > _dense_reml(d.Y, d.covariates, _separable_covariance(d, h2, rho, sigma2 * factor), reml)


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_separable_fit_is_the_dense_maximum(small, method):
    """No (h², ρ, σ²) found by a generic optimizer on the dense likelihood beats the fitted null model."""
    d, data = small
    null = fit_null_model(data, heritability="shared", method=method)
    h2, rho = float(null.h2[0]), float(null.rho_residual)
    reml = method == "reml"
    sigma2 = float(separable_loglik(h2, rho, *_arrays(data), reml=reml)[1])

    def negative(theta):
        h, r, log_s = theta
        if not (0 <= h < 1 and 0 <= r < 0.999):
            return np.inf
        return -_dense_reml(d.Y, d.covariates, _separable_covariance(d, h, r, np.exp(log_s)), reml)

    ours = -negative([h2, rho, np.log(sigma2)])
    assert ours == pytest.approx(float(null.loglik), abs=1e-8)
    for start in ([h2, rho, np.log(sigma2)], [0.5, 0.5, 0.0]):
        best = minimize(negative, start, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-10})
        assert -best.fun <= ours + 1e-6


def test_region_fits_are_the_dense_univariate_maxima(small):
    """Per-region REML: each region's h²_k maximizes its own dense univariate restricted likelihood."""
    d, data = small
    null = fit_null_model(data)
    Y, C, lam, _, _ = _arrays(data)
    loglik, _, sigma2 = region_loglik(np.asarray(null.h2), Y, C, lam)
    np.testing.assert_allclose(np.asarray(null.sigma2), sigma2, rtol=1e-12)
    K, n = d.kinship, len(d.kinship)
    for k in range(Y.shape[1]):
        def dense(h, s):
            return _dense_reml(d.Y[:, [k]], d.covariates, s * (h * K + (1 - h) * np.eye(n)))
        h = float(null.h2[k])
        assert loglik[k] == pytest.approx(dense(h, sigma2[k]), abs=1e-8)
        for other in np.linspace(0, 0.999, 21):
            s_other = region_loglik(np.full(Y.shape[1], other), Y, C, lam)[2][k]
            assert dense(other, s_other) <= loglik[k] + 1e-9


def test_without_kinship_heritability_is_zero():
    d = simulate_spatial_lmm(1, n=80, p=3, c=5, n_causal=0, rho=0.5, h2=0.0)
    data, _ = prepare_data(d.Y, d.X, d.adjacency, d.covariates)
    for heritability in ("per-region", "shared"):
        null = fit_null_model(data, heritability=heritability)
        assert np.all(np.asarray(null.h2) == 0.0)


def test_bad_options_are_refused(small):
    _, data = small
    with pytest.raises(ValueError, match="heritability"):
        fit_null_model(data, heritability="joint")
    with pytest.raises(ValueError, match="method"):
        fit_null_model(data, method="bayes")


@pytest.mark.skipif(shutil.which("gemma") is None, reason="GEMMA is not installed (Debian package 'gemma')")
def test_one_region_heritability_matches_gemma(tmp_path):
    """GEMMA's null-model REML variance components give our per-region h² = vg / (vg + ve) for each region.

    (GEMMA's printed "pve" is a different summary: λ·tr(K)/n scaled by the sample variance.)"""
    d = simulate_spatial_lmm(8, n=200, p=20, c=2, n_causal=0, rho=0.3, h2=0.5)
    data, _ = prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship)
    null = fit_null_model(data)
    genotype_lines = [f"rs{j},A,T," + ",".join(f"{g:g}" for g in d.X[:, j]) for j in range(d.X.shape[1])]
    (tmp_path / "geno.txt").write_text("\n".join(genotype_lines) + "\n")
    np.savetxt(tmp_path / "pheno.txt", d.Y)
    np.savetxt(tmp_path / "kin.txt", d.kinship)
    np.savetxt(tmp_path / "cov.txt", d.covariates)
    for k in range(2):
        subprocess.run(["gemma", "-g", "geno.txt", "-p", "pheno.txt", "-n", str(k + 1), "-k", "kin.txt",
                        "-c", "cov.txt", "-lmm", "1", "-o", f"r{k}"], cwd=tmp_path, check=True,
                       capture_output=True)
        log = (tmp_path / "output" / f"r{k}.log.txt").read_text()
        vg, ve = (float(next(line.split("=")[1] for line in log.splitlines() if line.startswith(f"## {name} estimate in the null model")))
                  for name in ("vg", "ve"))
        assert float(null.h2[k]) == pytest.approx(vg / (vg + ve), abs=1e-4)
