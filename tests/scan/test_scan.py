"""The genome-wide scan: exact per-region LMM score tests, invariance to blocks and chromosome split, block
QC equal to read_plink's, λ_GC on a null genome of related subjects, clumping equal to PLINK 1.9's."""

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from jaxgen.data import simulate_study
from jaxgen.data.spatial_lmm import simulate_spatial_lmm
from jaxgen.io import PlinkFileset, read_plink, write_plink
from jaxgen.io.simulated import write_study
from jaxgen.graphs import genomic_relationship
from jaxgen.scan import ChromosomeRelationships, SparseKinshipWarning, clump, fileset_dosages, genomic_control, scan


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    """A study of 120 related subjects, 150 SNPs on 3 chromosomes, 4 regions, written as files."""
    folder = tmp_path_factory.mktemp("genome")
    study = simulate_study(4, n=120, p=150, c=4, n_causal=3, effect=0.4)
    write_study(study, folder, chromosomes=3)
    Y = pd.read_csv(folder / "qt.csv", index_col=0)
    return folder, study, Y


def test_each_region_z_is_the_dense_lmm_score_test_given_the_reml_components(genome):
    folder, study, Y = genome
    d = study.lmm
    C = pd.DataFrame(d.covariates, index=Y.index)
    result = scan(PlinkFileset.open(folder / "genotypes"), Y, d.adjacency, C, kinship=d.kinship, block_size=64,
                  keep_profiles=2.0)
    null = result.nulls[None]
    X = (d.X - d.X.mean(axis=0)) / d.X.std(axis=0, ddof=1)
    n = len(Y)
    for k in range(Y.shape[1]):  # the generalized least-squares score test of each column, dense n × n algebra
        h2, sigma2 = float(null.h2[k]), float(null.sigma2[k])
        V_inv = np.linalg.inv(sigma2 * (h2 * d.kinship + (1 - h2) * np.eye(n)))
        P = V_inv - V_inv @ d.covariates @ np.linalg.solve(d.covariates.T @ V_inv @ d.covariates, d.covariates.T @ V_inv)
        y = Y.to_numpy()[:, k]
        z = (X.T @ P @ y) / np.sqrt(np.einsum("ij,ij->j", X, P @ X))
        got = result.profiles.loc[d.snp_ids].to_numpy()[:, k]
        np.testing.assert_allclose(got, z, rtol=1e-8, atol=1e-10)
    assert result.sumstats["SNP"].tolist() == d.snp_ids


def test_one_region_scan_is_the_lmm_score_test_of_that_column(genome):
    """One QT and no neighbours (adjacency [0]): the z is the dense REML score test of the column, and the
    omnibus, cct and spatial tests all reduce to its two-sided normal p-value."""
    folder, study, Y = genome
    d = study.lmm
    C = pd.DataFrame(d.covariates, index=Y.index)
    one = Y[["region002"]]
    result = scan(PlinkFileset.open(folder / "genotypes"), one, np.zeros((1, 1)), C, kinship=d.kinship,
                  block_size=64, keep_profiles=2.0)
    null = result.nulls[None]
    h2, sigma2 = float(null.h2[0]), float(null.sigma2[0])
    n = len(Y)
    V_inv = np.linalg.inv(sigma2 * (h2 * d.kinship + (1 - h2) * np.eye(n)))
    P = V_inv - V_inv @ d.covariates @ np.linalg.solve(d.covariates.T @ V_inv @ d.covariates, d.covariates.T @ V_inv)
    X = d.X - d.X.mean(axis=0)
    z = (X.T @ P @ one.to_numpy()[:, 0]) / np.sqrt(np.einsum("ij,ij->j", X, P @ X))
    np.testing.assert_allclose(result.profiles.loc[d.snp_ids].to_numpy()[:, 0], z, rtol=1e-8, atol=1e-10)
    log_p = np.log(2 * stats.norm.sf(np.abs(z)))
    for test in ("OMNIBUS", "CCT", "SPATIAL"):
        np.testing.assert_allclose(result.sumstats[f"LOG_P_{test}"], log_p, rtol=1e-6, atol=1e-9, err_msg=test)


def test_block_size_and_chromosome_split_leave_the_p_values_unchanged(genome):
    folder, study, Y = genome
    fileset = PlinkFileset.open(folder / "genotypes")
    whole = scan(fileset, Y, study.lmm.adjacency, kinship="loco", block_size=64).sumstats
    small = scan(fileset, Y, study.lmm.adjacency, kinship="loco", block_size=7).sumstats
    second = scan(fileset, Y, study.lmm.adjacency, kinship="loco", block_size=64, chromosomes=["2"]).sumstats
    log_p = [c for c in whole.columns if c.startswith("LOG_P_")]
    assert len(log_p) == 5
    np.testing.assert_allclose(small[log_p], whole[log_p], rtol=1e-9)
    on_2 = whole[whole["CHR"] == "2"].reset_index(drop=True)
    assert second["SNP"].tolist() == on_2["SNP"].tolist() and len(second) == 50
    np.testing.assert_allclose(second[log_p], on_2[log_p], rtol=1e-9)


def test_blocks_apply_read_plink_quality_control(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.binomial(2, rng.uniform(0.2, 0.5, 40), size=(30, 40)).astype(float)
    X[rng.random(X.shape) < 0.05] = np.nan
    X[:, 3] = 1.0  # monomorphic
    X[:, 7] = 0.0
    X[0, 7] = 1.0  # MAF 1/60 < 0.02
    write_plink(tmp_path / "g", X, [f"s{i}" for i in range(30)], [f"rs{j}" for j in range(40)])
    reference = read_plink(tmp_path / "g", maf_min=0.02)
    fileset = PlinkFileset.open(tmp_path / "g", maf_min=0.02)
    blocks = [(g, counts) for g, counts in fileset.blocks(6)]
    np.testing.assert_array_equal(np.concatenate([g.dosages for g, _ in blocks], axis=1), reference.dosages)
    pd.testing.assert_frame_equal(pd.concat([g.snps for g, _ in blocks], ignore_index=True), reference.snps)
    total = sum((counts for _, counts in blocks[1:]), blocks[0][1])
    assert total.monomorphic == ("rs3",) and total.rare == ("rs7",) and total.kept == 38
    assert total.missing_calls == int(np.isnan(X).sum())


def test_null_genome_of_related_subjects_has_lambda_gc_near_one(tmp_path):
    n, p, c = 200, 6000, 4
    d = simulate_spatial_lmm(11, n=n, p=p, c=c, n_causal=0, rho=0.6, h2=0.6, block_size=1)
    chromosomes = np.repeat(["1", "2", "3"], p // 3)
    positions = np.tile(1000 * np.arange(1, p // 3 + 1), 3)
    write_plink(tmp_path / "g", d.X, d.subject_ids, d.snp_ids, chromosome=list(chromosomes), positions=positions)
    Y = pd.DataFrame(d.Y, index=d.subject_ids)
    result = scan(PlinkFileset.open(tmp_path / "g"), Y, d.adjacency, pd.DataFrame(d.covariates, index=Y.index),
                  kinship="loco", block_size=1000)
    # sd of λ_GC from the median of N independent uniform p-values: g'(1/2)/(2√N), g(m) = χ²₁.isf(m)/χ²₁.median
    slope = 1.0 / (stats.chi2.pdf(stats.chi2.ppf(0.5, 1), 1) * stats.chi2.ppf(0.5, 1))
    sd = slope / (2.0 * np.sqrt(len(result.sumstats)))
    for column in [col for col in result.sumstats.columns if col.startswith("LOG_P_")]:
        lam = genomic_control(np.exp(result.sumstats[column]))
        assert abs(lam - 1.0) < 4 * sd, (column, lam, sd)


def test_a_grm_of_few_independent_snps_for_related_subjects_is_warned_of(tmp_path):
    """Families and 300 SNPs in LD blocks of 10 (a few dozen independent SNPs for 120 subjects): the scan warns that
    its LOCO kinships correct relatedness only in part, and says how many independent SNPs they hold (read off the
    GRM's spread: about the number of LD blocks); unrelated subjects with the same SNPs get no warning."""
    def relationships(family_size, folder):
        d = simulate_spatial_lmm(3, n=120, p=300, c=2, n_causal=0, rho=0.5, h2=0.5, family_size=family_size,
                                 block_size=10)
        write_plink(folder / "g", d.X, d.subject_ids, d.snp_ids, chromosome=list(np.repeat(["1", "2", "3"], 100)),
                    positions=np.tile(1000 * np.arange(1, 101), 3))
        fileset = PlinkFileset.open(folder / "g")
        return d, fileset, ChromosomeRelationships.accumulate(fileset, np.arange(120))

    (tmp_path / "families").mkdir()
    d, fileset, families = relationships(4, tmp_path / "families")
    message = families.sparse_kinship_message(loco=True)
    independent = int(re.search(r"about (\d+) independent", message).group(1))
    assert "as few as 200 SNPs" in message and 10 <= independent <= 200, message
    Y = pd.DataFrame(d.Y, index=d.subject_ids)
    with pytest.warns(SparseKinshipWarning, match="corrects relatedness only in part"):
        scan(fileset, Y, d.adjacency, kinship="loco", tests=("cct",))
    (tmp_path / "unrelated").mkdir()
    assert relationships(1, tmp_path / "unrelated")[2].sparse_kinship_message(loco=True) is None


def test_clumping_equals_plink_1_9(tmp_path):
    plink = shutil.which("plink1.9")
    if plink is None:
        pytest.skip("plink1.9 is not installed (Debian package plink1.9): the comparison with PLINK is skipped")
    d = simulate_spatial_lmm(5, n=150, p=400, c=2, n_causal=0, rho=0.5, h2=0.0, family_size=1, block_size=8)
    positions = 2000 * np.arange(1, 401)
    chromosome = list(np.repeat(["1", "2"], 200))
    write_plink(tmp_path / "g", d.X, d.subject_ids, d.snp_ids, chromosome=chromosome, positions=positions)
    rng = np.random.default_rng(2)
    sumstats = pd.DataFrame({"CHR": chromosome, "BP": positions, "SNP": d.snp_ids,
                             "P": rng.uniform(size=400) ** 4})
    sumstats.to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    settings = dict(p1=1e-3, p2=0.05, r2=0.2, kb=30)
    fileset = PlinkFileset.open(tmp_path / "g", maf_min=0.0)
    ours = clump(sumstats, fileset_dosages(fileset, np.arange(150)), **settings)
    subprocess.run([plink, "--bfile", "g", "--clump", "p.tsv", "--clump-p1", "1e-3", "--clump-p2", "0.05",
                    "--clump-r2", "0.2", "--clump-kb", "30", "--out", "ref"], cwd=tmp_path, check=True,
                   capture_output=True)
    reference = pd.read_csv(tmp_path / "ref.clumped", sep=r"\s+")
    assert len(ours) > 5 and (ours["N_SP2"] > 0).sum() >= 3  # the r² rule is exercised
    assert ours["SNP"].tolist() == reference["SNP"].tolist()
    for members, expected in zip(ours["SP2"], reference["SP2"]):
        got = set(members.split(",")) - {""}
        want = set() if expected == "NONE" else {m.split("(")[0] for m in expected.split(",")}
        assert got == want


def test_loco_kinship_is_the_grm_of_the_other_chromosomes(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.binomial(2, rng.uniform(0.1, 0.5, 3000), size=(25, 3000)).astype(float)
    X[rng.random(X.shape) < 0.02] = np.nan
    chromosome = list(np.repeat(["1", "2", "3"], 1000))
    write_plink(tmp_path / "g", X, [f"s{i}" for i in range(25)], [f"rs{j}" for j in range(3000)],
                chromosome=chromosome, positions=np.tile(np.arange(1, 1001), 3))
    rows = np.arange(25)[::-1]  # the analysed subjects, in another order than the .fam's
    sums = ChromosomeRelationships.accumulate(PlinkFileset.open(tmp_path / "g"), rows)
    assert sums.snps == {"1": 1000, "2": 1000, "3": 1000}  # more than one GRM block
    for leave_out, kept in (("2", ["1", "3"]), (None, ["1", "2", "3"])):
        g = read_plink(tmp_path / "g")
        on = g.snps["chromosome"].isin(kept).to_numpy()
        expected = genomic_relationship(g.dosages[rows][:, on], frequency=g.snps["a1_frequency"][on].to_numpy(),
                                        called=~g.missing[rows][:, on])
        np.testing.assert_allclose(sums.relationship(leave_out), expected, rtol=1e-12, atol=1e-12)


def test_grm_products_in_float32_round_the_kinship_by_far_less_than_its_sampling_error(tmp_path):
    """A float32 scan takes each block's products in float32 (half the time), summed in float64."""
    rng = np.random.default_rng(4)
    X = rng.binomial(2, rng.uniform(0.05, 0.5, 6000), size=(60, 6000)).astype(float)
    X[rng.random(X.shape) < 0.01] = np.nan
    write_plink(tmp_path / "g", X, [f"s{i}" for i in range(60)], [f"rs{j}" for j in range(6000)],
                chromosome=list(np.repeat(["1", "2"], 3000)), positions=np.tile(np.arange(1, 3001), 2))
    fileset, rows = PlinkFileset.open(tmp_path / "g"), np.arange(60)
    exact = ChromosomeRelationships.accumulate(fileset, rows)
    rounded = ChromosomeRelationships.accumulate(fileset, rows, dtype=np.float32)
    for leave_out in ("1", None):
        expected, got = exact.relationship(leave_out), rounded.relationship(leave_out)
        assert got.dtype == np.float64
        off_diagonal = expected[~np.eye(60, dtype=bool)]
        # float32 rounding: ~1e-7 of a term per product, against a sampling sd of 1/√p ≈ 0.013 off the diagonal
        np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)
        assert np.abs(got - expected).max() < 1e-3 * off_diagonal.std()


def test_result_gives_each_chromosome_the_kinship_its_snps_were_tested_against(genome):
    """What the fine-mapping fits against: with LOCO the GRM of the other chromosomes, with grm that of all."""
    folder, study, Y = genome
    fileset = PlinkFileset.open(folder / "genotypes")
    g = read_plink(folder / "genotypes").select_subjects(list(Y.index))

    def grm(chromosomes):
        on = g.snps["chromosome"].isin(chromosomes).to_numpy()
        return genomic_relationship(g.dosages[:, on], frequency=g.snps["a1_frequency"][on].to_numpy(),
                                    called=~g.missing[:, on])

    loco = scan(fileset, Y, study.lmm.adjacency, kinship="loco", block_size=64, chromosomes=["2"])
    np.testing.assert_allclose(loco.kinship("2"), grm(["1", "3"]), rtol=1e-12, atol=1e-12)
    shared = scan(fileset, Y, study.lmm.adjacency, kinship="grm", block_size=64, chromosomes=["2"])
    np.testing.assert_allclose(shared.kinship("2"), grm(["1", "2", "3"]), rtol=1e-12, atol=1e-12)
    given = scan(fileset, Y, study.lmm.adjacency, kinship=study.lmm.kinship, block_size=64, chromosomes=["2"])
    assert given.kinship("2") is study.lmm.kinship


def test_the_scan_wants_qts_labelled_by_subject(genome):
    folder, study, Y = genome
    with pytest.raises(TypeError, match="Y must be a pandas DataFrame of QTs indexed by subject id"):
        scan(PlinkFileset.open(folder / "genotypes"), Y.to_numpy(), study.lmm.adjacency)
