"""PLINK's conventions: MAF over founders, the GRM over jointly called SNPs, --glm dropping missing calls.

Each is checked against its definition (always) and against the files PLINK 1.9 / PLINK 2 write on
the same fileset (skipped, saying so, where the ``plink1.9``/``plink2`` commands are not installed:
Debian's packages ``plink1.9`` and ``plink2``).
"""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from jaxgen.graphs import genomic_relationship
from jaxgen.io import ReadLog, read_plink, write_plink
from jaxgen.stats import mass_univariate_ols

N, P = 60, 25


@pytest.fixture(scope="module")
def fileset(tmp_path_factory):
    """60 subjects in 15 families of 4 (two founders, two children), 25 SNPs, 4% missing calls."""
    folder = tmp_path_factory.mktemp("plink")
    rng = np.random.default_rng(7)
    X = rng.binomial(2, rng.uniform(0.15, 0.5, P), size=(N, P)).astype(float)
    X[rng.random((N, P)) < 0.04] = np.nan
    ids = [f"s{i:02d}" for i in range(N)]
    founder = np.arange(N) % 4 < 2
    fathers = ["0" if founder[i] else ids[i - i % 4] for i in range(N)]
    mothers = ["0" if founder[i] else ids[i - i % 4 + 1] for i in range(N)]
    write_plink(folder / "g", X, ids, [f"rs{j}" for j in range(P)], family_ids=[f"f{i // 4}" for i in range(N)],
                parents=(fathers, mothers))
    Y = np.column_stack([0.4 * np.nan_to_num(X[:, 0], nan=1.0) + rng.standard_normal(N), rng.standard_normal(N)])
    pd.DataFrame({"FID": [f"f{i // 4}" for i in range(N)], "IID": ids, "y1": Y[:, 0], "y2": Y[:, 1]}).to_csv(
        folder / "pheno.txt", sep="\t", index=False, float_format="%.10g")
    return folder, X, founder, Y


def test_maf_counts_founders_only_unless_asked(fileset):
    folder, X, founder, _ = fileset
    log = ReadLog()
    g = read_plink(folder / "g", maf_min=0.0, log=log)
    f = np.nanmean(X[founder], axis=0) / 2
    np.testing.assert_allclose(g.snps["maf"], np.minimum(f, 1 - f), rtol=1e-12)
    assert any("count the 30 founders of 60 subjects" in line for line in log.lines)
    everyone = np.nanmean(X, axis=0) / 2
    np.testing.assert_allclose(read_plink(folder / "g", maf_min=0.0, nonfounders=True).snps["maf"],
                               np.minimum(everyone, 1 - everyone), rtol=1e-12)
    np.testing.assert_array_equal(g.missing, np.isnan(X))


def test_grm_divides_each_pair_by_its_jointly_called_snps(fileset):
    folder, X, founder, _ = fileset
    g = read_plink(folder / "g", maf_min=0.0)
    f = g.snps["a1_frequency"].to_numpy()
    G = genomic_relationship(g.dosages, frequency=f, called=~g.missing)
    i, j = 3, 10
    both = ~np.isnan(X[i]) & ~np.isnan(X[j])
    z = (X[:, both] - 2 * f[both]) / np.sqrt(2 * f[both] * (1 - f[both]))
    assert G[i, j] == pytest.approx(np.sum(z[i] * z[j]) / both.sum(), rel=1e-12)
    own = ~np.isnan(X[i])
    assert G[i, i] == pytest.approx(np.mean((X[i, own] - 2 * f[own]) ** 2 / (2 * f[own] * (1 - f[own]))), rel=1e-12)


def test_ols_drops_a_subject_only_from_the_snps_it_was_not_called_for(fileset):
    _, X, _, Y = fileset
    fit = mass_univariate_ols(Y, X)
    for j in (0, 5):
        ok = ~np.isnan(X[:, j])
        design = np.column_stack([np.ones(ok.sum()), X[ok, j]])
        coef, *_ = np.linalg.lstsq(design, Y[ok, 0], rcond=None)
        residual = Y[ok, 0] - design @ coef
        se = np.sqrt(residual @ residual / (ok.sum() - 2) * np.linalg.inv(design.T @ design)[1, 1])
        assert float(fit.beta[j, 0]) == pytest.approx(coef[1], rel=1e-10)
        assert float(fit.se[j, 0]) == pytest.approx(se, rel=1e-10)
        assert int(fit.df[j, 0]) == ok.sum() - 2


def _plink(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package {name}): the comparison with PLINK is skipped")
    return path


def _run(folder, *args):
    subprocess.run([*args, "--out", str(folder / "out")], cwd=folder, check=True, capture_output=True)


def test_maf_and_filter_equal_plink_1_9_and_2(fileset):
    folder, *_ = fileset
    g = read_plink(folder / "g", maf_min=0.0)
    _run(folder, _plink("plink1.9"), "--bfile", "g", "--freq")
    frq = pd.read_csv(folder / "out.frq", sep=r"\s+")
    np.testing.assert_allclose(g.snps["maf"], frq["MAF"], atol=5e-5)      # PLINK 1.9 prints 4 digits
    _run(folder, _plink("plink2"), "--bfile", "g", "--freq")
    afreq = pd.read_csv(folder / "out.afreq", sep="\t")
    alt = afreq["ALT_FREQS"].to_numpy()
    np.testing.assert_allclose(g.snps["maf"], np.minimum(alt, 1 - alt), atol=5e-7)
    _run(folder, _plink("plink1.9"), "--bfile", "g", "--maf", "0.17", "--write-snplist")
    kept = (folder / "out.snplist").read_text().split()
    assert read_plink(folder / "g", maf_min=0.17).snp_ids == kept and 0 < len(kept) < P


def test_grm_equals_plink_make_rel(fileset):
    folder, *_ = fileset
    g = read_plink(folder / "g", maf_min=0.0)
    _run(folder, _plink("plink1.9"), "--bfile", "g", "--make-rel", "square")
    plink = np.loadtxt(folder / "out.rel")
    ours = genomic_relationship(g.dosages, frequency=g.snps["a1_frequency"].to_numpy(), called=~g.missing)
    np.testing.assert_allclose(ours, plink, rtol=1e-5, atol=1e-6)          # PLINK prints 6 digits
    imputed = genomic_relationship(g.dosages)                                # the rule PLINK does not use
    assert np.abs(imputed - plink).max() > 0.01


def test_ols_equals_plink2_glm(fileset):
    folder, X, _, Y = fileset
    _run(folder, _plink("plink2"), "--bfile", "g", "--pheno", "pheno.txt", "--glm", "allow-no-covars",
         "--no-psam-pheno")
    g = read_plink(folder / "g", maf_min=0.0)
    fit = mass_univariate_ols(Y, np.where(g.missing, np.nan, g.dosages))
    for k, name in enumerate(["y1", "y2"]):
        glm = pd.read_csv(folder / f"out.{name}.glm.linear", sep="\t")
        glm = glm[glm["TEST"] == "ADD"]
        counted = np.where(glm["A1"].to_numpy() == g.snps["allele_1"].to_numpy(), 1, -1)  # PLINK 2 counts the minor
        np.testing.assert_allclose(np.asarray(fit.beta[:, k]), counted * glm["BETA"], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(np.asarray(fit.se[:, k]), glm["SE"], rtol=1e-4)
        np.testing.assert_allclose(np.asarray(fit.pvalue[:, k]), glm["P"], rtol=1e-3, atol=1e-12)
        np.testing.assert_array_equal(np.asarray(fit.df[:, 0]) + 2, glm["OBS_CT"])
