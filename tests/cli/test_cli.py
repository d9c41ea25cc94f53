"""The jaxgen command line."""

import pytest

from jaxgen.cli.demo import run_demo
from jaxgen.cli.main import main


def test_demo_finds_causal_snps_and_the_canonical_structure():
    summary = run_demo(seed=0, progress=False, echo=lambda *a: None)
    lmm = summary["lmm"]
    assert lmm["spatial LMM"]["true_positives"] >= 4 and lmm["spatial LMM"]["false_positives"] == 0
    cca = summary["cca"]
    assert cca["test_corr"][0] > 0.8 and cca["test_corr"][0] > cca["test_corr"][1] > cca["test_corr"][2]
    assert cca["auc_snps"] > 0.9 and cca["auc_regions"] > 0.9


def test_cli_demo_quiet_prints_nothing(capsys):
    assert main(["demo", "--quiet", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_cli_without_command_shows_usage():
    with pytest.raises(SystemExit):
        main([])
