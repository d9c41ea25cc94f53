"""PLINK reading (bed-reader) with QC, and the genomic relationship matrix."""

import numpy as np
import pandas as pd
import pytest

from jaxgen.graphs import genomic_relationship
from jaxgen.io import InputError, PlinkFileset, ReadLog, load_lmm_study, read_plink, write_plink
from jaxgen.io.genotype_source import as_slice


def _fileset(tmp_path, X, **kwargs):
    n, p = X.shape
    write_plink(tmp_path / "g", X, [f"s{i}" for i in range(n)], [f"rs{j}" for j in range(p)], **kwargs)
    return tmp_path / "g"


def test_round_trip_keeps_dosages_ids_and_positions(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.binomial(2, rng.uniform(0.1, 0.5, 12), size=(30, 12)).astype(float)
    prefix = _fileset(tmp_path, X, chromosome=["1"] * 6 + ["2"] * 6, positions=list(range(100, 1300, 100)))
    g = read_plink(prefix, maf_min=0.0)
    np.testing.assert_array_equal(g.dosages, X)
    assert g.subject_ids == [f"s{i}" for i in range(30)] and g.snp_ids == [f"rs{j}" for j in range(12)]
    assert g.snps["position"].tolist() == list(range(100, 1300, 100))
    np.testing.assert_allclose(g.snps["maf"], np.minimum(X.mean(0) / 2, 1 - X.mean(0) / 2))
    assert read_plink(str(prefix) + ".bed", maf_min=0.0).dosages.shape == (30, 12)  # a .bed path works too


def test_consecutive_and_listed_snps_read_the_same(tmp_path):
    """A run of consecutive SNPs is read as a slice (faster); listed SNPs in any order as listed."""
    rng = np.random.default_rng(1)
    X = rng.binomial(2, 0.3, size=(20, 10)).astype(float)
    fileset = PlinkFileset.open(_fileset(tmp_path, X))
    assert as_slice(np.arange(3, 7)) == slice(3, 7)
    assert isinstance(as_slice(np.array([3, 5, 6])), np.ndarray) and isinstance(as_slice(np.array([4])), np.ndarray)
    np.testing.assert_array_equal(fileset.raw_dosages(np.arange(3, 7)), X[:, 3:7])
    np.testing.assert_array_equal(fileset.raw_dosages(np.array([6, 3, 5])), X[:, [6, 3, 5]])


def test_missing_calls_are_mean_imputed_and_monomorphic_and_rare_snps_dropped(tmp_path):
    X = np.array([[0, 1, 2, 0], [1, 1, 2, 0], [2, 1, 0, 0], [np.nan, 1, 2, 1]] * 10, dtype=float)
    X[5, 2] = np.nan
    log = ReadLog()
    g = read_plink(_fileset(tmp_path, X), maf_min=0.05, log=log)
    # rs1 is monomorphic; rs3 has MAF 10/80 = 0.125 and is kept; rs0 and rs2 carry the missing calls
    assert g.snp_ids == ["rs0", "rs2", "rs3"]
    called = X[~np.isnan(X[:, 0]), 0]
    np.testing.assert_array_equal(g.dosages[3::4, 0], np.full(10, called.mean()))
    assert g.dosages[5, 1] == pytest.approx(np.nanmean(X[:, 2]))
    text = "\n".join(log.lines)
    assert "11 missing calls in 2 SNPs" in text and "dropped 1 SNPs monomorphic" in text and "rs1" in text
    g = read_plink(_fileset(tmp_path, X), maf_min=0.2, log=ReadLog())
    assert "rs3" not in g.snp_ids


def test_snp_selection_by_list_and_range(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.binomial(2, 0.3, size=(20, 8)).astype(float)
    prefix = _fileset(tmp_path, X, chromosome=["1"] * 4 + ["2"] * 4, positions=[10, 20, 30, 40] * 2)
    assert read_plink(prefix, snps=["rs5", "rs1"]).snp_ids == ["rs1", "rs5"]
    assert read_plink(prefix, chromosome="2", start=15, end=30).snp_ids == ["rs5", "rs6"]
    with pytest.raises(InputError, match="g.bim: 1 requested SNPs are not in the fileset: rs99"):
        read_plink(prefix, snps=["rs1", "rs99"])
    with pytest.raises(InputError, match="no SNP matches"):
        read_plink(prefix, chromosome="7")


def test_broken_filesets_are_named(tmp_path):
    prefix = _fileset(tmp_path, np.ones((4, 2)))
    (tmp_path / "g.fam").unlink()
    with pytest.raises(InputError, match=r"g.bed: PLINK fileset incomplete, missing .*g.fam"):
        read_plink(prefix)
    (tmp_path / "h.bed").write_bytes(b"not a bed file")
    (tmp_path / "h.bim").write_text("1\trs0\t0\t1\tA\tG\n")
    (tmp_path / "h.fam").write_text("f s0 0 0 0 -9\n")
    with pytest.raises(InputError, match="h.bed: not a PLINK 1 .bed file: it starts with bytes 6e 6f 74"):
        read_plink(tmp_path / "h")


def test_duplicated_subject_ids_are_refused(tmp_path):
    write_plink(tmp_path / "d", np.array([[0.0, 1], [1, 2], [2, 0]]), ["a", "b", "a"], ["rs0", "rs1"])
    with pytest.raises(InputError, match=r"d.fam: duplicated subject \(IID\) ids: a \(2×\)"):
        read_plink(tmp_path / "d")


def test_genomic_relationship_matches_its_definition():
    rng = np.random.default_rng(2)
    X = rng.binomial(2, rng.uniform(0.1, 0.5, 7), size=(6, 7)).astype(float)
    f = X.mean(0) / 2
    expected = np.array([[np.mean((X[i] - 2 * f) * (X[j] - 2 * f) / (2 * f * (1 - f))) for j in range(6)]
                         for i in range(6)])
    np.testing.assert_allclose(genomic_relationship(X), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="1 monomorphic"):
        genomic_relationship(np.column_stack([X, np.zeros(6)]))


def test_snps_constant_over_the_analysed_subjects_are_left_out_and_logged(tmp_path):
    """A SNP that varies in the fileset but not over the subjects the QT table shares cannot be tested: the
    loaders drop it (by name, in the log) instead of failing later on a zero standard deviation."""
    rng = np.random.default_rng(3)
    X = rng.binomial(2, 0.4, size=(30, 5)).astype(float)
    X[:15, 1], X[15:, 1] = 2.0, rng.binomial(2, 0.4, size=15)
    ids = [f"s{i}" for i in range(30)]
    write_plink(tmp_path / "g", X, ids, [f"rs{j}" for j in range(5)])
    pd.DataFrame(rng.standard_normal((15, 2)), index=pd.Index(ids[:15], name="subject"),
                 columns=["a", "b"]).to_csv(tmp_path / "qt.csv")
    log = ReadLog()
    study = load_lmm_study(tmp_path / "g", tmp_path / "qt.csv", log=log)
    assert list(study.X.columns) == ["rs0", "rs2", "rs3", "rs4"]
    np.testing.assert_array_equal(study.X.to_numpy(), X[:15][:, [0, 2, 3, 4]])
    assert any("1 SNPs constant over the 15 analysed subjects, left out: rs1" in line for line in log.lines)
