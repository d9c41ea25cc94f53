"""The jaxgen command line: simulate → lmm / cca through files, equal to the array API; errors; the demo."""

import json
import shutil

import arviz as az
import numpy as np
import pandas as pd
import pytest

from jaxgen import cca, lmm
from jaxgen.cli.demo import run_demo
from jaxgen.cli.main import COMMANDS, main
from jaxgen.data import simulate_study, standardize_columns

STUDY = dict(seed=3, n=120, p=20, c=9, ccc=(0.9, 0.5))
LMM_RUN = ["--chains", "2", "--warmup", "150", "--samples", "300", "--seed", "5", "--quiet"]
CCA_RUN = ["--grid", "beta1=1,10", "--grid", "beta2=1,10", "--cv", "3", "--permutations", "20",
           "--max-iter", "50", "--seed", "2", "--quiet"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "study"
    assert main(["simulate", "--out", str(folder), "--subjects", "120", "--snps", "20", "--regions", "9",
                 "--ccc", "0.9", "0.5", "--seed", "3", "--quiet"]) == 0
    return folder


def _lmm_args(study, out):
    return ["lmm", "--bfile", str(study / "genotypes"), "--qt", str(study / "qt.csv"), "--covariates",
            str(study / "covariates.csv"), "--adjacency", str(study / "adjacency.csv"), "--kinship",
            str(study / "kinship.csv"), "--out", str(out), *LMM_RUN]


def test_simulate_writes_a_complete_study(study):
    names = {p.name for p in study.iterdir()}
    assert {"genotypes.bed", "genotypes.bim", "genotypes.fam", "qt.csv", "covariates.csv", "adjacency.csv",
            "kinship.csv", "thickness.csv", "area.csv", "truth.json"} == names
    truth = json.loads((study / "truth.json").read_text())
    assert len(truth["lmm"]["causal_snps"]) == 5 and truth["cca"]["canonical_correlations"] == [0.9, 0.5]


def test_lmm_through_files_equals_the_array_api(study, tmp_path):
    out = tmp_path / "lmm"
    assert main(_lmm_args(study, out)) == 0
    assert {"posterior.nc", "associations.csv", "snp_tests.csv", "diagnostics.csv", "report.md", "heatmap.png",
            "manhattan.png", "trace.png", "rank.png", "brain.png"} <= {p.name for p in out.iterdir()}
    d = simulate_study(STUDY["seed"], n=STUDY["n"], p=STUDY["p"], c=STUDY["c"], ccc=STUDY["ccc"]).lmm
    direct = lmm.fit(standardize_columns(d.Y)[0], d.X, d.adjacency, covariates=d.covariates, kinship=d.kinship,
                     num_chains=2, num_warmup=150, num_samples=300, seed=5, progress=False,
                     snp_ids=d.snp_ids, region_names=d.region_names)
    posterior = az.from_netcdf(out / "posterior.nc")
    # equal up to rounding (memory layouts of the read arrays differ, so LAPACK may round differently)
    np.testing.assert_allclose(posterior["posterior"]["B"].values, np.asarray(direct.draws["B"]), rtol=1e-8, atol=1e-12)
    assert list(posterior["posterior"]["B"].coords["snp"].values) == d.snp_ids
    expected = direct.snp_tests()  # the default omnibus score test, like the command's
    written = pd.read_csv(out / "snp_tests.csv").set_index("snp").loc[expected["snp"]]
    np.testing.assert_allclose(written["p_value"], expected["p_value"], rtol=1e-6)
    np.testing.assert_allclose(written["log10_p_spatial"], expected["log10_p_spatial"], rtol=1e-6)
    report = (out / "report.md").read_text()
    assert "# jaxgen spatial LMM report" in report and "![Manhattan plot](manhattan.png)" in report


def test_cca_through_files_equals_the_array_api(study, tmp_path):
    out = tmp_path / "cca"
    args = ["cca", "--method", "mts2cca", "--bfile", str(study / "genotypes"), "--qt", str(study / "thickness.csv"),
            "--qt", str(study / "area.csv"), "--adjacency", str(study / "adjacency.csv"), "--out", str(out), *CCA_RUN]
    assert main(args) == 0
    s = simulate_study(STUDY["seed"], n=STUDY["n"], p=STUDY["p"], c=STUDY["c"], ccc=STUDY["ccc"])
    from jaxgen.graphs import adjacency_laplacian

    result = cca.cross_validate(cca.MTS2CCA(max_iter=50), s.lmm.X, s.modalities, Ly=adjacency_laplacian(s.lmm.adjacency),
                                param_grid={"beta1": [1.0, 10.0], "beta2": [1.0, 10.0]}, cv=3, seed=2, progress=False)
    U = pd.read_csv(out / "weights_snps.csv", index_col="snp")
    np.testing.assert_allclose(U[["thickness", "area"]].to_numpy(), result.best_estimator.U_, rtol=0, atol=1e-12)
    correlations = pd.read_csv(out / "correlations.csv")
    np.testing.assert_allclose(correlations["cv_test_corr"], result.mean_test_corr[result.best_index], atol=1e-12)
    assert correlations["permutation_p"].between(1 / 21, 1).all()
    assert {"cv.png", "weights_snps.png", "weights_regions.png", "brain.png", "summary.json", "report.md"} <= {
        p.name for p in out.iterdir()}


def _broken(study, tmp_path, file_name, edit):
    """A copy of the study with one file rewritten by ``edit(text) -> text``."""
    copy = tmp_path / "broken"
    shutil.copytree(study, copy)
    (copy / file_name).write_text(edit((copy / file_name).read_text()))
    return copy


def _rename_subjects(text):
    return text.replace("sub0", "other0")


def _duplicate_first_subject(text):
    lines = text.splitlines()
    return "\n".join([lines[0], lines[1], lines[1], *lines[2:]]) + "\n"


def _non_numeric_cell(text):
    lines = text.splitlines()
    cells = lines[3].split(",")
    cells[2] = "n/a?"
    return "\n".join([*lines[:3], ",".join(cells), *lines[4:]]) + "\n"


def _empty_cell(text):
    lines = text.splitlines()
    cells = lines[2].split(",")
    cells[1] = ""
    return "\n".join([*lines[:2], ",".join(cells), *lines[3:]]) + "\n"


def _asymmetric(text):
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[2] = "5.0"
    return "\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n"


def _negated(text):
    frame = pd.read_csv(pd.io.common.StringIO(text), index_col=0)
    return (-frame).to_csv()


@pytest.mark.parametrize("file_name, edit, message", [
    ("qt.csv", _rename_subjects, "no subject is in every input"),
    ("qt.csv", _duplicate_first_subject, "qt.csv: duplicated subject ids"),
    ("qt.csv", _non_numeric_cell, "qt.csv: column 'region001' is not numeric: line 4"),
    ("qt.csv", _empty_cell, "qt.csv: 1 missing cells in columns region000"),
    ("adjacency.csv", _asymmetric, "adjacency.csv: adjacency must be symmetric"),
    ("kinship.csv", _negated, "kinship.csv: kinship is not positive semi-definite"),
])
def test_bad_inputs_fail_with_one_line_and_write_nothing(study, tmp_path, capsys, file_name, edit, message):
    broken = _broken(study, tmp_path, file_name, edit)
    out = tmp_path / "out"
    assert main(_lmm_args(broken, out)) == 1
    err = capsys.readouterr().err
    assert err.startswith("jaxgen lmm: error: ") and message in err and err.count("\n") == 1
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["broken"]


def test_jcbscca_runs_the_published_variant_on_a_grid_that_follows_the_data(study, tmp_path, capsys):
    """Without --grid, the cardinalities n_keep_x, n_keep_y are 10/25/50 % of p = 20 and 25/50 % of q = 9."""
    out = tmp_path / "jcb"
    args = ["cca", "--method", "jcbscca", "--bfile", str(study / "genotypes"), "--qt", str(study / "thickness.csv"),
            "--qt", str(study / "area.csv"), "--adjacency", str(study / "adjacency.csv"), "--cv", "3",
            "--permutations", "0", "--seed", "2", "--out", str(out), "--quiet"]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "JCBSCCA" and summary["params"]["variant"] == "published"
    table = pd.read_csv(out / "cv.csv")
    assert sorted(set(table["n_keep_x"])) == [2, 5, 10] and sorted(set(table["n_keep_y"])) == [2, 4]
    assert main(args[:-3] + ["--grid", "n_keep_y=3,12", "--out", str(tmp_path / "bad"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "n_keep_y must be a whole number between 2 and q (regions) = 9, got 12" in err and err.count("\n") == 1
    assert not (tmp_path / "bad").exists()


def test_other_refusals(study, tmp_path, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert main(_lmm_args(study, tmp_path / "full")) == 1
    assert "already holds files" in capsys.readouterr().err
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    assert main(["cca", "--bfile", str(study / "genotypes"), "--qt", str(study / "qt.csv"), "--grid", "beta9=1",
                 "--out", str(tmp_path / "x"), "--quiet"]) == 1
    assert "--grid names ['beta9'] are not hyperparameters of mts2cca" in capsys.readouterr().err
    assert main(["lmm", "--bfile", str(tmp_path / "nothing"), "--qt", str(study / "qt.csv"),
                 "--out", str(tmp_path / "y"), "--quiet"]) == 1
    assert "PLINK fileset incomplete" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0 and f"usage: jaxgen {command}" in capsys.readouterr().out


def test_cli_without_command_shows_usage():
    with pytest.raises(SystemExit):
        main([])


def test_demo_recovers_the_simulated_truth_through_files(tmp_path, capsys):
    summary = run_demo(tmp_path / "demo", quiet=True, echo=print, permutations=50)
    assert capsys.readouterr().out == ""  # --quiet: nothing printed
    # the LMM finds the causal SNPs; marginal tests also flag SNPs in LD with them, but no hit is unlinked
    assert summary["lmm_true_positives"] >= 4 and summary["lmm_false_positives"] == 0
    corr = summary["cca"]["cv_test_corr"]
    assert corr[0] > 0.8 and corr[0] > corr[1] > corr[2]
    assert summary["cca_auc_snps"] > 0.9 and summary["cca_auc_regions"] > 0.9
    assert summary["cca"]["p_value"] < 0.05
    assert summary["cca"]["regions"][:3] == ["lh_superiorfrontal", "rh_superiorfrontal", "lh_caudalmiddlefrontal"]
    for command in ("lmm", "cca"):  # the Desikan–Killiany names put a brain map in both reports
        assert "(brain.png)" in (tmp_path / "demo" / command / "report.md").read_text()


def test_snp_range_selection(study, tmp_path):
    out = tmp_path / "range"
    assert main(["cca", "--bfile", str(study / "genotypes"), "--qt", str(study / "thickness.csv"), "--qt",
                 str(study / "area.csv"), "--chromosome", "1", "--from-bp", "5000", "--to-bp", "12000", "--cv", "2",
                 "--grid", "beta1=1", "--permutations", "0", "--out", str(out), "--quiet"]) == 0
    snps = pd.read_csv(out / "weights_snps.csv")["snp"].tolist()
    assert snps == [f"rs{100000 + j}" for j in range(4, 12)]  # positions 1000·(j + 1) in [5000, 12000]


def test_lmm_with_one_chain_writes_its_report_without_a_rank_plot(study, tmp_path):
    out = tmp_path / "one_chain"
    args = _lmm_args(study, out)
    args[args.index("--chains") + 1] = "1"
    assert main(args) == 0
    names = {p.name for p in out.iterdir()}
    assert "trace.png" in names and "rank.png" not in names
    assert "One chain: no rank plot" in (out / "report.md").read_text()
