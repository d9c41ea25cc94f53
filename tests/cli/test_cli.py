"""The jaxgen command line."""

import pytest

from jaxgen.cli.demo import run_demo
from jaxgen.cli.main import main


def test_demo_finds_causal_snps_without_false_positives():
    summary = run_demo(seed=0, progress=False, echo=lambda *a: None)
    assert summary["spatial LMM"]["true_positives"] >= 4 and summary["spatial LMM"]["false_positives"] == 0


def test_cli_demo_quiet_prints_nothing(capsys):
    assert main(["demo", "--quiet", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_cli_without_command_shows_usage():
    with pytest.raises(SystemExit):
        main([])
