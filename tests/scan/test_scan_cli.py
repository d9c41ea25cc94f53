"""``jaxgen scan`` end to end on ``jaxgen simulate --chromosomes 3`` output, and bad inputs refused."""

import gzip
import re

import numpy as np
import pandas as pd
import pytest

from jaxgen.cli.main import main
from jaxgen.io import PlinkFileset
from jaxgen.scan import scan

SCAN_RUN = ["--block-size", "64", "--quiet"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan-cli") / "study"
    assert main(["simulate", "--out", str(folder), "--subjects", "160", "--snps", "150", "--regions", "4",
                 "--chromosomes", "3", "--effect", "0.6", "--seed", "1", "--quiet"]) == 0
    return folder


def _scan_args(study, out, *extra):
    return ["scan", "--bfile", str(study / "genotypes"), "--qt", str(study / "qt.csv"), "--adjacency",
            str(study / "adjacency.csv"), "--out", str(out), *SCAN_RUN, *extra]


def test_scan_writes_sumstats_loci_plots_and_report_equal_to_the_api(study, tmp_path):
    out = tmp_path / "scan"
    assert main(_scan_args(study, out, "--test", "spatial,omnibus", "--per-region")) == 0
    assert {"sumstats.tsv.gz", "per_region.tsv.gz", "loci.csv", "lead_snps.txt", "manhattan.png", "qq.png",
            "brain.png", "report.md", "scan.json"} == {p.name for p in out.iterdir()}
    per_region = pd.read_csv(out / "per_region.tsv.gz", sep="\t")
    assert len(per_region) == 150 * 4 and list(per_region.columns) == ["SNP", "REGION", "BETA", "SE", "Z"]
    np.testing.assert_allclose(per_region["BETA"] / per_region["SE"], per_region["Z"], rtol=1e-4, atol=1e-6)
    with gzip.open(out / "sumstats.tsv.gz", "rt") as handle:
        sumstats = pd.read_csv(handle, sep="\t", dtype={"CHR": str})
    assert list(sumstats.columns) == ["CHR", "BP", "SNP", "A1", "A2", "A1_FREQ", "N", "P", "LOG10P", "P_SPATIAL",
                                      "LOG10P_SPATIAL", "P_OMNIBUS", "LOG10P_OMNIBUS"]
    assert sumstats["CHR"].tolist() == ["1"] * 50 + ["2"] * 50 + ["3"] * 50 and (sumstats["N"] == 160).all()
    qt = pd.read_csv(study / "qt.csv", index_col=0)
    Y = (qt - qt.mean()) / qt.std()
    adjacency = pd.read_csv(study / "adjacency.csv", index_col=0).to_numpy()
    direct = scan(PlinkFileset.open(study / "genotypes"), Y, adjacency, kinship="loco").sumstats
    np.testing.assert_allclose(sumstats["LOG10P"], -direct["LOG_P_SPATIAL"] / np.log(10), rtol=2e-5)
    loci = pd.read_csv(out / "loci.csv")
    assert len(loci) >= 1 and (loci["P"] < 5e-8).all()
    assert (out / "lead_snps.txt").read_text().split() == loci["SNP"].tolist()
    report = (out / "report.md").read_text()
    assert "λ_GC" in report and "LOCO, chromosome 3" in report and loci["SNP"].iloc[0] in report
    assert "![per-region z of the lead SNPs](brain.png)" in report


def test_lead_snps_feed_lmm_snps(study, tmp_path):
    out = tmp_path / "scan"
    assert main(_scan_args(study, out, "--kinship", "grm", "--clump-p1", "1e-6")) == 0
    leads = (out / "lead_snps.txt").read_text().split()
    assert leads and main(["lmm", "--bfile", str(study / "genotypes"), "--qt", str(study / "qt.csv"),
                           "--snps", ",".join(leads), "--out", str(tmp_path / "lmm"), "--chains", "2",
                           "--warmup", "20", "--samples", "20", "--quiet"]) == 0
    assert set(pd.read_csv(tmp_path / "lmm" / "snp_tests.csv")["snp"]) == set(leads)


@pytest.mark.parametrize("extra, message", [
    (["--kinship", "missing.csv"], "missing.csv: no such file"),
    (["--chromosome", "7"], "no selected SNP .* lies on chromosome 7"),
    (["--snps", "rs100000,rs100001", "--kinship", "loco"], None),  # a selection is fine: the GRM uses every SNP
])
def test_scan_inputs_checked(study, tmp_path, capsys, extra, message):
    status = main(_scan_args(study, tmp_path / "out", *extra))
    if message is None:
        assert status == 0
        return
    assert status == 1 and not (tmp_path / "out").exists()
    assert re.search(message, capsys.readouterr().err)


def test_loco_on_one_chromosome_is_refused_before_reading(tmp_path, capsys):
    study = tmp_path / "study"
    assert main(["simulate", "--out", str(study), "--subjects", "40", "--snps", "20", "--regions", "4", "--quiet"]) == 0
    assert main(_scan_args(study, tmp_path / "out")) == 1
    assert "leave-one-chromosome-out kinship needs two" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_options_are_refused(study, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(_scan_args(study, tmp_path / "out", "--test", "bogus"))
    assert stop.value.code == 2 and "tests must be among" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(_scan_args(study, tmp_path / "out", "--block-size", "0"))
    assert main(["simulate", "--out", str(tmp_path / "s"), "--snps", "3", "--chromosomes", "4", "--quiet"]) == 1
    assert "--chromosomes 4 exceeds --snps 3" in capsys.readouterr().err
    capsys.readouterr()
    assert main(_scan_args(study, tmp_path / "out", "--clump-p1", "0.1", "--clump-p2", "0.01")) == 1  # as plink 1.9
    assert "clumping p2 (0.01) is below p1 (0.1)" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_two_devices_give_the_p_values_of_one(study, tmp_path):
    """The scan in a process with two (forced host) devices, its blocks' SNP columns spread over both, equals
    the same process's scan on one of them, and (float32 there) this process's float64 scan up to rounding."""
    import os
    import subprocess
    import sys

    code = f"""
import sys, jax, numpy as np, pandas as pd
from jaxgen.io import PlinkFileset
from jaxgen.scan import scan
assert len(jax.devices()) == 2
qt = pd.read_csv("{study / 'qt.csv'}", index_col=0)
adjacency = pd.read_csv("{study / 'adjacency.csv'}", index_col=0).to_numpy()
for devices, name in ((jax.devices(), "two"), (jax.devices()[:1], "one")):
    result = scan(PlinkFileset.open("{study / 'genotypes'}"), (qt - qt.mean()) / qt.std(), adjacency,
                  kinship="grm", block_size=64, devices=devices)
    result.sumstats.to_csv(sys.argv[1] + "/" + name + ".csv", index=False)
"""
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    two, one = (pd.read_csv(tmp_path / f"{name}.csv", dtype={"CHR": str}) for name in ("two", "one"))
    log_p = [column for column in one.columns if column.startswith("LOG_P_")]
    pd.testing.assert_frame_equal(one.drop(columns=log_p), two.drop(columns=log_p), rtol=1e-5, atol=1e-6)
    _assert_same_p_values(one[log_p], two[log_p])
    qt = pd.read_csv(study / "qt.csv", index_col=0)
    adjacency = pd.read_csv(study / "adjacency.csv", index_col=0).to_numpy()
    here = scan(PlinkFileset.open(study / "genotypes"), (qt - qt.mean()) / qt.std(), adjacency, kinship="grm",
                block_size=64).sumstats.reset_index(drop=True)
    pd.testing.assert_frame_equal(here.drop(columns=log_p), two.drop(columns=log_p), rtol=2e-4, atol=5e-5,
                                  check_dtype=False)
    _assert_same_p_values(here[log_p], two[log_p])


def _assert_same_p_values(log_p, other_log_p):
    """Equal p-values up to rounding (float32 against float64, or one device's compiled shapes against two's):
    1e-4 of p, and 8 of the 131 072 draws of a simulated null law (the cct and omnibus). Near p = 1 a Cauchy
    combination's term cot(πp) ≈ -1/(π(1 - p)) of a score near 0 amplifies a rounding of the score, and
    the combination then steps over a few draws of its null law (4 at most here)."""
    np.testing.assert_allclose(np.exp(log_p.to_numpy(float)), np.exp(other_log_p.to_numpy(float)), rtol=1e-4,
                               atol=8 / 131_072)
