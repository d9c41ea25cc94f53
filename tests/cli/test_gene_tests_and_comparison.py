"""``jaxgen lmm --genes`` (gene_tests.csv, equal to LMMResult.set_tests, the same from either gene-file form) and
``--compare-models`` (model_comparison.csv and the report's section), in one run of the command."""

import numpy as np
import pandas as pd
import pytest

from jaxgen import lmm
from jaxgen.cli.main import main
from jaxgen.data import standardize_columns
from jaxgen.io import gene_sets, load_lmm_study, read_gene_file
from jaxgen.reports.lmm import gene_tests_table

RUN = ["--chains", "2", "--warmup", "30", "--samples", "40", "--seed", "4", "--quiet"]
GENES = {"gA": ["rs100000", "rs100001", "rs100002"], "gB": ["rs100002", "rs100003"], "gC": ["rs100007"]}


def _lmm(study, out, *extra):
    return ["lmm", "--bfile", str(study / "genotypes"), "--qt", str(study / "qt.csv"), "--covariates",
            str(study / "covariates.csv"), "--adjacency", str(study / "adjacency.csv"), "--kinship",
            str(study / "kinship.csv"), "--out", str(out), *RUN, *extra]


@pytest.fixture(scope="module")
def runs(small_study, tmp_path_factory):
    """The study run with a SNP → gene file and --compare-models; a gene-range file of the same genes beside it."""
    folder = tmp_path_factory.mktemp("genes")
    (folder / "pairs.csv").write_text("snp,gene\nrs100000,gA\nrs100001,gA\nrs100002,gA\nrs100002,gB\n"
                                      "rs100003,gB\nrs999,gC\nrs100007,gC\nrs998,gD\n")
    # the .bim places rs1000k at (k + 1) kb on chromosome 1
    (folder / "ranges.txt").write_text("gA\tchr1\t1000\t3000\ngB\t1\t3000\t4000\ngC\t1\t7500\t8000\ngD\t2\t1\t100\n")
    assert main(_lmm(small_study, folder / "pairs", "--genes", str(folder / "pairs.csv"), "--compare-models")) == 0
    return folder


def test_gene_tests_are_the_set_tests_of_the_fit_from_either_file_form(runs, small_study):
    pairs = pd.read_csv(runs / "pairs" / "gene_tests.csv")
    assert list(pairs.columns) == ["gene", "n_snps", "snps", "p_value", "log10_p"]
    assert {gene: snps.split(";") for gene, snps in zip(pairs["gene"], pairs["snps"])} == GENES
    assert pairs["p_value"].is_monotonic_increasing
    study = load_lmm_study(small_study / "genotypes", small_study / "qt.csv", covariates=small_study / "covariates.csv",
                           adjacency=small_study / "adjacency.csv", kinship=small_study / "kinship.csv")
    result = lmm.fit(standardize_columns(study.Y.to_numpy())[0], study.X, study.adjacency,
                     covariates=study.covariates.to_numpy(), kinship=study.kinship, num_chains=2, num_warmup=30,
                     num_samples=40, seed=4, progress=False, snp_ids=list(study.X.columns))
    direct = result.set_tests(GENES).set_index("set").loc[pairs["gene"]]
    np.testing.assert_allclose(pairs["p_value"], direct["p_value"], rtol=1e-6)
    np.testing.assert_allclose(pairs["log10_p"], direct["log10_p"], rtol=1e-6)
    from_ranges = gene_tests_table(result, gene_sets(read_gene_file(runs / "ranges.txt"), study.genotypes.snps),
                                   "omnibus")
    pd.testing.assert_frame_equal(from_ranges, pairs, rtol=1e-6)
    report = (runs / "pairs" / "report.md").read_text()
    assert "## Gene tests" in report and "| gA | 3 | rs100000;rs100001;rs100002 |" in report


def test_compare_models_writes_the_ranking_and_a_report_section(runs):
    table = pd.read_csv(runs / "pairs" / "model_comparison.csv", index_col="model")
    assert set(table.index) == {"spatial", "independent", "no-kinship"}
    assert table["elpd_diff"].iloc[0] == 0 and (table["elpd_diff"] <= 0).all()
    assert np.isclose(table["weight"].sum(), 1.0) and np.isfinite(table[["elpd", "se", "elpd_waic"]]).all().all()
    report = (runs / "pairs" / "report.md").read_text()
    assert "## Model comparison" in report and "independent: ρ = 0" in report
