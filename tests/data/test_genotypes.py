"""The LD genotype model: exact covariance against an independent bivariate-normal CDF and sampling."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from jaxgen.data import LDGenotypeModel


@pytest.fixture(scope="module")
def model():
    return LDGenotypeModel.draw(np.random.default_rng(3), p=12, block_size=5, ld_range=(0.5, 0.95))


def test_dosage_covariance_matches_scipy_bivariate_normal_cdf(model):
    a, r, f = model.thresholds, model.latent_correlation(), model.maf
    cov = model.dosage_covariance()
    for i, j in [(0, 1), (0, 4), (2, 3), (5, 9), (10, 11)]:
        phi2 = multivariate_normal(mean=[0, 0], cov=[[1, r[i, j]], [r[i, j], 1]]).cdf([a[i], a[j]])
        assert cov[i, j] == pytest.approx(2 * (phi2 - f[i] * f[j]), abs=1e-7)
    assert cov[0, 5] == 0.0  # different blocks are independent
    np.testing.assert_allclose(np.diag(cov), 2 * f * (1 - f), rtol=1e-14)


def test_sampled_genotypes_have_the_model_frequencies_and_ld(model):
    hap = model.haplotypes(np.random.default_rng(0), 200_000)
    X = hap.reshape(100_000, 2, -1).sum(axis=1)
    se = np.sqrt(model.maf * (1 - model.maf) / 200_000)
    assert np.all(np.abs(X.mean(axis=0) / 2 - model.maf) < 5 * se)
    np.testing.assert_allclose(np.corrcoef(X.T), model.ld_correlation(), atol=0.02)


def test_bad_model_arguments_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="maf_range"):
        LDGenotypeModel.draw(rng, 5, maf_range=(0.0, 0.6))
    with pytest.raises(ValueError, match="ld_range"):
        LDGenotypeModel.draw(rng, 5, ld_range=(0.2, 1.0))
