"""``jaxgen scan merge``: per-chromosome jobs merged equal one genome-wide job; mismatched jobs are refused."""

import gzip
import json
import re

import numpy as np
import pandas as pd
import pytest

from jaxgen.cli.main import main

SCAN_RUN = ["--block-size", "32", "--per-region", "--test", "omnibus,spatial", "--clump-p1", "1e-6", "--quiet"]


def _scan(study, out, *extra):
    assert main(["scan", "--bfile", str(study / "genotypes"), "--qt", str(study / "qt.csv"), "--adjacency",
                 str(study / "adjacency.csv"), "--out", str(out), *SCAN_RUN, *extra]) == 0
    return out


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    """A 2-chromosome study scanned in one job and in one job per chromosome (LOCO kinship)."""
    root = tmp_path_factory.mktemp("merge")
    study = root / "study"
    assert main(["simulate", "--out", str(study), "--subjects", "160", "--snps", "100", "--regions", "4",
                 "--chromosomes", "2", "--effect", "0.6", "--seed", "2", "--quiet"]) == 0
    return {"study": study, "whole": _scan(study, root / "whole"),
            "1": _scan(study, root / "chr1", "--chromosome", "1"), "2": _scan(study, root / "chr2", "--chromosome", "2")}


def _sumstats(folder):
    return pd.read_csv(folder / "sumstats.tsv.gz", sep="\t", dtype={"CHR": str})


def test_merged_chromosome_jobs_equal_one_genome_wide_job(scans, tmp_path):
    out = tmp_path / "merged"
    assert main(["scan", "merge", str(scans["2"]), str(scans["1"]), "--out", str(out), "--quiet"]) == 0
    assert {"sumstats.tsv.gz", "per_region.tsv.gz", "loci.csv", "lead_snps.txt", "scan.json", "manhattan.png",
            "qq.png", "brain.png", "report.md"} == {p.name for p in out.iterdir()}
    merged, whole = _sumstats(out), _sumstats(scans["whole"])
    assert merged["CHR"].tolist() == ["1"] * 50 + ["2"] * 50  # chromosome order, whatever the folders' order
    # LOCO: a chromosome's SNPs meet the same kinship (the GRM sums are read in fixed blocks), the same null
    # model and the same blocks in either job, so the rows are identical, not only equal within rounding
    pd.testing.assert_frame_equal(merged, whole, check_exact=True)
    loci, whole_loci = pd.read_csv(out / "loci.csv"), pd.read_csv(scans["whole"] / "loci.csv")
    assert len(whole_loci) >= 2 and whole_loci["CHR"].nunique() == 2  # loci on both chromosomes
    pd.testing.assert_frame_equal(loci, whole_loci)
    assert (out / "lead_snps.txt").read_text() == (scans["whole"] / "lead_snps.txt").read_text()
    with gzip.open(out / "per_region.tsv.gz", "rt") as a, gzip.open(scans["whole"] / "per_region.tsv.gz", "rt") as b:
        per_region, whole_per_region = pd.read_csv(a, sep="\t"), pd.read_csv(b, sep="\t")
    pd.testing.assert_frame_equal(per_region, whole_per_region, check_exact=True)
    report = (out / "report.md").read_text()
    whole_report = (scans["whole"] / "report.md").read_text()
    lambda_line = re.compile(r"\| omnibus \| [\d.]+ \|")
    assert lambda_line.search(report).group() == lambda_line.search(whole_report).group()
    assert "LOCO, chromosome 1" in report and "LOCO, chromosome 2" in report and "merged 2 scans" in report
    summary = json.loads((out / "scan.json").read_text())
    assert [row["scan"] for row in summary["null_models"]] == ["chr1", "chr2"]


@pytest.mark.parametrize("case, message", [
    ("overlap", r"whole: chromosome 1 was scanned in .*chr1 too: each chromosome must come from one scan"),
    ("tests", r"chr2-spatial: tests differ: spatial here, omnibus, spatial in .*chr1; only scans of one study"),
    ("columns", r"chr2: sumstats\.tsv\.gz columns differ: CHR BP SNP A1 A2 N P .* here, CHR BP SNP A1 A2 A1_FREQ N"),
    ("per-region", r"chr2: per-region files \(--per-region\) differ: absent here, present in .*chr1"),
    ("not-a-scan", r"study: not the output folder of jaxgen scan: no sumstats\.tsv\.gz, loci\.csv, scan\.json"),
])
def test_mismatched_scans_are_refused(scans, tmp_path, capsys, case, message):
    study = scans["study"]
    second = {"overlap": lambda: scans["whole"], "not-a-scan": lambda: study,
              "tests": lambda: _scan(study, tmp_path / "chr2-spatial", "--chromosome", "2", "--test", "spatial"),
              "per-region": lambda: _without_per_region(scans["2"], tmp_path / "chr2")}
    if case == "columns":
        edited = tmp_path / "chr2"
        _copy(scans["2"], edited)
        _sumstats(edited).drop(columns="A1_FREQ").to_csv(edited / "sumstats.tsv.gz", sep="\t", index=False)
        second[case] = lambda: edited
    out = tmp_path / "out"
    assert main(["scan", "merge", str(scans["1"]), str(second[case]()), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("jaxgen scan merge: error: ") and re.search(message, " ".join(err.split())), err
    assert not out.exists()


def _copy(source, target):
    target.mkdir()
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())


def _without_per_region(source, target):
    _copy(source, target)
    (target / "per_region.tsv.gz").unlink()
    return target


def test_merged_fine_mapping_follows_the_renumbered_loci(scans, tmp_path):
    """Each job's finemap/ tables (here one row per lead, values marking the job) keep their lead SNP under the
    merged locus numbers, and the merged report has the fine-mapping section."""
    jobs = []
    for chromosome in ("1", "2"):
        job = tmp_path / f"chr{chromosome}"
        _copy(scans[chromosome], job)
        loci = pd.read_csv(job / "loci.csv", dtype={"CHR": str})
        (job / "finemap").mkdir()
        snps = pd.DataFrame({"LOCUS": loci["LOCUS"], "CHR": loci["CHR"], "SNP": loci["SNP"], "BP": loci["BP"],
                             "LEAD": True, "P": loci["P"], "EFFECT_MEAN": float(chromosome), "EFFECT_SD": 0.1,
                             "EFFECT_Q2.5": 0.0, "EFFECT_Q97.5": 3.0, "POSTERIOR_P": np.nan, "N_QTS": 0,
                             "N_EXCLUDED": 4})
        snps.to_csv(job / "finemap" / "snps.csv", index=False)
        snps[["LOCUS", "CHR", "SNP", "BP"]].assign(REGION="region000", MEAN=1.0, SD=0.1, **{"Q2.5": 0.8, "Q97.5": 1.2},
                                                  MEAN_PER_ALLELE=2.0, RHAT=1.0, ESS_BULK=100.0, PASSED=False
                                                  ).to_csv(job / "finemap" / "regions.csv", index=False)
        summary = json.loads((job / "scan.json").read_text())
        (job / "scan.json").write_text(json.dumps({**summary, "finemap": {"chains": 2}}))
        jobs.append(job)
    out = tmp_path / "merged"
    assert main(["scan", "merge", *map(str, jobs), "--out", str(out), "--quiet"]) == 0
    loci = pd.read_csv(out / "loci.csv", dtype={"CHR": str}).set_index("LOCUS")
    for name in ("snps", "regions"):
        table = pd.read_csv(out / "finemap" / f"{name}.csv", dtype={"CHR": str})
        assert sorted(table["LOCUS"]) == sorted(loci.index)
        assert (table["SNP"].to_numpy() == loci.loc[table["LOCUS"], "SNP"].to_numpy()).all()
    snps = pd.read_csv(out / "finemap" / "snps.csv", dtype={"CHR": str})
    assert (snps["EFFECT_MEAN"] == snps["CHR"].astype(float)).all()
    assert "## Fine-mapping" in (out / "report.md").read_text()
