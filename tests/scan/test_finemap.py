"""``jaxgen scan --finemap``: the joint spatial LMM on each locus finds the causal SNP; no locus, no finemap/."""

import json

import numpy as np
import pandas as pd
import pytest

from jaxgen.cli.main import main
from jaxgen.lmm import ConvergenceGateWarning
from jaxgen.scan import locus_snps

FINEMAP_RUN = ["--finemap", "--finemap-snps", "12", "--finemap-warmup", "60", "--finemap-samples", "60",
               "--block-size", "64", "--quiet"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """200 subjects, 150 SNPs on 3 chromosomes, 4 regions, one causal SNP of effect 0.6 on one region."""
    folder = tmp_path_factory.mktemp("finemap") / "study"
    assert main(["simulate", "--out", str(folder), "--subjects", "200", "--snps", "150", "--regions", "4",
                 "--chromosomes", "3", "--causal", "1", "--effect", "0.6", "--seed", "3", "--quiet"]) == 0
    return folder


def _scan(study, out, *extra):
    return main(["scan", "--bfile", str(study / "genotypes"), "--qt", str(study / "qt.csv"), "--adjacency",
                 str(study / "adjacency.csv"), "--out", str(out), *FINEMAP_RUN, *extra])


def test_finemap_gives_the_causal_snp_the_largest_posterior_effect(study, tmp_path, capsys):
    causal = json.loads((study / "truth.json").read_text())["lmm"]["causal_snps"]
    with pytest.warns(ConvergenceGateWarning):  # 2 × 60 draws: said before sampling
        assert _scan(study, tmp_path / "scan") == 0
    printed = capsys.readouterr()
    assert printed.out == "" and "sweep" not in printed.err  # --quiet silences the samplers' progress too
    loci = pd.read_csv(tmp_path / "scan" / "loci.csv", dtype={"CHR": str})
    snps = pd.read_csv(tmp_path / "scan" / "finemap" / "snps.csv", dtype={"CHR": str})
    regions = pd.read_csv(tmp_path / "scan" / "finemap" / "regions.csv", dtype={"CHR": str})
    assert loci["SNP"].tolist() == causal
    assert len(snps) == 12 and snps["LEAD"].sum() == 1 and (snps["LOCUS"] == 1).all()
    assert snps.loc[snps["EFFECT_MEAN"].idxmax(), "SNP"] == causal[0]
    assert len(regions) == 12 * 4 and set(regions["SNP"]) == set(snps["SNP"])
    # each (SNP, region) summary is of one posterior: the interval holds the mean, the sd is positive
    assert ((regions["Q2.5"] <= regions["MEAN"]) & (regions["MEAN"] <= regions["Q97.5"]) & (regions["SD"] > 0)).all()
    # the fitted SNPs are the window's smallest p-values (its lead first), in genome order
    with_p = pd.read_csv(tmp_path / "scan" / "sumstats.tsv.gz", sep="\t", dtype={"CHR": str})
    lead = loci.iloc[0]
    expected = locus_snps(with_p, lead["CHR"], lead["BP"], lead["SNP"], kb=250, max_snps=12)
    assert snps["SNP"].tolist() == expected["SNP"].tolist()
    window = with_p[(with_p["CHR"] == lead["CHR"])]
    assert expected["P"].max() <= np.sort(window["P"])[11] and expected["BP"].is_monotonic_increasing
    report = (tmp_path / "scan" / "report.md").read_text()
    assert "## Fine-mapping" in report and f"| 1 | {causal[0]} | 12 | {causal[0]} |" in report


def test_no_locus_writes_no_finemap(study, tmp_path, capsys):
    assert _scan(study, tmp_path / "scan", "--clump-p1", "1e-300") == 0
    assert not (tmp_path / "scan" / "finemap").exists()
    report = (tmp_path / "scan" / "report.md").read_text()
    assert "Fine-mapping" not in report and "nothing to fine-map" in report
