"""Gene files: both forms read, headers and separators told apart, ranges matched on chromosome and position."""

import numpy as np
import pandas as pd
import pytest

from jaxgen.graphs import snps_in_ranges
from jaxgen.io import InputError, ReadLog, gene_sets, read_gene_file

SNPS = pd.DataFrame({"snp": ["rs1", "rs2", "rs3", "rs4", "rs5"], "chromosome": ["1", "1", "1", "2", "2"],
                     "position": [100, 200, 300, 150, 250]})


def _sets(tmp_path, text, window=0, name="genes.txt"):
    path = tmp_path / name
    path.write_text(text)
    log = ReadLog()
    return gene_sets(read_gene_file(path, log), SNPS, window=window, log=log), log.lines


def test_pairs_and_ranges_give_the_same_sets(tmp_path):
    pairs, pairs_log = _sets(tmp_path, "SNP\tGENE\nrs2\tA\nrs1\tA\nrs3\tB\nrs2\tB\nrs9\tC\nrs4\tD\n")
    ranges, ranges_log = _sets(tmp_path, "gene,chr,start,end\nA,chr1,100,200\nB,1,200,300\nC,3,1,10\nD,2,150,150\n")
    assert pairs == ranges == {"A": ["rs1", "rs2"], "B": ["rs2", "rs3"], "D": ["rs4"]}
    assert any("1 SNPs are not among the analysed SNPs" in line and "rs9" in line for line in pairs_log)
    for log in (pairs_log, ranges_log):
        assert any("1 genes hold no analysed SNP and are not tested: C" in line for line in log)
        assert any("3 genes hold 4 of the 5 analysed SNPs" in line for line in log)


def test_headerless_forms_plink_gene_lists_windows_and_split_genes(tmp_path):
    assert _sets(tmp_path, "rs5 G\nrs4 G\n")[0] == {"G": ["rs4", "rs5"]}
    assert _sets(tmp_path, "G 2 140 160\nH 1 250 300\nH 2 240 250\n")[0] == {"G": ["rs4"], "H": ["rs3", "rs5"]}
    assert _sets(tmp_path, "2 140 160 G\n")[0] == {"G": ["rs4"]}                  # PLINK glist: chr, start, end, gene
    assert _sets(tmp_path, "G 1 150 250\n", window=50)[0] == {"G": ["rs1", "rs2", "rs3"]}
    assert _sets(tmp_path, "G 1 150 250\n", window=49)[0] == {"G": ["rs2"]}


def test_snps_in_ranges_matches_a_brute_force_scan():
    rng = np.random.default_rng(1)
    chromosome, position = rng.choice(["1", "2", "X"], 300), rng.integers(0, 10_000, 300)
    starts = rng.integers(0, 10_000, 50)
    ends = starts + rng.integers(0, 2_000, 50)
    labels = rng.choice(["1", "2", "X", "7"], 50)
    found = snps_in_ranges(chromosome, position, labels, starts, ends)
    for label, start, end, indices in zip(labels, starts, ends, found):
        expected = np.flatnonzero((chromosome == label) & (position >= start) & (position <= end))
        assert sorted(indices.tolist()) == expected.tolist()
        assert np.all(np.diff(position[indices]) >= 0)


@pytest.mark.parametrize("text, window, message", [
    ("", 0, r"genes\.txt: the file is empty"),
    ("snp,gene\n", 0, r"the file has a header but no gene rows"),
    ("snp,gene\nrs1,A\nrs2,B,extra\n", 0, r"line 3 has 3 fields, the header 2"),
    ("rs1 A x\n", 0, r"line 1 has 3 fields: a gene file holds SNP → gene pairs"),
    ("gene,chromosome,start,end\nA,1,300,100\n", 0, r"line 2: gene A starts at 300, after its end 100"),
    ("gene,chromosome,start,end\nA,1,1e3,2000\n", 0, r"line 2: start '1e3' is not a base-pair position"),
    ("gene,chromosome,start,end\nA,1,-5,20\n", 0, r"line 2: start '-5' is not a base-pair position"),
    ("snp,gene\nrs1,\n", 0, r"line 2: empty gene field"),
    ("snp,gene\nrs8,A\nrs9,B\n", 0, r"none of its 2 genes holds an analysed SNP"),
    ("gene,chromosome,start,end\nA,7,1,1000\n", 10, r"none of its 1 genes holds an analysed SNP \(within 10 bp\)"),
    ("snp,gene\nrs1,A\n", 5, r"a gene window widens gene ranges, but this file maps SNPs to genes"),
], ids=["empty", "header-only", "ragged", "three-columns", "reversed-range", "position-not-integer",
        "negative-position", "empty-gene", "no-analysed-snp", "no-snp-in-ranges", "window-with-pairs"])
def test_bad_gene_files_are_refused_naming_the_line(tmp_path, text, window, message):
    with pytest.raises(InputError, match=message):
        _sets(tmp_path, text, window=window)
