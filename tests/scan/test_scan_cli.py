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


def test_two_devices_give_the_p_values_of_one(study, tmp_path):
    """The scan in a process with two (forced host) devices, its blocks' SNP columns spread over both, equals
    the one-device scan of this process up to float32 rounding."""
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
result = scan(PlinkFileset.open("{study / 'genotypes'}"), (qt - qt.mean()) / qt.std(), adjacency, kinship="grm",
              block_size=64, devices=jax.devices())
result.sumstats.to_csv(sys.argv[1], index=False)
"""
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "two.csv")], env=env, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    qt = pd.read_csv(study / "qt.csv", index_col=0)
    adjacency = pd.read_csv(study / "adjacency.csv", index_col=0).to_numpy()
    one = scan(PlinkFileset.open(study / "genotypes"), (qt - qt.mean()) / qt.std(), adjacency, kinship="grm",
               block_size=64).sumstats
    two = pd.read_csv(tmp_path / "two.csv", dtype={"CHR": str})
    # float32 (there) against float64 (here) rounding; the cct's simulated null law turns a rounding into a
    # step of one or two of its 131 072 draws (log p ± 1.5e-5 near p = 1)
    pd.testing.assert_frame_equal(one.reset_index(drop=True), two, rtol=2e-4, atol=5e-5, check_dtype=False)
