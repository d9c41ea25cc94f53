"""The bad-input table: every refusal names what and where, before any expensive work, writes nothing.

Each command-line case edits a copy of one small simulated study, runs ``jaxgen`` in-process and
asserts the exit status (1 for a refused input, 2 for a malformed command line, 130 for Ctrl-C),
the words of the one-line message that matter, that no traceback is shown, and that nothing was
written (no output folder, no staging or probe folder). Each API case asserts the exception type
and message. Cases where the intent is clear (a byte-order mark, CRLF line ends) are accepted and
say so in the reading log.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jaxgen import cca, lmm
from jaxgen.cli import lmm as lmm_command
from jaxgen.cli.main import main
from jaxgen.data.values import ExtremeValueWarning
from jaxgen.graphs import genomic_relationship, ring_adjacency
from jaxgen.io import InputError, ReadLog, read_plink, read_qt_table, write_plink


@pytest.fixture
def study(small_study):
    return small_study


# -- editing a copy of the study ------------------------------------------------------------------

def _lines(folder, name):
    return (folder / name).read_text().splitlines()


def _write_lines(folder, name, lines):
    (folder / name).write_text("\n".join(lines) + "\n")


def set_cell(name, row, column, value):
    """Replace cell (row, column) of a CSV (row 0 the header, column 0 the ids)."""
    def edit(folder):
        lines = _lines(folder, name)
        cells = lines[row].split(",")
        cells[column] = value
        lines[row] = ",".join(cells)
        _write_lines(folder, name, lines)
    return edit


def set_column(name, column, value):
    def edit(folder):
        lines = _lines(folder, name)
        for row in range(1, len(lines)):
            cells = lines[row].split(",")
            cells[column] = value
            lines[row] = ",".join(cells)
        _write_lines(folder, name, lines)
    return edit


def replace_text(name, old, new, count=-1):
    def edit(folder):
        (folder / name).write_text((folder / name).read_text().replace(old, new, count))
    return edit


def keep_lines(name, keep):
    def edit(folder):
        _write_lines(folder, name, keep(_lines(folder, name)))
    return edit


def write_bytes(name, make):
    def edit(folder):
        (folder / name).write_bytes(make((folder / name).read_bytes()))
    return edit


def unlink(name):
    return lambda folder: (folder / name).unlink()


def edit_frame(name, change):
    def edit(folder):
        frame = pd.read_csv(folder / name, index_col=0)
        change(frame).to_csv(folder / name)
    return edit


def _semicolons_and_decimal_commas(folder):
    lines = _lines(folder, "qt.csv")
    _write_lines(folder, "qt.csv", [line.replace(",", ";").replace(".", ",") for line in lines])


def _isolate(frame):
    frame.loc["region003"] = 0.0
    frame["region003"] = 0.0
    return frame


def _edge_list_with_self_edge(folder):
    (folder / "adjacency.csv").write_text("region_a,region_b\nregion000,region001\nregion002,region003\n"
                                          "region001,region003\nregion000,region000\n")


# -- the command lines ----------------------------------------------------------------------------

def lmm_args(folder, out, *extra):
    return ["lmm", "--bfile", str(folder / "genotypes"), "--qt", str(folder / "qt.csv"), "--covariates",
            str(folder / "covariates.csv"), "--adjacency", str(folder / "adjacency.csv"), "--kinship",
            str(folder / "kinship.csv"), "--out", str(out), "--quiet", *extra]


def cca_args(folder, out, *extra):
    return ["cca", "--bfile", str(folder / "genotypes"), "--qt", str(folder / "thickness.csv"), "--qt",
            str(folder / "area.csv"), "--out", str(out), "--quiet", *extra]


def lmm_with(*extra):
    return lambda folder, out: lmm_args(folder, out, *extra)


def cca_with(*extra):
    return lambda folder, out: cca_args(folder, out, *extra)


def lmm_reading(flag, name, *extra):
    """The lmm command line with the genotypes given as ``flag`` (--pfile, --bgen) FOLDER/``name``."""
    def command(folder, out):
        argv = lmm_args(folder, out, *extra)
        at = argv.index("--bfile")
        return [*argv[:at], flag, str(folder / name), *argv[at + 2:]]
    return command


PFILE, BGEN = lmm_reading("--pfile", "genotypes"), lmm_reading("--bgen", "genotypes.bgen")


def write_genes(text):
    def edit(folder):
        (folder / "genes.csv").write_text(text)
    return edit


def lmm_genes(*extra):
    return lambda folder, out: lmm_args(folder, out, "--genes", str(folder / "genes.csv"), *extra)


def _truth_without_lmm(folder, out):
    (folder / "truth.json").write_text(json.dumps({"cca": {}}))
    return lmm_args(folder, out, "--truth", str(folder / "truth.json"))


LMM, CCA = lmm_with(), cca_with()

CLI_CASES = [
    # corrupt or inconsistent PLINK filesets
    ("plink-missing-fam", unlink("genotypes.fam"), LMM, 1, r"genotypes\.bed: PLINK fileset incomplete, missing .*genotypes\.fam"),
    ("plink-truncated-bed", write_bytes("genotypes.bed", lambda b: b[:50]), LMM, 1,
     r"genotypes\.bed: has 50 bytes but the 40 subjects of genotypes\.fam and 8 SNPs of genotypes\.bim need "
     r"3 \+ 8 × 10 = 83: the \.bed is shorter \(truncated\?\)"),
    ("plink-wrong-magic", write_bytes("genotypes.bed", lambda b: b"\x00\x00" + b[2:]), LMM, 1,
     r"genotypes\.bed: not a PLINK 1 \.bed file: it starts with bytes 00 00 01"),
    ("plink-individual-major", write_bytes("genotypes.bed", lambda b: b[:2] + b"\x00" + b[3:]), LMM, 1,
     r"an individual-major \.bed"),
    ("plink-bim-extra-snp", replace_text("genotypes.bim", "1\trs100007", "1\trs999\t0.0\t99000\tA\tG\n1\trs100007"),
     LMM, 1, r"the 40 subjects of genotypes\.fam and 9 SNPs of genotypes\.bim need"),
    ("plink-fam-extra-subject", keep_lines("genotypes.fam", lambda lines: [*lines, "famX subX 0 0 0 0"]), LMM, 1,
     r"the 41 subjects of genotypes\.fam and 8 SNPs"),
    ("plink-fam-line-missing", keep_lines("genotypes.fam", lambda lines: lines[:-1]), LMM, 1,
     r"genotypes\.fam: lists 39 subjects but genotypes\.bed holds genotypes after the last of them"),
    ("plink-duplicated-iid", replace_text("genotypes.fam", "sub00001", "sub00000"), LMM, 1,
     r"genotypes\.fam: duplicated subject \(IID\) ids: sub00000 \(2×\)"),
    ("plink-duplicated-snp", replace_text("genotypes.bim", "rs100001", "rs100000"), LMM, 1,
     r"genotypes\.bim: duplicated SNP ids: rs100000 \(2×\)"),
    ("plink-bim-position-not-a-number", replace_text("genotypes.bim", "\t2000\t", "\tpos\t"), LMM, 1,
     r"genotypes\.bim: line 2: the base-pair position 'pos' is not an integer"),
    ("plink-fam-line-short", keep_lines("genotypes.fam", lambda lines: [lines[0], " ".join(lines[1].split()[:5]),
                                                                         *lines[2:]]), LMM, 1,
     r"genotypes\.fam: line 2 has 5 fields, a \.fam line has 6: family id, subject id"),
    ("plink-unknown-snp", None, lmm_with("--snps", "rs1,rs100000"), 1,
     r"genotypes\.bim: 1 requested SNPs are not in the fileset: rs1"),
    ("plink-no-snp-on-chromosome", None, lmm_with("--chromosome", "7"), 1, r"no SNP matches the selection"),
    ("plink-maf-out-of-range", None, lmm_with("--maf-min", "0.7"), 2,
     r"argument --maf-min: must be >= 0 and < 0\.5, got 0\.7"),
    ("plink-position-range-reversed", None, lmm_with("--from-bp", "5000", "--to-bp", "1000"), 1,
     r"--from-bp 5000 lies after --to-bp 1000"),
    ("plink-negative-position", None, lmm_with("--from-bp", "-5"), 2, r"argument --from-bp: must be >= 0, got -5"),
    # subject ids
    # PLINK 2 and BGEN genotypes (the study's genotypes.pgen/.pvar/.psam and genotypes.bgen/.sample)
    ("pgen-missing-psam", unlink("genotypes.psam"), PFILE, 1,
     r"genotypes\.pgen: PLINK 2 fileset incomplete, missing .*genotypes\.psam"),
    ("pgen-truncated", write_bytes("genotypes.pgen", lambda b: b[:20]), PFILE, 1,
     r"genotypes\.pgen: not a readable \.pgen for the 40 subjects of the \.psam and 8 variants of the \.pvar"),
    ("pgen-psam-extra-subject", keep_lines("genotypes.psam", lambda lines: [*lines, "subX\t0\t0"]), PFILE, 1,
     r"genotypes\.pgen: not a readable \.pgen for the 41 subjects of the \.psam"),
    ("pgen-pvar-position-not-a-number", replace_text("genotypes.pvar", "\t1000\t", "\tpos\t"), PFILE, 1,
     r"genotypes\.pvar: not a readable \.pvar"),
    ("pgen-duplicated-iid", replace_text("genotypes.psam", "sub00001", "sub00000"), PFILE, 1,
     r"genotypes\.psam: duplicated subject \(IID\) ids: sub00000 \(2×\)"),
    ("bgen-missing-sample", unlink("genotypes.sample"), BGEN, 1,
     r"genotypes\.bgen: BGEN input incomplete, missing .*genotypes\.sample"),
    ("bgen-not-a-bgen", write_bytes("genotypes.bgen", lambda b: b"\x00" * len(b)), BGEN, 1,
     r"genotypes\.bgen: not a readable BGEN file"),
    ("bgen-truncated", write_bytes("genotypes.bgen", lambda b: b[: len(b) // 2]), BGEN, 1,
     r"genotypes\.bgen: not a readable BGEN file"),
    ("bgen-sample-extra-subject", keep_lines("genotypes.sample", lambda lines: [*lines, "subX subX 0 0 0"]), BGEN, 1,
     r"genotypes\.bgen: holds 40 samples but .*genotypes\.sample lists 41: the \.sample belongs to another file"),
    ("bgen-sample-without-types-line", keep_lines("genotypes.sample", lambda lines: [lines[0], *lines[2:]]), BGEN, 1,
     r"genotypes\.sample: not an Oxford \.sample file"),
    ("genotypes-two-formats", None, lmm_with("--pfile", "genotypes"), 2,
     r"argument --pfile: not allowed with argument --bfile"),
    ("genotypes-none", None, lambda folder, out: ["lmm", "--qt", str(folder / "qt.csv"), "--out", str(out)], 2,
     r"one of the arguments --bfile --pfile --bgen is required"),
    ("genotypes-sample-without-bgen", None, lmm_with("--sample", "genotypes.sample"), 1,
     r"--sample goes with --bgen only"),
    ("ids-disjoint", replace_text("qt.csv", "sub0", "other0"), LMM, 1, r"no subject is in every input, need at least 4"),
    ("ids-three-shared", keep_lines("qt.csv", lambda lines: lines[:4]), LMM, 1,
     r"only 3 subjects are in every input, need at least 4"),
    ("ids-duplicated-in-qt", keep_lines("qt.csv", lambda lines: [lines[0], lines[1], *lines[1:]]), LMM, 1,
     r"qt\.csv: duplicated subject ids in column 'subject': sub00000 \(lines 2, 3\)"),
    ("ids-empty", set_cell("qt.csv", 2, 0, ""), LMM, 1, r"qt\.csv: line 3 has no subject id"),
    ("ids-unknown-id-column", None, lmm_with("--id-column", "IID"), 1,
     r"no subject-id column 'IID'; columns are"),
    ("ids-covariates-disjoint", replace_text("covariates.csv", "sub0", "x0"), LMM, 1, r"no subject is in every input"),
    ("ids-kinship-lacks-subject", edit_frame("kinship.csv", lambda f: f.drop(index="sub00005", columns="sub00005")),
     LMM, 1, r"kinship\.csv: 1 subjects have no kinship row: sub00005"),
    ("ids-kinship-not-square", replace_text("kinship.csv", ",sub00003,", ",subXXX,", 1), LMM, 1,
     r"kinship\.csv: a kinship file must be a square table"),
    # encodings and delimiters
    ("table-utf16", lambda f: (f / "qt.csv").write_text((f / "qt.csv").read_text(), encoding="utf-16"), LMM, 1,
     r"qt\.csv: the file is UTF-16 text"),
    ("table-latin1", write_bytes("qt.csv", lambda b: b.replace(b"sub00001", "José".encode("latin-1"))), LMM, 1,
     r"qt\.csv: is not UTF-8 text: byte 0xe9 on line 3"),
    ("table-decimal-comma", _semicolons_and_decimal_commas, LMM, 1,
     r"qt\.csv: column 'region000' is not numeric: line 2 \(subject sub00000\) holds '-1,3\d+' \(a decimal comma\?"),
    ("table-duplicated-column", replace_text("qt.csv", "region001", "region000", 1), LMM, 1,
     r"qt\.csv: duplicated column names in the header: 'region000' \(columns 2, 3\)"),
    ("table-header-only", keep_lines("qt.csv", lambda lines: lines[:1]), LMM, 1, r"has a header but no subject rows"),
    ("table-empty", write_bytes("qt.csv", lambda b: b""), LMM, 1, r"qt\.csv: the file is empty"),
    ("table-ragged-row", set_cell("qt.csv", 5, 2, "0.5,0.7"), LMM, 1, r"qt\.csv: not a readable table: Error tokenizing"),
    ("table-missing-file", unlink("qt.csv"), LMM, 1, r"qt\.csv: no such file"),
    ("table-missing-adjacency-file", unlink("adjacency.csv"), LMM, 1, r"adjacency\.csv: no such file"),
    # missing-value policies
    ("missing-error", set_cell("qt.csv", 2, 1, ""), LMM, 1,
     r"qt\.csv: 1 missing cells in columns region000 \(first: subject sub00001\); choose a missing-value policy"),
    ("missing-nan-literal-is-missing", set_cell("qt.csv", 3, 2, "NaN"), LMM, 1,
     r"1 missing cells in columns region001 \(first: subject sub00002\)"),
    ("missing-drop-leaves-none", set_column("qt.csv", 1, ""), lmm_with("--missing", "drop"), 1,
     r"dropping subjects with missing cells leaves none"),
    ("missing-mean-of-empty-column", set_column("qt.csv", 1, ""), lmm_with("--missing", "mean"), 1,
     r"a column with no value at all cannot be mean-imputed"),
    ("missing-unknown-policy", None, lmm_with("--missing", "zero"), 2, r"argument --missing: invalid choice: 'zero'"),
    ("missing-categorical-covariate", set_cell("covariates.csv", 2, 2, ""), LMM, 1,
     r"covariates\.csv: categorical covariate 'sex' has 1 empty cells \(first on line 3\)"),
    # Inf, NaN and extreme values
    ("value-1e308", set_cell("qt.csv", 3, 2, "1e308"), LMM, 1,
     r"qt\.csv: column 'region001', subject sub00002 \(line 4\) holds 1e\+308: too large to standardize the column"),
    ("value-1e20-overflows-float32", set_cell("qt.csv", 3, 2, "1e20"), LMM, 1,
     r"column 'region001', subject sub00002 \(line 4\) holds 1e\+20: too large"),
    ("value-inf", set_cell("qt.csv", 4, 1, "inf"), LMM, 1,
     r"qt\.csv: column 'region000', subject sub00003 \(line 5\) holds 'inf', an infinite number"),
    ("value-beyond-float64", set_cell("qt.csv", 4, 1, "-1e400"), LMM, 1, r"holds '-1e400', an infinite number"),
    ("value-covariate-overflow", set_cell("covariates.csv", 6, 1, "1e30"), LMM, 1,
     r"covariates\.csv: column 'age', subject sub00005 \(line 7\) holds 1e\+30: too large"),
    ("value-modality-inf", set_cell("thickness.csv", 2, 3, "-inf"), CCA, 1,
     r"thickness\.csv: column 'region002_thickness', subject sub00001 \(line 3\) holds '-inf'"),
    ("value-constant-qt", set_column("qt.csv", 3, "2.5"), LMM, 1,
     r"qt\.csv: QT columns with no variation across subjects: region002"),
    ("value-constant-covariate", set_column("covariates.csv", 1, "50"), LMM, 1,
     r"covariates\.csv: constant covariates \(the intercept spans them\): age"),
    ("value-collinear-covariates", edit_frame("covariates.csv", lambda f: f.assign(age_months=12 * f["age"])), LMM, 1,
     r"covariates\.csv: covariate 'age_months' is a linear combination of the 3 columns before it \('intercept', "
     r"'age', 'sex_M'\) on the 40 subjects shared by the inputs"),
    # adjacency and kinship defects
    ("adjacency-asymmetric", set_cell("adjacency.csv", 1, 2, "5.0"), LMM, 1,
     r"adjacency\.csv: adjacency must be symmetric: entry \('region000', 'region001'\) = 5\.0"),
    ("adjacency-isolated-region", edit_frame("adjacency.csv", _isolate), LMM, 1,
     r"adjacency\.csv: adjacency has isolated regions \(no neighbour\), 'region003'"),
    ("adjacency-self-loop", set_cell("adjacency.csv", 2, 2, "1.0"), LMM, 1, r"must have a zero diagonal"),
    ("adjacency-negative-weight", lambda f: (set_cell("adjacency.csv", 1, 2, "-1.0")(f),
                                             set_cell("adjacency.csv", 2, 1, "-1.0")(f)), LMM, 1,
     r"adjacency must be non-negative: entry \('region000', 'region001'\) = -1\.0"),
    ("adjacency-not-a-number", set_cell("adjacency.csv", 1, 2, "one"), LMM, 1,
     r"adjacency entry \(region000, region001\) is not a number: 'one'"),
    ("adjacency-unknown-region", replace_text("adjacency.csv", "region003", "regionX"), LMM, 1,
     r"adjacency\.csv: regions without a QT column: regionX"),
    ("adjacency-edge-to-itself", _edge_list_with_self_edge, LMM, 1, r"line 5: edge from region 'region000' to itself"),
    ("kinship-not-psd", edit_frame("kinship.csv", lambda f: -f), LMM, 1,
     r"kinship\.csv: kinship is not positive semi-definite: smallest eigenvalue"),
    ("kinship-asymmetric", set_cell("kinship.csv", 1, 2, "0.9"), LMM, 1, r"kinship\.csv: kinship must be symmetric"),
    ("kinship-not-a-number", set_cell("kinship.csv", 1, 3, "x"), LMM, 1,
     r"kinship\.csv: kinship entry \(sub00000, sub00002\) is not a finite number: 'x'"),
    # argument ranges
    ("range-chains", None, lmm_with("--chains", "0"), 2, r"argument --chains: must be >= 1, got 0"),
    ("range-samples", None, lmm_with("--samples", "-5"), 2, r"argument --samples: must be >= 1, got -5"),
    ("range-warmup", None, lmm_with("--warmup", "-1"), 2, r"argument --warmup: must be >= 0, got -1"),
    ("range-thin", None, lmm_with("--thin", "0"), 2, r"argument --thin: must be >= 1, got 0"),
    ("range-alpha", None, lmm_with("--alpha", "1.5"), 2, r"argument --alpha: must be > 0 and < 1, got 1\.5"),
    ("range-alpha-not-a-number", None, lmm_with("--alpha", "nan"), 2, r"argument --alpha: must be a finite number"),
    ("cca-same-table-twice", None, lambda folder, out: ["cca", "--bfile", str(folder / "genotypes"), "--qt",
                                                        str(folder / "thickness.csv"), "--qt",
                                                        str(folder / "thickness.csv"), "--out", str(out), "--quiet"],
     1, r"thickness\.csv: is given twice as a QT table"),
    ("range-folds", None, cca_with("--cv", "1"), 2, r"argument --cv: must be >= 2, got 1"),
    ("range-folds-above-subjects", None, cca_with("--cv", "100", "--grid", "beta1=1"), 1,
     r"cv must be between 2 and the number of rows \(40\), got 100"),
    ("range-permutations", None, cca_with("--permutations", "-1"), 2, r"argument --permutations: must be >= 0"),
    ("range-max-iter", None, cca_with("--max-iter", "0"), 2, r"argument --max-iter: must be >= 1, got 0"),
    ("range-grid-unknown-name", None, cca_with("--grid", "beta9=1"), 1,
     r"--grid names \['beta9'\] are not hyperparameters of mts2cca"),
    ("range-grid-not-numbers", None, cca_with("--grid", "beta1=x"), 1,
     r"--grid 'beta1=x': expected NAME=V1,V2,\.\.\. with numbers"),
    ("range-simulate-rho", None, lambda folder, out: ["simulate", "--out", str(out), "--rho", "1"], 2,
     r"argument --rho: must be >= 0 and < 1, got 1"),
    ("range-kinship-loco-is-the-scans", None, lmm_with("--kinship", "loco"), 2,
     r"argument --kinship: 'loco' .* is the kinship of the genome-wide scan: use jaxgen scan"),
    ("range-platform-without-gpu", None, lmm_with("--platform", "gpu"), 1, r"--platform gpu: JAX sees no GPU here"),
    # output folder and other paths
    ("out-holds-files", None, lambda folder, out: lmm_args(folder, folder), 1, r"already holds files"),
    ("out-is-a-file", None, lambda folder, out: lmm_args(folder, folder / "qt.csv"), 1,
     r"qt\.csv exists and is not a folder"),
    ("out-below-a-file", None, lambda folder, out: lmm_args(folder, folder / "qt.csv" / "out"), 1,
     r"lies below .*qt\.csv, which is a file, not a folder"),
    ("out-not-writable", None, lambda folder, out: lmm_args(folder, Path("/proc/jaxgen-test/out")), 1,
     r"--out /proc/jaxgen-test/out: cannot create a folder in /proc"),
    ("truth-missing", unlink("truth.json"), lambda folder, out: lmm_args(folder, out, "--truth", str(folder / "truth.json")),
     1, r"truth\.json: no such file"),
    ("truth-not-json", replace_text("truth.json", "{", "[", 1),
     lambda folder, out: lmm_args(folder, out, "--truth", str(folder / "truth.json")), 1,
     r"truth\.json: not a readable truth\.json"),
    ("truth-without-section", None, _truth_without_lmm, 1, r"truth\.json: has no 'lmm' section"),
    ("covariates-from-qt-unknown", None, lmm_with("--covariates-from-qt", "eTIV"), 1,
     r"qt\.csv: --covariates-from-qt: no column eTIV in the QT table"),
    # gene files (--genes) and model comparison
    ("genes-missing-file", None, lmm_genes(), 1, r"genes\.csv: no such file"),
    ("genes-reversed-range", write_genes("gene,chromosome,start,end\ngA,1,1000,3000\ngB,1,5000,4000\n"), lmm_genes(),
     1, r"genes\.csv: line 3: gene gB starts at 5000, after its end 4000"),
    ("genes-position-not-a-number", write_genes("gene,chr,start,end\ngA,1,1 000,3000\n"), lmm_genes(), 1,
     r"genes\.csv: line 2: start '1 000' is not a base-pair position"),
    ("genes-ragged-row", write_genes("snp,gene\nrs100000,gA\nrs100001\n"), lmm_genes(), 1,
     r"genes\.csv: line 3 has 1 fields, the header 2"),
    ("genes-neither-form", write_genes("rs100000,gA,x\n"), lmm_genes(), 1,
     r"genes\.csv: line 1 has 3 fields: a gene file holds SNP → gene pairs \(snp, gene\) or gene ranges"),
    ("genes-no-analysed-snp", write_genes("snp,gene\nrs1,gA\nrs2,gB\n"), lmm_genes(), 1,
     r"genes\.csv: none of its 2 genes holds an analysed SNP"),
    ("genes-window-with-pairs", write_genes("snp,gene\nrs100000,gA\n"), lmm_genes("--gene-window", "500"), 1,
     r"genes\.csv: a gene window widens gene ranges, but this file maps SNPs to genes"),
    ("genes-window-without-genes", None, lmm_with("--gene-window", "500"), 1,
     r"--gene-window widens the gene ranges of --genes, and no --genes was given"),
    ("genes-negative-window", None, lmm_with("--gene-window", "-1"), 2, r"argument --gene-window: must be >= 0, got -1"),
    ("compare-models-with-nuts", None, lmm_with("--compare-models", "--method", "nuts"), 1,
     r"--compare-models refits by the Gibbs kernel"),
    # memory
    ("memory-draws", None, lmm_with("--samples", "1000000000000"), 1,
     r"keeping 4 chains × 1000000000000 draws of \d+ values .* needs [\d.]+ [KMGT]iB but [\d.]+ [KMGT]iB are "
     r"available on cpu"),
]


def _snapshot(root: Path) -> set:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("edit, command, status, message", [case[1:] for case in CLI_CASES],
                         ids=[case[0] for case in CLI_CASES])
def test_cli_refuses_bad_input(study, tmp_path, capsys, edit, command, status, message):
    folder = tmp_path / "study"
    shutil.copytree(study, folder)
    if edit is not None:
        edit(folder)
    out = tmp_path / "out"
    argv = command(folder, out)
    before = _snapshot(tmp_path)
    try:
        code = main(argv)
    except SystemExit as stop:               # argparse: a malformed command line
        code = stop.code
    err = capsys.readouterr().err
    assert code == status, err
    assert re.search(message, " ".join(err.split())), err
    assert "Traceback" not in err
    if status == 1:
        assert err.startswith("jaxgen ") and err.count("\n") == 1
    assert _snapshot(tmp_path) == before and not out.exists()


def test_cli_accepts_a_byte_order_mark_and_crlf_and_says_so(study, tmp_path, capsys):
    """The table is read as usual (the run then stops at the memory check, before sampling)."""
    folder = tmp_path / "study"
    shutil.copytree(study, folder)
    text = (folder / "qt.csv").read_text()
    (folder / "qt.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    argv = [a for a in lmm_args(folder, tmp_path / "out", "--samples", "1000000000000") if a != "--quiet"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "qt.csv: starts with a UTF-8 byte-order mark (ignored) and has Windows (CRLF) line ends; read as usual" \
        in captured.out
    assert "40 subjects are in all 3 inputs" in captured.out and "available on cpu" in captured.err


def test_cli_warns_once_about_an_outlier_naming_the_file(study, tmp_path, capsys):
    folder = tmp_path / "study"
    shutil.copytree(study, folder)
    set_cell("thickness.csv", 6, 2, "250")(folder)
    with pytest.warns(ExtremeValueWarning) as warned:               # the run stops before solving
        assert main(cca_args(folder, tmp_path / "out", "--cv", "100", "--grid", "beta1=1")) == 1
    assert len(warned) == 1, [str(w.message) for w in warned]       # the reader's, not the API's again
    assert re.search(r"thickness\.csv: 1 extreme values \(robust z > 10\): column 'region001_thickness', subject "
                     r"sub00005 \(line 7\) holds 250", str(warned[0].message))
    assert "cv must be between 2" in capsys.readouterr().err


@pytest.mark.parametrize("raised, status, message", [
    (KeyboardInterrupt(), 130, r"jaxgen lmm: stopped by SIGINT; no output was written"),
    (TypeError("boom"), 1, r"jaxgen lmm: error: internal error \(TypeError: boom\); run again with --debug"),
    (MemoryError("no room"), 1, r"jaxgen lmm: error: out of memory: no room"),
], ids=["signal-ctrl-c", "internal-error-one-line", "out-of-memory-one-line"])
def test_cli_stops_and_failures_are_one_line(study, tmp_path, capsys, monkeypatch, raised, status, message):
    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr(lmm_command, "load_lmm_study", fail)
    before = _snapshot(tmp_path)
    assert main(lmm_args(study, tmp_path / "out")) == status
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err and err.strip().count("\n") == 0
    assert _snapshot(tmp_path) == before
    with pytest.raises(type(raised)):                           # --debug shows the traceback
        main(lmm_args(study, tmp_path / "out", "--debug"))


# -- the Python API -------------------------------------------------------------------------------

rng = np.random.default_rng(0)
IDS = [f"s{i:02d}" for i in range(20)]
Y = pd.DataFrame(rng.normal(size=(20, 3)), index=IDS, columns=["a", "b", "c"])
X = pd.DataFrame(rng.integers(0, 3, size=(20, 4)).astype(float), index=IDS, columns=["rs1", "rs2", "rs3", "rs4"])
A = ring_adjacency(3)


def _fit(Y=Y, X=X, adjacency=A, **kwargs):
    return lmm.fit(Y, X, adjacency, num_chains=1, num_warmup=1, num_samples=1, progress=False, **kwargs)


def _with(frame, row, column, value):
    frame = frame.copy()
    frame.iloc[row, column] = value
    return frame


def _qt(tmp_path, text, **kwargs):
    path = tmp_path / "qt.csv"
    path.write_text(text)
    return read_qt_table(path, **kwargs)


def _plink(tmp_path, dosages, **kwargs):
    write_plink(tmp_path / "g", dosages, [f"s{i}" for i in range(len(dosages))],
                [f"rs{j}" for j in range(dosages.shape[1])])
    return read_plink(tmp_path / "g", **kwargs)


API_CASES = [
    ("lmm-ids-differ", lambda t: _fit(X=X.rename(index={"s04": "x04"})), ValueError,
     r"Y and X are labelled by different subjects: 1 of X are not in Y \('x04'\)"),
    ("lmm-ids-repeated", lambda t: _fit(X=X.rename(index={"s05": "s04"})), ValueError, r"X's index repeats 1 labels"),
    ("lmm-kinship-labels", lambda t: _fit(kinship=pd.DataFrame(np.eye(20), index=IDS, columns=IDS[::-1][:19] + ["z"])),
     ValueError, r"kinship's index and kinship's columns are labelled by different subjects"),
    ("lmm-adjacency-labels", lambda t: _fit(adjacency=pd.DataFrame(A, index=list("abd"), columns=list("abd"))),
     ValueError, r"Y's columns and adjacency's columns are labelled by different labels"),
    ("lmm-nan", lambda t: _fit(Y=_with(Y, 2, 1, np.nan)), ValueError,
     r"Y has 1 missing or non-finite values, the first at row 2 \(subject 's02'\), column 1 \('b'\)"),
    ("lmm-1e308", lambda t: _fit(Y=_with(Y, 2, 1, 1e308)), ValueError,
     r"Y at row 2 \(subject 's02'\), column 1 \('b'\) holds 1e\+308: too large to standardize"),
    ("lmm-covariates-inf", lambda t: _fit(covariates=pd.DataFrame({"one": 1.0, "age": np.r_[np.inf, np.ones(19)]},
                                                                   index=IDS)), ValueError,
     r"covariates has 1 missing or non-finite values, the first at row 0 \(subject 's00'\), column 1 \('age'\)"),
    ("lmm-covariates-collinear", lambda t: _fit(covariates=pd.DataFrame({"one": 1.0, "age": np.arange(20.0),
                                                                         "age_after_5": np.arange(20.0) - 5}, index=IDS)),
     ValueError, r"covariates are collinear: column 'age_after_5' is a linear combination of the 2 columns before it "
                 r"\('one', 'age'\); drop it"),
    ("lmm-constant-qt", lambda t: _fit(Y=Y.assign(b=2.5)), ValueError,
     r"Y has QT columns with no variation across subjects: 'b'"),
    ("lmm-warmup", lambda t: lmm.fit(Y, X, A, num_warmup=-1, progress=False), ValueError,
     r"num_warmup must be non-negative"),
    ("lmm-method", lambda t: _fit(method="mcmc"), ValueError, r"method must be one of"),
    ("lmm-memory", lambda t: lmm.fit(Y, X, A, num_samples=10 ** 12, progress=False), MemoryError,
     r"keeping 4 chains × 1000000000000 draws .* available on cpu"),
    ("cca-ids-differ", lambda t: cca.MTS2CCA().fit(X, [Y, Y.rename(index={"s01": "q"})]), ValueError,
     r"X and Ys\[1\] are labelled by different subjects"),
    ("cca-inf", lambda t: cca.MTS2CCA().fit(_with(X, 0, 2, np.inf), [Y]), ValueError,
     r"X has 1 missing or non-finite values, the first at row 0 \(subject 's00'\), column 2 \('rs3'\)"),
    ("cca-single-frame", lambda t: cca.MTS2CCA().fit(X, Y), ValueError, r"wrap a single modality as \[Y\]"),
    ("cca-keep-count", lambda t: cca.JCBSCCA(n_keep_x=1).fit(X, [Y]), ValueError,
     r"n_keep_x must be a whole number between 2 and p"),
    ("cca-empty-grid", lambda t: cca.cross_validate(cca.MTS2CCA(), X, [Y], param_grid={}, progress=False), ValueError,
     r"param_grid must name"),
    ("cca-permutations", lambda t: cca.permutation_test(cca.MTS2CCA(), X, [Y], n_permutations=0, progress=False),
     ValueError, r"n_permutations and batch_size must be positive"),
    ("cca-gram-memory", lambda t: cca.MTS2CCA().fit(np.ones((5, 200_000)), [np.ones((5, 2))]), MemoryError,
     r"Gram and Laplacian matrices of p = 200000 SNPs .* needs [\d.]+ [GT]iB"),
    ("plink-no-snp-left", lambda t: _plink(t, np.ones((6, 3))), InputError, r"no SNP left after quality control"),
    ("plink-maf-range", lambda t: _plink(t, np.ones((6, 3)), maf_min=0.6), ValueError, r"maf_min must lie in \[0, 0\.5\)"),
    ("grm-no-joint-calls", lambda t: genomic_relationship(np.array([[0.0, 1], [1, 2], [2, 0]]),
                                                          called=np.array([[True, False], [False, True], [True, True]])),
     ValueError, r"subjects 0 and 1 have no SNP called in both"),
    ("table-unknown-policy", lambda t: _qt(t, "s,r\na,1\nb,2\n", missing="zero"), ValueError,
     r"missing must be one of \('error', 'drop', 'mean'\)"),
    ("table-unknown-column", lambda t: _qt(t, "s,r\na,1\nb,2\n", columns=["eTIV"]), InputError,
     r"no column eTIV; the table has r"),
]


@pytest.mark.parametrize("call, error, message", [case[1:] for case in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_refuses_bad_input(tmp_path, call, error, message):
    with pytest.raises(error, match=message):
        call(tmp_path)


def test_api_accepts_a_byte_order_mark_and_crlf_and_says_so(tmp_path):
    path = tmp_path / "qt.csv"
    path.write_bytes(b"\xef\xbb\xbfsubject,r1\r\ns1,1.5\r\ns2,2.5\r\n")
    log = ReadLog()
    table = read_qt_table(path, id_column="subject", log=log)
    assert list(table.index) == ["s1", "s2"] and table["r1"].tolist() == [1.5, 2.5]
    assert "byte-order mark (ignored) and has Windows (CRLF) line ends" in log.lines[0]

