"""The null model of the SNP tests: covariates + kinship + correlation between regions, no SNP effects.

Fitted once (NumPy, float64), then every SNP is tested against it (:mod:`jaxgen.lmm.scores`). In the
kinship-rotated basis (:mod:`jaxgen.lmm.data`) the rows of Ỹ are independent, and region k's value for
subject i has variance v_ik = σ²_k d_ik with d_ik = h²_k λ_i + 1 − h²_k. Two ways to fit:

``heritability="per-region"`` (the default)
    Each region gets its own (h²_k, σ²_k, γ_k) by exact REML of the univariate LMM
    y_k ~ N(Cγ_k, σ²_k(h²_k K + (1 − h²_k) I)), the model of GEMMA's or GCTA's per-trait REML. Real
    cortical measures differ in heritability (0.1 to 0.6), and a test that plugs in one shared h²
    under-corrects the most heritable regions.

``heritability="shared"``
    The seed's separable model: ỹ_i ~ N(Γᵀc̃_i, σ² d_i Q(ρ)⁻¹) with one h². Given h², Γ̂ is GLS and
    does not depend on ρ, σ² profiles out, and log|Q(ρ)| comes from the CAR spectrum, so exact REML
    (or ML) over (h², ρ) costs O(n·m·c + n·c²) per h² and O(c) per ρ. The tests then use that h² and ρ̂
    with each region's own σ²_k at that h² (the CAR's implied variances σ²[Q(ρ̂)⁻¹]_kk mis-scale the
    region z whenever the regions' variances are not the CAR's, as for standardized QTs).

The correlation between regions. The rotated residual rows have covariance λ_i Σ_g + Σ_e, with the
genetic and residual covariances Σ_g = S_g R_g S_g and Σ_e = S_e R_e S_e, S_g = diag(√(σ²_k h²_k)),
S_e = diag(√(σ²_k(1 − h²_k))); the genetic and environmental correlations of brain measures differ, so
R_g and R_e are estimated apart. Off the diagonal, (Σ_g, Σ_e)_kl come from a weighted least-squares
regression of r_ik r_il on (λ_i, 1) over subjects (Haseman–Elston-style moments in the rotated basis,
weights 1/(v_ik v_il)); without a kinship only their sum is identified and R_e is the correlation of the
whitened residuals r_ik/√v_ik. From these moments:

* the spatial correlations R_g = R(ρ_g, s_g), R_e = R(ρ_e, s_e): the CAR correlation R(ρ) =
  corr(Q(ρ)⁻¹), Q(ρ) = D_A − ρA, plus a global factor that loads equally on every region (brain size,
  scanner, age), R(ρ, s) = (1 − s)·R(ρ) + s·11ᵀ, each (ρ, s) fitted by least squares to the moment
  correlations (pairs weighted by their variance components; for each ρ the best s is a closed-form
  weighted regression). Without the factor a CAR misses what every region shares, and the tests switch to
  the empirical correlation, which c regions estimate poorly from few subjects (c = 150, n = 300: the
  omnibus's power for one region 0.29 with the empirical correlation, 0.44 with the CAR and its factor);
  with ``heritability="shared"``, R_g = R_e = R(ρ̂) of the separable REML (no factor: the seed's model);
* the sample correlation of the whitened residuals r_ik/√v_ik (``sample_correlation``), against which the
  fit is checked (below); the moment estimates of R_g alone are too noisy for c in the tens;
* the empirical test's correlation (MOSTest-style, no model of the regions' correlation): the average
  SNP's score correlation estimated from the residuals, Σ_i λ_i ρ_iρ_iᵀ with ρ_i = r_i/v_i
  (``empirical_correlation``). With each region's own h²_k the scores' correlation is not the whitened
  residuals' (their rows weigh genetic and residual parts unlike a SNP, whose x_i² are λ_i on average).
  In the calibration study (``benchmarks/study_lmm_calibration.py``, 40 000 null SNPs per design) that one
  rejected 0.060 with Σ_g ≠ Σ_e, 0.023 at c = 150 and 0.039–0.044 in families at α = 0.05; this one is
  0.046–0.055 in 15 of 16 designs (families at h² = 0: 0.041; c = 150: 0.0019 at α = 1e-3);
* a check of the spatial correlation: real regional measures share factors that load unevenly on the
  regions, which neither the CAR nor its equal-loading factor describes, and a whitened statistic with the
  wrong correlation is not χ²_c (0.20 at α = 0.05 for such a factor with 50% of the variance).
  :func:`car_misfit` compares the whitened residuals' correlation with the one the fit implies; when the
  fit clearly misses it, the spatial and burden tests use the empirical correlation instead (and are then
  the empirical test and its burden direction), so that a wrong spatial model costs power, not calibration.

All maximizations are one-dimensional and bounded: a grid, then golden-section search around its
best point (vectorized over regions), which also finds maxima on the boundary (h² = 0 for unrelated
subjects).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.lmm.data import LMMData
from jaxgen.stats.cct_null import gaussian_cct_null
from jaxgen.stats.whitened import omnibus_null_law

__all__ = ["CAR_MISFIT_LIMIT", "FACTOR_SHARE_MAX", "NullModel", "UncheckedCorrelationWarning", "car_misfit",
           "fit_null_model", "inverse_variance_factors", "region_loglik", "separable_loglik", "spatial_correlation"]

H2_MAX = 1.0 - 1e-5  # d_i = h²λ_i + 1 − h² stays positive when the kinship is singular (GCTA/GEMMA bound alike)
RHO_MAX = 0.999
_GRID = 41
_GOLDEN_STEPS = 60
CAR_MISFIT_LIMIT = 4.0  # car_misfit z above which the spatial tests use the empirical correlation
FACTOR_SHARE_MAX = 0.95  # the global factor's largest share s of the spatial correlation R(ρ, s)


class UncheckedCorrelationWarning(UserWarning):
    """n − m ≤ c: the regions' correlation cannot be checked against the data (no sample correlation of
    full rank), so the tests that lean on the CAR's whole correlation are not calibrated; the omnibus is
    then the per-region cct."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class NullModel:
    """A fitted null model, in the kinship-rotated basis, as the score tests read it (a pytree).

    h2, sigma2 : (c,) per-region heritability and variance scale: v_ik = σ²_k (h²_k λ_i + 1 − h²_k).
    rho_genetic, rho_residual : CAR parameters of the genetic and residual region correlations.
    factor_genetic, factor_residual : the shares s_g, s_e of their global factor (0 with
        ``heritability="shared"``).
    spatial_genetic, spatial_residual : (c, c) R(ρ_g, s_g), R(ρ_e, s_e) (:func:`spatial_correlation`).
    sample_correlation : (c, c) the whitened residuals' sample correlation; with a wrong spatial model the
        omnibus's region and neighbourhood tests use it for both parts.
    empirical_correlation : (c, c) the empirical test's: the average SNP's score correlation estimated from
        the residuals alone (:func:`_empirical_correlation`).
    empirical_whitening : (c, c) F⁻¹ with FFᵀ = ``empirical_correlation`` (F lower triangular), factored once
        here in float64 (:func:`inverse_cholesky_factor`; NaN when ν = n − m ≤ c, where the test is undefined).
    car_misfit : how clearly the CAR and its factor miss the regions' correlation (:func:`car_misfit`, a
        z-score); above :data:`CAR_MISFIT_LIMIT` the spatial and burden tests use the empirical correlation.
    burden_variance_ratio : κ, the whitened residuals' variance along the burden direction over the CAR
        fit's (:func:`burden_variance_ratio`); the burden score is divided by √κ.
    spatial_variance_ratio : κ_T, the whitened residuals' mean variance in the fit's whitened coordinates
        (:func:`spatial_variance_ratio`); the spatial statistic is divided by it.
    kinship_eigenvalues : (n,) λ (ones without a kinship).
    inverse_variance : (n, c) 1 / v_ik; weighted_residual : (n, c) r_ik / v_ik with r the GLS residual.
    variance_basis, variance_loadings : (n, R), (c, R) with 1/v = basis · loadingsᵀ to rounding
        (:func:`inverse_variance_factors`; R = c, loadings the identity, when no fewer factors do).
    cct_null : (N,) the sorted log p-values of the ``cct`` test's simulated null law
        (:func:`jaxgen.stats.cct_null.gaussian_cct_null`) under the region correlation of the spatial test,
        for the scores of an average SNP; (0,) for one region, where the CCT is the region's own test, or when
        fitted with ``cct=False``.
    neighbourhoods : (c, c) 0/1, row k the indicator of region k and its neighbours in the adjacency.
    omnibus_null : (N,) the sorted log p-values of the ``omnibus`` combination's simulated null law
        (:func:`jaxgen.stats.whitened.omnibus_null_law`), for the same correlation; (0,) for one region, or
        when fitted with ``omnibus=False``.
    directions : (2c, c) the omnibus's one-df directions on the score scale (:func:`omnibus_directions`).
    score_whitening : (c, c) F⁻¹ with FFᵀ the average SNP's score correlation under the spatial test's
        correlations (:func:`_score_correlation`): the preconditioner of every SNP's spatial solve.
    covariates : (n, m) rotated covariates C̃; information_inverse : (c, m, m) (C̃ᵀV_k⁻¹C̃)⁻¹.
    gamma : (m, c) GLS covariate effects. loglik : the maximized (restricted) log-likelihood.
    heritability, method : how it was fitted; residual_dof : n − m, the degrees of freedom of the
        empirical correlations; car_fits : car_misfit ≤ CAR_MISFIT_LIMIT (all static).
    """

    h2: jnp.ndarray
    sigma2: jnp.ndarray
    rho_genetic: jnp.ndarray
    rho_residual: jnp.ndarray
    factor_genetic: jnp.ndarray
    factor_residual: jnp.ndarray
    spatial_genetic: jnp.ndarray
    spatial_residual: jnp.ndarray
    sample_correlation: jnp.ndarray
    empirical_correlation: jnp.ndarray
    empirical_whitening: jnp.ndarray
    car_misfit: jnp.ndarray
    burden_variance_ratio: jnp.ndarray
    spatial_variance_ratio: jnp.ndarray
    kinship_eigenvalues: jnp.ndarray
    inverse_variance: jnp.ndarray
    weighted_residual: jnp.ndarray
    variance_basis: jnp.ndarray
    variance_loadings: jnp.ndarray
    cct_null: jnp.ndarray
    neighbourhoods: jnp.ndarray
    omnibus_null: jnp.ndarray
    directions: jnp.ndarray
    score_whitening: jnp.ndarray
    covariates: jnp.ndarray
    information_inverse: jnp.ndarray
    gamma: jnp.ndarray
    loglik: jnp.ndarray
    heritability: str = field(default="per-region", metadata={"static": True})
    method: str = field(default="reml", metadata={"static": True})
    residual_dof: int = field(default=0, metadata={"static": True})
    car_fits: bool = field(default=True, metadata={"static": True})

    @property
    def correlation_checkable(self) -> bool:
        """ν = n − m > c: a full-rank sample correlation of the regions exists, so the CAR can be checked
        against it and the empirical and Hotelling-referred tests are defined (static)."""
        return self.residual_dof > self.neighbourhoods.shape[0]

    def summary(self, region_names=None) -> dict:
        """Plain-Python estimates for logs and reports."""
        names = region_names or [f"region{k}" for k in range(len(self.h2))]
        return {"heritability": self.heritability, "method": self.method,
                "rho_genetic": float(self.rho_genetic), "rho_residual": float(self.rho_residual),
                "factor_genetic": float(self.factor_genetic), "factor_residual": float(self.factor_residual),
                "car_misfit": float(self.car_misfit), "car_fits": self.car_fits,
                "loglik": float(self.loglik), "h2": dict(zip(names, map(float, self.h2))),
                "sigma2": dict(zip(names, map(float, self.sigma2)))}

    def car_fit_text(self) -> str:
        """One sentence for reports: whether the CAR describes the regions' correlation, and what follows."""
        z = float(self.car_misfit)
        factor = max(float(self.factor_genetic), float(self.factor_residual))
        model = "The CAR" if factor == 0 else f"The CAR with a global factor (share up to {factor:.2f})"
        if z <= CAR_MISFIT_LIMIT:
            return f"{model} describes the regions' correlation (misfit z = {z:.1f} ≤ {CAR_MISFIT_LIMIT:g})."
        return (f"{model} misses the regions' correlation (misfit z = {z:.1f} > {CAR_MISFIT_LIMIT:g}, e.g. a factor "
                "that loads unevenly on the regions): the spatial and burden tests use the empirical correlation.")


def fit_null_model(data: LMMData, *, heritability: str = "per-region", method: str = "reml",
                   omnibus: bool = True, cct: bool = True) -> NullModel:
    """Fit the null model to a prepared study (its SNP columns are ignored).

    data : :class:`LMMData` (rotated QTs (n, c), covariates, kinship eigenvalues, CAR spectrum).
    heritability : "per-region" (h²_k per region) or "shared" (the seed's separable model).
    method : "reml" (default) or "ml".
    omnibus : simulate the ``omnibus`` test's null law (``omnibus_null``; 0.16 s at c = 68 on 2 CPU cores).
        Without it the score tests refuse the omnibus (a scan that computes other tests only skips the simulation).
    cct : simulate the ``cct`` test's null law (``cct_null``; 0.06 s at c = 68), likewise; it is simulated
        anyway for an omnibus that is the cct (n − m ≤ c).
    """
    if heritability not in ("per-region", "shared"):
        raise ValueError(f"heritability must be 'per-region' or 'shared', got {heritability!r}")
    if method not in ("reml", "ml"):
        raise ValueError(f"method must be 'reml' or 'ml', got {method!r}")
    m = data.n_covariates
    Y = np.asarray(data.Y, float)
    C = np.asarray(data.W[:, :m], float)
    lam = None if data.kinship_eigenvalues is None else np.asarray(data.kinship_eigenvalues, float)
    car = tuple(np.asarray(a, float) for a in data.car)
    A = np.asarray(data.adjacency, float)
    reml = method == "reml"
    n, c = Y.shape
    if n - m < 2:
        raise ValueError(f"{n} subjects and {m} covariates leave no degrees of freedom for the null model")

    if heritability == "shared":
        h2, rho, _, loglik = _fit_separable(Y, C, lam, car, A, reml)
        h2 = np.full(c, h2)
        sigma2 = region_loglik(h2, Y, C, lam, reml)[2]  # each region's own scale at the shared h²
    else:
        h2 = (np.zeros(c) if lam is None else
              _maximize(lambda h: region_loglik(h, Y, C, lam, reml)[0], np.zeros(c), np.full(c, H2_MAX)))
        loglik_k, _, sigma2 = region_loglik(h2, Y, C, lam, reml)
        loglik = float(np.sum(loglik_k))

    d = _row_scales(h2, lam, n)
    gamma, residual, information = _gls(Y, C, 1.0 / d)
    variance = d * sigma2
    genetic, environmental = _moment_correlations(residual, variance, lam, h2, sigma2)
    pooled = _whitened_correlation(residual, variance)
    if heritability == "shared":
        (rho_genetic, factor_genetic) = (rho_residual, factor_residual) = (rho, 0.0)
    else:
        weights_g, weights_e = np.outer(sigma2 * h2, sigma2 * h2), np.outer(sigma2 * (1 - h2), sigma2 * (1 - h2))
        rho_genetic, factor_genetic = (0.0, 0.0) if lam is None else _fit_spatial_correlation(genetic, weights_g, car)
        rho_residual, factor_residual = _fit_spatial_correlation(environmental, weights_e, car)
    spatial_genetic = spatial_correlation(car, rho_genetic, factor_genetic)
    spatial_residual = spatial_correlation(car, rho_residual, factor_residual)
    implied = _implied_whitened_correlation(variance, lam, h2, sigma2, spatial_genetic, spatial_residual)
    arrays = dict(h2=h2, sigma2=sigma2, rho_genetic=np.asarray(rho_genetic), rho_residual=np.asarray(rho_residual),
                  factor_genetic=np.asarray(factor_genetic), factor_residual=np.asarray(factor_residual),
                  spatial_genetic=spatial_genetic, spatial_residual=spatial_residual,
                  sample_correlation=pooled,
                  empirical_correlation=_empirical_correlation(residual, variance, lam, heritability),
                  car_misfit=np.asarray(car_misfit(pooled, implied, n - m)),
                  burden_variance_ratio=np.asarray(burden_variance_ratio(pooled, implied)),
                  spatial_variance_ratio=np.asarray(spatial_variance_ratio(pooled, implied)),
                  kinship_eigenvalues=np.ones(n) if lam is None else lam,
                  inverse_variance=1.0 / variance, weighted_residual=residual / variance,
                  covariates=C, information_inverse=np.linalg.inv(information) * sigma2[:, None, None],
                  gamma=gamma, loglik=np.asarray(loglik))
    arrays["empirical_whitening"] = inverse_cholesky_factor(arrays["empirical_correlation"])
    dtype = data.Y.dtype
    arrays["variance_basis"], arrays["variance_loadings"] = inverse_variance_factors(1.0 / variance, dtype)
    car_fits = arrays["car_misfit"] <= CAR_MISFIT_LIMIT  # 0 when n − m ≤ c: the correlation the spatial test uses
    tested = (spatial_genetic, spatial_residual) if car_fits else (pooled, pooled)
    arrays["neighbourhoods"] = ((A != 0) | np.eye(c, dtype=bool)).astype(float)
    checkable = n - m > c
    if c > 1 and not checkable:
        warnings.warn(f"{n} subjects and {m} covariates leave n − m = {n - m} ≤ {c} regions: the regions' correlation "
                      "cannot be checked against the data, and the whitened tests (spatial, burden) lean on the fitted "
                      "CAR's correlation in every direction, where its errors inflate them (type I 0.17 at 0.05 in a "
                      "simulation of 100 subjects and 150 regions): the omnibus is the per-region cct here; read "
                      "spatial and burden with care", UncheckedCorrelationWarning, stacklevel=2)
    average_correlation = _score_correlation(variance, lam, h2, sigma2, *tested)
    arrays["score_whitening"] = inverse_cholesky_factor(average_correlation)
    if c == 1:
        arrays["cct_null"] = arrays["omnibus_null"] = np.zeros(0)
    else:
        correlation = jnp.asarray(average_correlation, dtype)
        arrays["cct_null"] = gaussian_cct_null(correlation) if cct or (omnibus and not checkable) else np.zeros(0)
        arrays["omnibus_null"] = (omnibus_null_law(correlation, arrays["neighbourhoods"]) if omnibus and checkable
                                  else np.zeros(0))
    arrays["directions"] = omnibus_directions(variance, lam, h2, sigma2, *tested, arrays["neighbourhoods"])
    return NullModel(**{k: jnp.asarray(v, dtype) for k, v in arrays.items()}, heritability=heritability,
                     method=method, residual_dof=n - m, car_fits=bool(car_fits))


def inverse_cholesky_factor(correlation: np.ndarray) -> np.ndarray:
    """F⁻¹ (c, c), lower triangular, with FFᵀ = ``correlation``, in float64; NaN where it is not positive
    definite (the empirical correlation of ν ≤ c residual rows; the spatial solves are then factored).

    Factored once per null model, in float64, rather than in every block's compiled score tests."""
    try:
        factor = np.linalg.cholesky(correlation)
    except np.linalg.LinAlgError:
        return np.full_like(correlation, np.nan)
    return np.linalg.solve(factor, np.eye(len(correlation)))  # solve, not a triangular solver: c is small


def inverse_variance_factors(inverse_variance: np.ndarray, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Few factors of 1/v: (basis (n, R), loadings (c, R)) with every entry of basis · loadingsᵀ within
    4 ulps of ``dtype`` of 1/v_ik (relative), R the fewest singular vectors of 1/v (n, c) that reach it,
    rounded up to a multiple of 4 with zero columns (fewer shapes to compile); (1/v, I) exactly when that is
    c or more.

    1/v_ik = 1/(σ²_k(h²_k λ_i + 1 − h²_k)) is a smooth function of λ_i for each h²_k, so its singular
    values fall fast: R ≈ 2–16 in float32 for c = 68 (1 when h² is shared). The score tests' covariances
    Σ_i x_i² (λ_i) w_ik w_il then cost O(n·R²) per SNP instead of O(n·c²).
    """
    n, c = inverse_variance.shape
    tolerance = 4 * np.finfo(dtype).eps
    U, S, Vt = np.linalg.svd(inverse_variance, full_matrices=False)
    approximation = np.zeros_like(inverse_variance)
    for rank in range(1, min(c, len(S) + 1)):    # len(S) = min(n, c): fewer subjects than regions caps the rank
        approximation += np.outer(U[:, rank - 1] * S[rank - 1], Vt[rank - 1])
        if np.max(np.abs(approximation - inverse_variance) / inverse_variance) <= tolerance:
            padded = -(-rank // 4) * 4
            if padded >= c:
                break
            basis = np.zeros((n, padded))
            loadings = np.zeros((c, padded))
            basis[:, :rank], loadings[:, :rank] = U[:, :rank] * S[:rank], Vt[:rank].T
            return basis, loadings
    return inverse_variance, np.eye(c)


def region_loglik(h2, Y, C, lam, reml=True):
    """Profiled (restricted) log-likelihood of each region's univariate LMM at heritabilities h2.

    h2 : (c,) one value per region (or (k, c) for k candidates each); Y : (n, c); C : (n, m);
    lam : (n,) kinship eigenvalues or None. Returns (loglik (…, c), gamma (…, c, m), sigma2 (…, c)).
    """
    n, m = C.shape
    h2 = np.asarray(h2, float)
    d = _row_scales(h2[..., None, :], lam, n)  # (…, n, c)
    w = 1.0 / d
    gamma, residual, information = _region_gls(Y, C, w)
    dof = n - m if reml else n
    sigma2 = np.sum(residual * residual * w, axis=-2) / dof
    loglik = -0.5 * (dof * (np.log(2 * np.pi * sigma2) + 1.0) + np.sum(np.log(d), axis=-2))
    if reml:
        loglik = loglik - 0.5 * (np.linalg.slogdet(information)[1] - np.linalg.slogdet(C.T @ C)[1])
    return loglik, gamma, sigma2


def separable_loglik(h2, rho, Y, C, lam, car, A, reml=True):
    """Profiled (restricted) log-likelihood of the separable model at h² and each ρ, σ² at its maximum.

    h2 : scalar; rho : scalar or (k,); Y : (n, c); C : (n, m); lam : (n,) or None;
    car : (degrees, eigenvalues, eigenvectors); A : (c, c). Returns (loglik, σ̂²), shaped like rho.
    """
    return _separable_profile(_separable_parts(h2, Y, C, lam, reml), rho, car, A)


def _separable_parts(h2, Y, C, lam, reml):
    """What the separable likelihood needs from h² alone: (S = EᵀD⁻¹E (c, c), dof, the terms free of ρ).

    E is the GLS residual given h²; the ρ-free terms are c·Σ log d_i (+ c·log|C̃ᵀD⁻¹C̃| − c·log|CᵀC| for REML).
    """
    n, m = C.shape
    c = Y.shape[1]
    d = _row_scales(np.asarray(h2, float), lam, n)
    _, residual, information = _gls(Y, C, 1.0 / d)
    scatter = residual.T @ (residual / d[:, None])
    constant = c * np.sum(np.log(d))
    if reml:
        constant += c * (np.linalg.slogdet(information)[1] - np.linalg.slogdet(C.T @ C)[1])
    return scatter, (n - m if reml else n), constant


def _separable_profile(parts, rho, car, A):
    """(loglik, σ̂²) at each ρ from :func:`_separable_parts`: tr(Q(ρ)S) = tr(D_A S) − ρ tr(AS), O(c) per ρ."""
    scatter, dof, constant = parts
    degrees, omega, _ = car
    c = scatter.shape[0]
    rho = np.asarray(rho, float)
    sigma2 = (np.sum(degrees * np.diag(scatter)) - rho * np.sum(A * scatter)) / (dof * c)
    logdet_q = np.sum(np.log(degrees)) + np.sum(np.log1p(-np.multiply.outer(rho, omega)), axis=-1)
    loglik = -0.5 * (dof * c * (np.log(2 * np.pi * sigma2) + 1.0) - dof * logdet_q + constant)
    return loglik, sigma2


def _fit_separable(Y, C, lam, car, A, reml):
    """(h², ρ, σ², loglik) of the separable model: ρ maximized for each h², then h²."""
    def best_rho(parts):
        rho = _maximize(lambda r: _separable_profile(parts, r, car, A)[0], np.zeros(1), np.full(1, RHO_MAX))
        return float(rho[0])

    def profile(h2_candidates):
        values = []
        for h2 in h2_candidates:
            parts = _separable_parts(h2, Y, C, lam, reml)
            values.append(_separable_profile(parts, best_rho(parts), car, A)[0])
        return np.array(values)

    h2 = 0.0 if lam is None else float(_maximize(profile, np.zeros(1), np.full(1, H2_MAX))[0])
    parts = _separable_parts(h2, Y, C, lam, reml)
    rho = best_rho(parts)
    loglik, sigma2 = _separable_profile(parts, rho, car, A)
    return h2, rho, float(sigma2), float(loglik)


def _gls(Y, C, w):
    """GLS of each column of Y (n, c) on C (n, m) with row weights w ((n, c), or (n,) shared by all).

    Returns gamma (m, c), residual (n, c) and the information C̃ᵀWC̃ ((c, m, m), or (m, m) when shared).
    """
    if w.ndim == 1:
        information = C.T @ (C * w[:, None])
        gamma = np.linalg.solve(information, (C * w[:, None]).T @ Y)
        return gamma, Y - C @ gamma, information
    gamma, residual, information = _region_gls(Y, C, w)
    return gamma.T, residual, information


def _region_gls(Y, C, w):
    """GLS of each column k of Y (n, c) on C (n, m) with its own row weights w[..., :, k] (…, n, c).

    Returns gamma (…, c, m), residual (…, n, c) and the information C̃ᵀW_kC̃ (…, c, m, m).
    """
    information = np.einsum("im,...ik,il->...kml", C, w, C)
    gamma = np.linalg.solve(information, np.einsum("im,...ik->...km", C, Y * w)[..., None])[..., 0]
    return gamma, Y - np.einsum("im,...km->...ik", C, gamma), information


def _row_scales(h2, lam, n):
    """d = h²λ + 1 − h², broadcasting h2 (…, 1 or c) against λ (n, 1); ones without kinship."""
    column = (n, 1) if np.ndim(h2) else (n,)
    if lam is None:
        return np.ones(np.broadcast_shapes(np.shape(h2), column))
    return h2 * lam.reshape(column) + (1.0 - h2)


def _car_covariance(car, rho):
    """Q(ρ)⁻¹ (c, c) from the CAR spectrum: D_A^{-1/2} V (I − ρΩ)⁻¹ Vᵀ D_A^{-1/2}."""
    degrees, omega, V = car
    T = V / np.sqrt(degrees)[:, None] / np.sqrt(1.0 - rho * omega)
    return T @ T.T


def _car_correlation(car, rho):
    """R(ρ) = corr(Q(ρ)⁻¹) (c, c)."""
    return _unit_diagonal(_car_covariance(car, rho))


def spatial_correlation(car, rho, factor_share=0.0):
    """R(ρ, s) = (1 − s)·R(ρ) + s·11ᵀ (c, c): the CAR correlation of ``car`` (the CAR spectrum of
    :class:`LMMData`) and a global factor with the share s = ``factor_share`` of every region's variance."""
    return (1.0 - factor_share) * _car_correlation(car, rho) + factor_share


def _moment_correlations(residual, variance, lam, h2, sigma2):
    """Moment estimates (c, c) of the genetic and residual region correlations R_g, R_e.

    residual : (n, c) rotated GLS residuals r; variance : (n, c) v_ik; lam : (n,) or None; h2, sigma2 : (c,).
    Per pair, weighted least squares of r_ik r_il on (λ_i, 1) with weights w_ik w_il, w = 1/v, gives
    (Σ_g, Σ_e)_kl; the diagonals are the REML σ²_k h²_k and σ²_k(1 − h²_k). Without a kinship (or with
    λ constant) only Σ_g + Σ_e is identified: R_g is then 0 off the diagonal and R_e the whitened residuals'
    correlation.
    """
    w = 1.0 / variance
    c = residual.shape[1]
    genetic_sd, residual_sd = np.sqrt(sigma2 * h2), np.sqrt(sigma2 * (1.0 - h2))
    if lam is None or np.ptp(lam) < 1e-8:
        return np.eye(c), _whitened_correlation(residual, variance)
    u = residual * w
    w0, w1, w2 = w.T @ w, (w * lam[:, None]).T @ w, (w * (lam * lam)[:, None]).T @ w
    b0, b1 = u.T @ u, (u * lam[:, None]).T @ u
    det = w2 * w0 - w1 * w1
    genetic = (w0 * b1 - w1 * b0) / det
    environmental = (w2 * b0 - w1 * b1) / det
    return _as_correlation(genetic, genetic_sd), _as_correlation(environmental, residual_sd)


def _empirical_correlation(residual, variance, lam, heritability):
    """The empirical test's region correlation (c, c): the average SNP's score correlation, estimated from the
    GLS residuals r (n, c) with variances v (n, c) and kinship eigenvalues λ (n,) or None.

    A SNP's scores s_k = Σ_i x_i ρ_ik, ρ = r/v, have Cov(s) = Σ_i x_i² Cov(ρ_i), and the x_i² of an
    average SNP are λ_i (standardized genotypes whose relatedness is the kinship), so Σ_i λ_i ρ_iρ_iᵀ
    estimates it with no model of the regions' correlation. With one heritability for every region and a
    separable covariance the whitened rows r_i/√v_i are exchangeable and every SNP's scores have their
    correlation: then it is theirs (:func:`_whitened_correlation`), for which Hotelling's law is exact."""
    if heritability == "shared":
        return _whitened_correlation(residual, variance)
    rows = residual / variance
    return _unit_diagonal((rows if lam is None else rows * lam[:, None]).T @ rows)


def _whitened_correlation(residual, variance):
    """Sample correlation (c, c) of the whitened residuals r_ik / √v_ik (pooled over subjects)."""
    whitened = residual / np.sqrt(variance)
    return _unit_diagonal(whitened.T @ whitened)


def _unit_diagonal(covariance):
    """The correlation (c, c) of a covariance or scatter matrix with a positive diagonal."""
    scale = np.sqrt(np.diag(covariance))
    return covariance / np.outer(scale, scale)


def _implied_whitened_correlation(variance, lam, h2, sigma2, genetic_correlation, residual_correlation):
    """What :func:`_whitened_correlation` estimates under the fitted model (c, c): the correlation of
    Σ_i (λ_iΣ_g + Σ_e) / √(v_i v_iᵀ) (variance (n, c); lam (n,) or None; h2, sigma2 (c,); correlations (c, c))."""
    return _weighted_correlation(1.0 / np.sqrt(variance), lam, h2, sigma2, genetic_correlation, residual_correlation)


def _score_correlation(variance, lam, h2, sigma2, genetic_correlation, residual_correlation):
    """The null correlation (c, c) of the region scores of the average SNP, x_i² = λ_i in rotated row i
    (:func:`_average_snp_weights`): the correlation of Σ_i λ_i (λ_iΣ_g + Σ_e) / (v_i v_iᵀ) (arguments as for
    :func:`_implied_whitened_correlation`)."""
    return _weighted_correlation(_average_snp_weights(variance, lam), lam, h2, sigma2, genetic_correlation,
                                 residual_correlation)


def _average_snp_weights(variance, lam):
    """The row weights a = x/v (n, c) of the average SNP's scores s_k = Σ_i a_ik r_ik: standardized genotypes
    whose relatedness is the kinship have E[x_i²] = λ_i in the rotated basis, so |x_i| = √λ_i (1 without a
    kinship), as in the empirical correlation (:func:`_empirical_correlation`)."""
    return (1.0 if lam is None else np.sqrt(lam)[:, None]) / variance


def omnibus_directions(variance, lam, h2, sigma2, genetic_correlation, residual_correlation, neighbourhoods):
    """The omnibus's 2c one-df directions (2c, c) for the region scores s of every SNP, rows of unit norm.

    With R̄ the average SNP's score correlation (:func:`_score_correlation`), P̄ = R̄⁻¹ and σ̄ its score sds,
    the directions on z are P̄e_k (region k, its neighbours' noise removed) and P̄a_k (region k and its
    neighbours, a_k a row of ``neighbourhoods``); on the score scale they are g = P̄e_k/σ̄ and P̄a_k/σ̄. Each
    SNP's test gᵀs/√Var(gᵀs) uses its own exact variance (:func:`jaxgen.lmm.scores.score_tests`): exact
    N(0, 1) under the null for every SNP, and for a SNP with the average correlation the whitened region
    and neighbourhood scores of :func:`jaxgen.stats.whitened.whitened_statistics`.
    """
    genetic = _covariance(genetic_correlation, np.sqrt(sigma2 * h2))
    residual = _covariance(residual_correlation, np.sqrt(sigma2 * (1.0 - h2)))
    average = _weighted_covariance(_average_snp_weights(variance, lam), lam, genetic, residual)
    score_sd = np.sqrt(np.diag(average))
    precision = np.linalg.inv(average / np.outer(score_sd, score_sd))
    directions = np.concatenate([precision, neighbourhoods @ precision]) / score_sd
    return directions / np.linalg.norm(directions, axis=1, keepdims=True)


def _covariance(correlation, sd):
    return correlation * np.outer(sd, sd)


def _weighted_covariance(weights, lam, genetic, residual):
    """Σ_i (λ_iΣ_g + Σ_e) ∘ (a_i a_iᵀ) (c, c) for the row weights a = ``weights`` (n, c)."""
    lam = np.ones(len(weights)) if lam is None else lam
    return (weights * lam[:, None]).T @ weights * genetic + weights.T @ weights * residual


def _weighted_correlation(weights, lam, h2, sigma2, genetic_correlation, residual_correlation):
    """The correlation of Σ_i (λ_iΣ_g + Σ_e) ∘ (a_i a_iᵀ) for the row weights a = ``weights`` (n, c)."""
    return _unit_diagonal(_weighted_covariance(weights, lam, _covariance(genetic_correlation, np.sqrt(sigma2 * h2)),
                                               _covariance(residual_correlation, np.sqrt(sigma2 * (1.0 - h2)))))


def burden_variance_ratio(sample, implied) -> float:
    """κ = uᵀŜu / uᵀPu with u = P⁻¹1: the variance of the whitened residuals along the burden direction,
    over the one the CAR fit implies (sample, implied (c, c) as in :func:`car_misfit`).

    The burden direction is where the CAR noise varies most, and where a factor shared by every region
    (or many SNPs' effects on every region) adds variance that no CAR captures; a misfit there, too
    small for :func:`car_misfit` to see, inflates the burden test. Dividing the burden score by √κ
    makes it Student's t with ν degrees of freedom when the CAR holds (κ ~ χ²_ν/ν), and right when the
    CAR misses this one direction.
    """
    direction = np.linalg.solve(implied, np.ones(len(implied)))
    return float(direction @ sample @ direction / (direction @ implied @ direction))


def spatial_variance_ratio(sample, implied) -> float:
    """κ_T = tr(P⁻¹Ŝ)/c: the whitened residuals' mean variance in the coordinates that whiten the fit's P
    (sample, implied (c, c) as in :func:`car_misfit`), E[zᵀP⁻¹z]/c for scores z with the sample's correlation.

    The whitened χ²_c leans on P in every direction, and its directions of largest CAR variance are the most
    sensitive to ρ̂: at ρ = 0.9 on 16 regions, a ρ̂ 0.01 low (the O(1/n) bias of its estimate at n = 400)
    makes the χ²_16 test reject 0.040 at α = 0.05. Dividing the statistic by κ_T gives it the mean the data
    show; when the CAR holds κ_T is about χ²_{νc}/(νc), and T/(cκ_T) is referred to F(c, νc).
    """
    return float(np.trace(np.linalg.solve(implied, sample)) / len(sample))


def car_misfit(sample, implied, dof) -> float:
    """How clearly the fitted CAR misses the regions' correlation: a z-score, about N(0, 1) when it fits.

    sample : (c, c) the whitened residuals' correlation Ŝ from ν = dof rows; implied : (c, c) the fit's
    P. Whitened by the fit, E = L⁻¹ŜL⁻ᵀ (LLᵀ = P) is a white Wishart/ν matrix when the CAR holds, and
    then ν‖E − I‖²_F ≈ 2χ²_{c(c+1)/2} (mean c(c + 1), variance 4c(c + 1)). Returns
    (ν‖E − I‖²_F − c(c + 1))/√(4c(c + 1)); 0 when it cannot be told (c < 2 or ν ≤ c).
    """
    c = len(sample)
    if c < 2 or dof <= c:
        return 0.0
    root = np.linalg.cholesky(implied)
    whitened = np.linalg.solve(root, np.linalg.solve(root, sample).T)
    distance = dof * np.sum((whitened - np.eye(c)) ** 2)
    return float((distance - c * (c + 1)) / np.sqrt(4.0 * c * (c + 1)))


def _as_correlation(covariance, sd):
    """covariance (c, c) / (sd_k sd_l) off the diagonal, clipped to [−1, 1]; 1 on it; 0 where sd is 0."""
    scale = np.outer(sd, sd)
    corr = np.where(scale > 0, covariance / np.where(scale > 0, scale, 1.0), 0.0)
    corr = np.clip(corr, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr


def _fit_spatial_correlation(corr, weights, car):
    """(ρ in [0, RHO_MAX], s in [0, FACTOR_SHARE_MAX]) minimizing Σ_{k≠l} weights_kl (corr_kl − R(ρ, s)_kl)²
    (corr, weights (c, c); R of :func:`spatial_correlation`): over ρ, with s for each ρ the weighted least
    squares of corr − R(ρ) on 1 − R(ρ), clipped to its bounds."""
    off = ~np.eye(len(corr), dtype=bool)
    if not np.any(weights[off] > 0):
        return 0.0, 0.0
    w, target = weights[off], corr[off]

    def best_share(rho):
        car_part = _car_correlation(car, rho)[off]
        spread = 1.0 - car_part
        denominator = np.sum(w * spread**2)
        share = np.sum(w * (target - car_part) * spread) / denominator if denominator > 0 else 0.0
        return float(np.clip(share, 0.0, FACTOR_SHARE_MAX)), car_part

    def fit(candidates):
        values = []
        for rho in candidates:
            share, car_part = best_share(rho)
            values.append(-np.sum(w * (target - (1.0 - share) * car_part - share) ** 2))
        return np.array(values)

    rho = float(_maximize(fit, np.zeros(1), np.full(1, RHO_MAX))[0])
    return rho, best_share(rho)[0]


def _maximize(f, lo, hi):
    """Maximize k independent bounded 1-D functions at once: f maps points (k,) to values (k,).

    A grid of 41 points, then 60 golden-section steps in the bracket around each best grid point
    (bracket shrinks by 0.618 per step: far below float64 resolution of the parameters at the end).
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    grid = lo + (hi - lo) * np.linspace(0.0, 1.0, _GRID)[:, None]  # (G, k)
    values = np.stack([f(g) for g in grid])
    best = np.argmax(values, axis=0)
    cols = np.arange(lo.size)
    a = grid[np.maximum(best - 1, 0), cols]
    b = grid[np.minimum(best + 1, _GRID - 1), cols]
    best_x, best_v = grid[best, cols], values[best, cols]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    x1, x2 = b - ratio * (b - a), a + ratio * (b - a)
    f1, f2 = f(x1), f(x2)
    for _ in range(_GOLDEN_STEPS):
        left = f1 >= f2  # the maximum lies in [a, x2]; else in [x1, b]
        a, b = np.where(left, a, x1), np.where(left, x2, b)
        x1, x2 = np.where(left, b - ratio * (b - a), x2), np.where(left, x1, a + ratio * (b - a))
        probe = f(np.where(left, x1, x2))
        f1, f2 = np.where(left, probe, f2), np.where(left, f1, probe)
    x = np.where(f1 >= f2, x1, x2)
    v = np.maximum(f1, f2)
    return np.where(best_v > v, best_x, x)
