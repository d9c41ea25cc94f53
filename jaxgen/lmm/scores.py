"""Marginal score tests of SNPs against the null model: per region, and over all regions at once.

For SNP j (a rotated column x of X̃) and region k, with V_k = diag(v_ik) the null model's variances and
r_k its GLS residual (:mod:`jaxgen.lmm.null`), the score and its exact null variance given the null
model's parameters are

    s_jk = xᵀV_k⁻¹r_k,        I_jk = xᵀV_k⁻¹x − (C̃ᵀV_k⁻¹x)ᵀ(C̃ᵀV_k⁻¹C̃)⁻¹(C̃ᵀV_k⁻¹x),

so z_jk = s_jk/√I_jk ~ N(0, 1), with the GLS effect β̂_jk = s_jk/I_jk and se 1/√I_jk (the standard LMM
score test; for one region it is the test GEMMA's ``-lmm 3`` computes). Marginal: it does not
condition on the other SNPs' fitted effects. Over regions, with the null model's genetic and residual
region covariances Σ_g = S_g R_g S_g and Σ_e = S_e R_e S_e (rotated rows: Cov(r_i) = λ_iΣ_g + Σ_e),

    Cov(s_jk, s_jl) = Σ_g,kl Σ_i x_i² λ_i/(v_ik v_il) + Σ_e,kl Σ_i x_i²/(v_ik v_il),

two matrix products for all SNPs (up to the covariates' projection, O(m/n)); Corr(z_j) is its
correlation. The tests:

* ``cct``: the Cauchy combination of the c per-region p-values, referred to its null law under the scores'
  correlation (:mod:`jaxgen.stats.cct_null`, simulated once per null model with the spatial test's region
  correlation): the Cauchy tail alone is exact only as p → 0, and under strong correlation its bulk is far
  off (λ_GC 0.6–0.9, up to 5.7% at α = 0.05);
* ``spatial``: T_j = z_jᵀ Corr(z_j)⁻¹ z_j with the spatial correlations R(ρ̂_g, ŝ_g), R(ρ̂_e, ŝ_e) (the CAR
  and a global factor), χ²_c at the true ones. It leans on them in every direction, and most on those of
  largest CAR variance, where ρ̂'s error matters most (at ρ = 0.9, 16 regions, a ρ̂ 0.01 low gives 0.040 at
  α = 0.05; its O(1/n) bias at n = 400 is about that). So T_j is divided by κ_T, the whitened residuals' mean
  variance in the fit's whitened coordinates (the null model's ``spatial_variance_ratio``), and T_j/(cκ_T) is
  referred to F(c, νc) (κ_T ~ χ²_{νc}/(νc) when the fit is right);
* ``empirical``: MOSTest-style, after the kinship rotation: T = z_jᵀŜ⁻¹z_j with Ŝ the average SNP's score
  correlation estimated from the residuals alone, Σ_i λ_i ρ_iρ_iᵀ, ρ_i = r_i/v_i (with a shared h², the
  whitened residuals' sample correlation; :func:`jaxgen.lmm.null.fit_null_model`). Ŝ contains the SNP's own
  score, Ŝ = Ŝ₋ⱼ + z_jz_jᵀ (exactly so for unrelated subjects and a shared h²), which pulls T towards ν
  (T = νq/(1 + q), q = z_jᵀŜ₋ⱼ⁻¹z_j; badly conservative for c in the tens). So T₋ⱼ = (ν − 1)T/(ν − T) is
  referred to Hotelling's law, T₋ⱼ(ν − c)/(c(ν − 1)) ~ F(c, ν − c), with ν = n − m: exact for unrelated
  subjects and a shared h², close otherwise; undefined (NaN) when ν ≤ c;
* ``burden``: b_j = 1ᵀΣ⁻¹z_j/√(1ᵀΣ⁻¹1) ~ N(0, 1) with the spatial Σ, the most powerful test of one
  effect shared by every region (the direction the whitened χ² is weakest in, since CAR noise varies
  most along it). That direction's variance is checked against the data: b_j/√κ ~ t_ν with κ the null
  model's ``burden_variance_ratio`` (ν = n − m > c), so that variance the fit misses along it (many SNPs'
  effects on every region) does not inflate the test;
* a wrong spatial correlation: the null model's is the CAR plus a global factor with equal loadings
  (:func:`jaxgen.lmm.null.spatial_correlation`); when it finds that they clearly miss the regions' correlation
  (``null.car_misfit`` > :data:`~jaxgen.lmm.null.CAR_MISFIT_LIMIT`, e.g. a factor that contrasts some regions
  with others), ``spatial`` is the empirical test and ``burden`` its burden direction (b² ~ F(1, ν)),
  so that both stay calibrated;
* with n − m ≤ c the regions' correlation cannot be checked against the data (no sample correlation of
  full rank): the fitted CAR's errors in its weakest directions then inflate the whitened tests (type I
  0.17–0.19 at 0.05 for 100 subjects and 150 regions), so the omnibus is the per-region ``cct`` there and
  the null model warns (:class:`~jaxgen.lmm.null.UncheckedCorrelationWarning`);
* ``omnibus`` (the default): the Cauchy combination of spatial, burden and three families of c one-degree
  tests: the whitened region tests (Σ⁻¹z)_k/√(Σ⁻¹)_kk (an effect on one region, its neighbours' noise
  removed), the neighbourhood burdens a_kᵀΣ⁻¹z/√(a_kᵀΣ⁻¹a_k) (a contiguous group: region k and its
  neighbours in the adjacency) and the per-region z themselves, referred to its null law simulated once per
  null model (:mod:`jaxgen.stats.whitened`). The one-df tests use fixed directions, those of the average SNP's
  correlation R̄ (:func:`jaxgen.lmm.null.omnibus_directions`), each with the SNP's own exact variance, so that
  they cost O(cR²) per SNP and no factorization (the c × c inverse they took per SNP cost as much as the
  spatial test); for a SNP with the correlation R̄ they are the optimal ones. No single test is best: the whitened χ² spreads a one-region
  effect over c degrees of freedom, the burden sees only shared effects, the per-region tests ignore the
  correlation; the combination stays near the best of them for one region, a group or all regions.

All p-values are kept in log form (:func:`jaxgen.stats.tails.chi2_log_sf`, ``log_ndtr``) and stay exact
far beyond float32's range. One jit-compiled function of (null model, a block of SNPs), vectorized over
SNPs, so that a genome can be streamed through it block by block.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular

from jaxgen.lmm.null import NullModel
from jaxgen.stats.cct import cct_log
from jaxgen.stats.cct_null import refer_to_null
from jaxgen.stats.tails import chi2_log_sf, f_log_sf, two_sided_log_pvalue
from jaxgen.stats.whitened import omnibus_combination

__all__ = ["TESTS", "ScoreTests", "check_tests", "score_tests"]

TESTS = ("omnibus", "cct", "spatial", "empirical", "burden")
_HIGHEST = jax.lax.Precision.HIGHEST
CHUNK = 50  # SNPs per chunk of the c × c solves on a CPU (:func:`_in_chunks`)
SOLVE_ITERATIONS = 25  # conjugate-gradient steps of a chunk's spatial solves before it is factored instead
SOLVE_TOLERANCE = 16   # ... and their residual's target, in units of the dtype's eps relative to the right side


class ScoreTests(NamedTuple):
    """Per (SNP, region): beta, se, z, log_p (p, c), the GLS effect per unit of the tested column, its
    se, the score z and log(2Φ(−|z|)). Per SNP: log_p_omnibus, log_p_cct, log_p_spatial,
    log_p_empirical, log_p_burden (p,), natural logs of the SNP-level p-values."""

    beta: jnp.ndarray
    se: jnp.ndarray
    z: jnp.ndarray
    log_p: jnp.ndarray
    log_p_omnibus: jnp.ndarray
    log_p_cct: jnp.ndarray
    log_p_spatial: jnp.ndarray
    log_p_empirical: jnp.ndarray
    log_p_burden: jnp.ndarray

    def log_p_of(self, test: str) -> jnp.ndarray:
        """The SNP-level log p-values (p,) of one of :data:`TESTS`."""
        if test not in TESTS:
            raise ValueError(f"test must be one of {TESTS}, got {test!r}")
        return getattr(self, f"log_p_{test}")


@partial(jax.jit, static_argnames="tests")
def score_tests(null: NullModel, X, tests: tuple[str, ...] = TESTS) -> ScoreTests:
    """Score tests of every column of X (n, p), rotated like the null model's data, against ``null``.

    tests : the SNP-level tests to compute, among :data:`TESTS` (the others' log p-values are NaN): the
    spatial and burden tests (and so the omnibus) cost a c × c solve per SNP (:func:`_whitened`); the
    per-region tests, ``cct`` and ``empirical`` (one product for all SNPs) do not.
    """
    check_tests(tests)
    c = null.neighbourhoods.shape[0]
    cct_is_omnibus = "omnibus" in tests and c > 1 and not null.correlation_checkable  # UncheckedCorrelationWarning
    simulated = {"omnibus": "omnibus" in tests and not cct_is_omnibus, "cct": "cct" in tests or cct_is_omnibus}
    for law in (law for law, needed in simulated.items() if needed and c > 1):
        if getattr(null, f"{law}_null").shape[0] == 0:
            raise ValueError(f"the null model was fitted without the {law} test's null law (fit_null_model(..., "
                             f"{law}=False)): refit it with {law}=True, or leave '{law}' out of tests")
    X = jnp.asarray(X, null.inverse_variance.dtype)
    inv_v = null.inverse_variance
    scores = _mm(X.T, null.weighted_residual)  # s (p, c)
    projected = jnp.einsum("im,ik,ij->jkm", null.covariates, inv_v, X, precision=_HIGHEST)  # C̃ᵀV_k⁻¹x (p, c, m)
    correction = jnp.einsum("jkm,kml,jkl->jk", projected, null.information_inverse, projected, precision=_HIGHEST)
    information = _mm((X * X).T, inv_v) - correction  # I (p, c)
    z = scores * jax.lax.rsqrt(information)
    log_p = two_sided_log_pvalue(z)
    missing = jnp.full(z.shape[:1], jnp.nan, z.dtype)
    log_p_cct = _calibrated_cct(log_p, null) if "cct" in tests or cct_is_omnibus else missing
    spatial, empirical, directions = _whitened_tests(z, X, null, tests)
    log_p_spatial, log_p_burden = spatial if spatial is not None else (missing, missing)
    log_p_empirical = missing if empirical is None else empirical
    log_p_omnibus = (missing if "omnibus" not in tests else log_p_spatial if c == 1 else log_p_cct if cct_is_omnibus
                     else refer_to_null(omnibus_combination(log_p_spatial, log_p_burden, *directions, log_p),
                                        null.omnibus_null))
    snp_level = dict(omnibus=log_p_omnibus, cct=log_p_cct, spatial=log_p_spatial, empirical=log_p_empirical,
                     burden=log_p_burden)
    return ScoreTests(beta=scores / information, se=jax.lax.rsqrt(information), z=z, log_p=log_p,
                      **{f"log_p_{test}": value if test in tests else missing for test, value in snp_level.items()})


def check_tests(tests) -> tuple[str, ...]:
    """``tests`` as a tuple without repeats, after checking it names one or more of :data:`TESTS`
    (ValueError otherwise)."""
    chosen = tuple(dict.fromkeys(str(test) for test in tests))
    unknown = [test for test in chosen if test not in TESTS]
    if unknown or not chosen:
        raise ValueError(f"tests must be among {', '.join(TESTS)} (one or more), got {', '.join(chosen) or 'none'}")
    return chosen


def _calibrated_cct(log_p, null: NullModel):
    """The CCT of the per-region log p-values (p, c), referred to the null model's simulated law (one region:
    the region's own p-value)."""
    combined = cct_log(log_p, axis=1)
    return refer_to_null(combined, null.cct_null) if null.cct_null.shape[0] else combined  # c = 1: no law


def _whitened_tests(z, X, null: NullModel, tests):
    """((log p of spatial, of burden) or None, log p of empirical or None, the whitened region and
    neighbourhood scores (each (p, c), :func:`_direction_scores`) or None), each log p (p,), of the scores
    z (p, c) of the rotated SNPs X: only what ``tests`` needs (the directions for ``omnibus``). With a wrong
    CAR (``null.car_fits`` false) spatial is the empirical test, burden its burden direction and the directions
    use the whitened residuals' sample correlation; the empirical test needs ν = n − m > c."""
    c, dof = z.shape[1], null.residual_dof
    hotelling = null.correlation_checkable
    car = null.car_fits or not hotelling
    wants_spatial = bool({"omnibus", "spatial", "burden"} & set(tests))
    wants_empirical = hotelling and ("empirical" in tests or (wants_spatial and not car))
    if not (wants_spatial or wants_empirical):
        return None, None, None
    moments = _variance_moments(null, X) if wants_spatial else None  # the spatial tests' and directions'
    tails, log_p_spatial, log_p_burden = {}, None, None
    if wants_spatial and car:
        statistic, burden = _in_chunks(partial(_whitened, null=null, genetic_correlation=null.spatial_genetic,
                                               residual_correlation=null.spatial_residual), z, moments)
        if hotelling and c > 1:  # one region: κ_T = 1 exactly, and T = z² is χ²_1
            tails["spatial"] = (statistic / (c * null.spatial_variance_ratio), c, c * dof)  # F(c, νc) of T/κ_T
        else:
            log_p_spatial = chi2_log_sf(statistic, c)
        if hotelling:
            tails["burden"] = (burden**2 / null.burden_variance_ratio, 1, dof)  # Student's t_ν of b/√κ
        else:
            log_p_burden = two_sided_log_pvalue(burden)
    if wants_empirical:
        empirical, empirical_burden = _empirical_statistics(z, null)
        held_out = (dof - 1) * empirical / jnp.maximum(dof - empirical, 1e-6 * dof)  # the SNP's own part removed
        tails["empirical"] = (held_out * (dof - c) / (c * (dof - 1)), c, dof - c)  # Hotelling's law
        if wants_spatial and not car:
            tails["burden"] = (empirical_burden**2, 1, dof)
    # the F tails in one call: each call site of the F tail costs seconds of compilation
    f_tails = dict(zip(tails, _f_log_sf_stacked(*tails.values()))) if tails else {}
    log_p_spatial, log_p_burden = f_tails.get("spatial", log_p_spatial), f_tails.get("burden", log_p_burden)
    log_p_empirical = f_tails.get("empirical")
    if wants_spatial and not car:
        log_p_spatial = log_p_empirical
    directions = None
    if "omnibus" in tests and c > 1 and hotelling:  # else the omnibus is the cct (score_tests)
        tested = ((null.spatial_genetic, null.spatial_residual) if car else
                  (null.sample_correlation, null.sample_correlation))
        directions = _direction_scores(z, moments, null, *tested)
    return (log_p_spatial, log_p_burden) if wants_spatial else None, log_p_empirical, directions


def _empirical_statistics(z, null: NullModel):
    """(zᵀŜ⁻¹z, the burden score 1ᵀŜ⁻¹z/√(1ᵀŜ⁻¹1)) per SNP, each (p,), of the scores z (p, c) with
    Ŝ = ``null.empirical_correlation``: one product with its inverse factor F⁻¹ (``null.empirical_whitening``,
    factored with the null model) for every SNP."""
    inverse = null.empirical_whitening
    return _quadratic_and_burden(_mm(z, inverse.T), jnp.sum(inverse, axis=1))


def _f_log_sf_stacked(*tails):
    """log P(F_{d1,d2} > f) of each (f (p,), d1, d2) of ``tails``, in one :func:`f_log_sf` call."""
    statistics = jnp.stack([f for f, _, _ in tails])
    df1 = jnp.asarray([d1 for _, d1, _ in tails], statistics.dtype)[:, None]
    df2 = jnp.asarray([d2 for _, _, d2 in tails], statistics.dtype)[:, None]
    return tuple(f_log_sf(statistics, df1, df2))


def _variance_moments(null: NullModel, X):
    """(M, N) per SNP, each (p, R, R): M_rs = Σ_i x_i² λ_i Φ_ir Φ_is and N_rs = Σ_i x_i² Φ_ir Φ_is, with
    1/v = ΦΨᵀ (the null model's ``variance_basis`` (n, R) and ``variance_loadings`` (c, R)), so that
    Σ_i x_i² (λ_i) w_ik w_il = (ΨMΨᵀ)_kl, w = 1/v: a (p, n) by (n, R²) matrix product (without factors,
    R = c and Ψ = I)."""
    basis = null.variance_basis
    n, rank = basis.shape
    pairs = (basis[:, :, None] * basis[:, None, :]).reshape(n, rank * rank)
    squares = (X * X).T
    return (_mm(squares * null.kinship_eigenvalues, pairs).reshape(-1, rank, rank),
            _mm(squares, pairs).reshape(-1, rank, rank))


def _loaded(moments, loadings):
    """ΨMΨᵀ (p, c, c) of moments M (p, R, R) (M itself without factors, when Ψ is the identity)."""
    if moments.shape[1] == loadings.shape[0]:
        return moments
    return jnp.einsum("kr,jrs,ls->jkl", loadings, moments, loadings, precision=_HIGHEST)


def _in_chunks(function, *per_snp):
    """``function(*per_snp)`` of arrays (pytrees) whose leading axis is the SNP, on a CPU :data:`CHUNK` SNPs at a
    time (``lax.map`` over chunks; the last one padded with copies of the last SNP), elsewhere the whole block at
    once. ``function`` takes and returns arrays with the SNP axis leading, and sees a whole chunk (it may branch on
    it: :func:`_whitened` factors a chunk whose iterative solve did not converge).

    A chunk's c × c correlations stay in cache, where a whole block's stream through memory at every step, each
    step's output a fresh array. Measured with the scan benchmark's shapes (1 000 subjects, c = 68, R = 8 factors,
    float32, AMD EPYC, 2 cores) per 100 000 SNPs, with Cholesky factors: the whitened statistics took 7.0–7.5 s
    in blocks of 1 000 SNPs, 2.5–2.8 s in chunks of 50 (3.0–3.4 s of 25, 2.8–3.2 s of 125, 3.5–3.8 s of 250).
    A GPU wants the whole block.
    """
    if jax.default_backend() != "cpu":
        return function(*per_snp)
    p = jax.tree.leaves(per_snp)[0].shape[0]
    chunks = -(-p // CHUNK)

    def split(a):
        padded = jnp.concatenate([a, jnp.repeat(a[-1:], chunks * CHUNK - p, axis=0)]) if chunks * CHUNK > p else a
        return padded.reshape(chunks, CHUNK, *a.shape[1:])
    out = jax.lax.map(lambda chunk: function(*chunk), jax.tree.map(split, per_snp))
    return jax.tree.map(lambda a: a.reshape(chunks * CHUNK, *a.shape[2:])[:p], out)


def _whitened(z, moments, null: NullModel, genetic_correlation, residual_correlation):
    """(zᵀΣ⁻¹z, the burden score 1ᵀΣ⁻¹z/√(1ᵀΣ⁻¹1)) per SNP, each (p,), with Σ = Corr(z) from
    Cov(s) = Σ_g ∘ ΨMΨᵀ + Σ_e ∘ ΨNΨᵀ (moments (M, N) of :func:`_variance_moments`).

    Σ⁻¹z and Σ⁻¹1 by conjugate gradients preconditioned with the average SNP's correlation R̄ (``null.
    score_whitening`` W, R̄⁻¹ = WᵀW), which every SNP's is close to: on the scan benchmark's genome (GRM, c = 68)
    the preconditioned Σ has its eigenvalues within 1e-3 of 1 and R̄'s solution is already within the tolerance;
    in the calibration study's CAR designs (families, ancestry groups, ρ up to 0.9, h²ₖ 0.1–0.6, c up to 150)
    float32 needed 0–4 steps. A chunk of SNPs whose residuals are not all below :data:`SOLVE_TOLERANCE` after
    :data:`SOLVE_ITERATIONS` steps is factored instead (Cholesky), so the result is an exact solve's either way.
    Every SNP's Cholesky factor (LAPACK on one 68 × 68 matrix at a time, 18 ms per 1 000 SNPs) had been most of
    the whitened tests' time (17–21 ms per 1 000 SNPs)."""
    correlation = _score_correlations(moments, null, genetic_correlation, residual_correlation)
    right = jnp.stack([z, jnp.ones_like(z)], axis=2)  # (p, c, 2)
    solution, converged = _preconditioned_cg(correlation, right, null.score_whitening)
    solution = jax.lax.cond(converged, lambda: solution, lambda: _cholesky_solve(correlation, right))
    precision_z, precision_ones = solution[..., 0], solution[..., 1]
    burden = jnp.sum(precision_z, axis=1) * jax.lax.rsqrt(jnp.sum(precision_ones, axis=1))
    return jnp.sum(z * precision_z, axis=1), burden


def _score_correlations(moments, null: NullModel, genetic_correlation, residual_correlation):
    """Corr(z) (p, c, c) of every SNP: the correlation of Cov(s) = Σ_g ∘ ΨMΨᵀ + Σ_e ∘ ΨNΨᵀ (moments (M, N) of
    :func:`_variance_moments`, Σ_g and Σ_e from the null model's h², σ² and the given region correlations)."""
    genetic_sd = jnp.sqrt(null.sigma2 * null.h2)
    residual_sd = jnp.sqrt(null.sigma2 * (1.0 - null.h2))
    weights = [_loaded(m, null.variance_loadings) for m in moments]
    covariance = (weights[0] * (genetic_correlation * jnp.outer(genetic_sd, genetic_sd))
                  + weights[1] * (residual_correlation * jnp.outer(residual_sd, residual_sd)))
    scale = jax.lax.rsqrt(jnp.diagonal(covariance, axis1=1, axis2=2))
    return covariance * scale[:, :, None] * scale[:, None, :]


def _preconditioned_cg(A, B, whitening):
    """(X, converged) with A X ≈ B by conjugate gradients, one per column of each SNP's right-hand sides.

    A : (p, c, c) symmetric positive definite; B : (p, c, k); whitening : (c, c) W with WᵀW ≈ A⁻¹ for every
    SNP (the preconditioner). Stops when every residual is below :data:`SOLVE_TOLERANCE` relative to its right-hand
    side, or after :data:`SOLVE_ITERATIONS` (then converged is False)."""
    def precondition(residual):
        return jnp.einsum("lk,plj->pkj", whitening, jnp.einsum("kl,plj->pkj", whitening, residual,
                                                                precision=_HIGHEST), precision=_HIGHEST)

    def product(x):
        return jnp.einsum("pkl,plj->pkj", A, x, precision=_HIGHEST)

    tolerance = (SOLVE_TOLERANCE * jnp.finfo(A.dtype).eps) ** 2 * jnp.sum(B * B, axis=1)
    x = precondition(B)
    residual = B - product(x)
    preconditioned = precondition(residual)
    start = (0, x, residual, preconditioned, jnp.sum(residual * preconditioned, axis=1))

    def unfinished(state):
        iteration, _, residual, _, _ = state
        return (iteration < SOLVE_ITERATIONS) & ~_below(residual, tolerance)

    def step(state):
        iteration, x, residual, direction, rz = state
        image = product(direction)
        alpha = rz / jnp.sum(direction * image, axis=1)
        x = x + alpha[:, None] * direction
        residual = residual - alpha[:, None] * image
        preconditioned = precondition(residual)
        rz_next = jnp.sum(residual * preconditioned, axis=1)
        direction = preconditioned + (rz_next / rz)[:, None] * direction
        return iteration + 1, x, residual, direction, rz_next

    _, x, residual, _, _ = jax.lax.while_loop(unfinished, step, start)
    return x, _below(residual, tolerance)


def _below(residual, tolerance):
    """Whether every squared residual norm (over axis 1) is at most ``tolerance`` (False where one is NaN)."""
    return jnp.all(jnp.sum(residual * residual, axis=1) <= tolerance)


def _cholesky_solve(A, B):
    """A⁻¹B (p, c, k) for symmetric positive definite A (p, c, c), by a Cholesky factor of each."""
    factor = jax.lax.linalg.cholesky(A, symmetrize_input=False)
    return solve_triangular(factor, solve_triangular(factor, B, lower=True), lower=True, trans=1)


def _quadratic_and_burden(white, white_ones):
    """(zᵀΣ⁻¹z, 1ᵀΣ⁻¹z/√(1ᵀΣ⁻¹1)) per SNP, each (p,), from white = F⁻¹z (p, c) and white_ones = F⁻¹1 ((p, c),
    or (c,) for one factor F (FFᵀ = Σ) shared by every SNP)."""
    burden = jnp.sum(white * white_ones, axis=-1) / jnp.sqrt(jnp.sum(white_ones * white_ones, axis=-1))
    return jnp.sum(white * white, axis=-1), burden


def _direction_scores(z, moments, null: NullModel, genetic_correlation, residual_correlation):
    """The whitened region and neighbourhood scores of the omnibus, each (p, c): gᵀs/√Var(gᵀs) for the null
    model's fixed ``directions`` g (:func:`jaxgen.lmm.null.omnibus_directions`), s = σ∘z the scores at each
    SNP's own sds σ. With Cov(s) = Σ_g ∘ ΨMΨᵀ + Σ_e ∘ ΨNΨᵀ, Var(gᵀs) = ⟨M, G_g⟩ + ⟨N, G_e⟩ with
    (G)_rs = (g∘ψ_r)ᵀΣ(g∘ψ_s), formed once per block: O(cR²) per SNP and no factorization. For a SNP with the
    average SNP's correlation R̄ they are (P̄z)_k/√P̄_kk and a_kᵀP̄z/√(a_kᵀP̄a_k), P̄ = R̄⁻¹."""
    c = z.shape[1]
    loadings, directions = null.variance_loadings, null.directions
    variances = (null.sigma2 * null.h2, null.sigma2 * (1.0 - null.h2))
    sds = jnp.sqrt(sum(v * jnp.einsum("kr,jrs,ks->jk", loadings, m, loadings, precision=_HIGHEST)
                       for v, m in zip(variances, moments)))
    loaded = directions[:, :, None] * loadings[None]                                     # g ∘ ψ_r, (2c, c, R)
    variance = 0.0
    for v, correlation, m in zip(variances, (genetic_correlation, residual_correlation), moments):
        covariance = correlation * jnp.sqrt(jnp.outer(v, v))
        tensor = jnp.einsum("dkr,kl,dls->drs", loaded, covariance, loaded, precision=_HIGHEST)  # (2c, R, R)
        variance = variance + _mm(m.reshape(m.shape[0], -1), tensor.reshape(2 * c, -1).T)
    statistics = _mm(z * sds, directions.T) * jax.lax.rsqrt(variance)
    return statistics[:, :c], statistics[:, c:]


def _mm(a, b):
    return jnp.matmul(a, b, precision=_HIGHEST)
