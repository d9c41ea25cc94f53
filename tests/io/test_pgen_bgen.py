"""PLINK 2 (.pgen) and BGEN readers: the same genotypes, QC, selection and streaming as read_plink.

Files come from the tests' own writers (pgenlib's and the bgen package's, fractional dosages and
missing calls included) and, where ``plink2`` is installed, from ``plink2`` converting a .bed that
write_plink wrote. References: read_plink on the same calls, and a NumPy transcription of the QC for
fractional dosages. Tolerances are the formats' quantization: PLINK 2 stores a dosage in units of
2⁻¹⁴; a BGEN of B bits stores each probability in units of 1/(2^B − 1), and a dosage written on two
adjacent genotypes (P(11) + P(12) = 1) is 1 + P(11), so it is off by at most one unit.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from jaxgen.cli.main import main
from jaxgen.io import (BgenFileset, GenotypeFiles, PgenFileset, PlinkFileset, ReadLog, read_plink, write_bgen,
                       write_pgen, write_plink)

PGEN_UNIT = 2.0 ** -14
BGEN_BITS = 8
BGEN_UNIT = 1.0 / (2 ** BGEN_BITS - 1)

N, P = 30, 12
SUBJECTS = [f"s{i:02d}" for i in range(N)]
SNPS = [f"rs{j}" for j in range(P)]
CHROMOSOMES = ["1"] * 6 + ["2"] * 6
POSITIONS = [1000 * (j % 6 + 1) for j in range(P)]
ALLELES = (["A", "C", "G", "T"] * 3, ["G", "T", "A", "C"] * 3)
# subjects 0 and 1 are children of 2 and 3: frequencies count the other 28 founders
PARENTS = (["s02", "s02"] + ["0"] * (N - 2), ["s03", "s03"] + ["0"] * (N - 2))


def _calls(seed=0) -> np.ndarray:
    """(N, P) hard calls with missing ones, a monomorphic SNP (rs3) and a rare one (rs7)."""
    rng = np.random.default_rng(seed)
    X = rng.binomial(2, rng.uniform(0.15, 0.6, P), size=(N, P)).astype(float)
    X[:, 3] = 0.0
    X[:, 7] = 0.0
    X[5, 7] = 1.0                                   # MAF 1/60 over everyone, below 0.05
    X[rng.random((N, P)) < 0.08] = np.nan
    return X


def _write_all(folder, X, *, bed=True):
    """The same genotypes as .pgen, .bgen and (hard calls only) .bed: prefixes folder/p, folder/g, file
    folder/b.bgen."""
    kwargs = dict(chromosome=CHROMOSOMES, positions=POSITIONS, alleles=ALLELES, parents=PARENTS)
    if bed:
        write_plink(folder / "g", X, SUBJECTS, SNPS, **kwargs)
    write_pgen(folder / "p", X, SUBJECTS, SNPS, **kwargs)
    write_bgen(folder / "b.bgen", X, SUBJECTS, SNPS, bits=BGEN_BITS, **kwargs)
    return {"bfile": GenotypeFiles("bfile", folder / "g"), "pfile": GenotypeFiles("pfile", folder / "p"),
            "bgen": GenotypeFiles("bgen", folder / "b.bgen")}


def _assert_same(genotypes, reference, atol=0.0):
    """Same subjects, SNPs (ids, positions, alleles, frequencies), dosages and missing mask."""
    assert genotypes.subject_ids == reference.subject_ids
    assert genotypes.snp_ids == reference.snp_ids
    columns = ["snp", "chromosome", "position", "allele_1", "allele_2"]
    pd.testing.assert_frame_equal(genotypes.snps[columns], reference.snps[columns])
    for column in ("a1_frequency", "maf", "missing_rate"):
        np.testing.assert_allclose(genotypes.snps[column], reference.snps[column], atol=atol, rtol=0)
    np.testing.assert_array_equal(genotypes.missing, reference.missing)
    np.testing.assert_allclose(genotypes.dosages, reference.dosages, atol=atol, rtol=0)


def _without_file_names(lines):
    return [line.split(": ", 1)[1] for line in lines]


SELECTIONS = [
    {},
    {"maf_min": 0.05},
    {"maf_min": 0.0, "nonfounders": True},
    {"snps": ["rs1", "rs4", "rs7", "rs10"], "maf_min": 0.0},
    {"chromosome": "2", "start": 2000, "end": 5000},
]


@pytest.mark.parametrize("selection", SELECTIONS, ids=["default", "maf", "nonfounders", "snps", "range"])
def test_written_pgen_and_bgen_read_as_read_plink(tmp_path, selection):
    files = _write_all(tmp_path, _calls())
    log = ReadLog()
    reference = read_plink(tmp_path / "g", log=log, **selection)
    for name in ("pfile", "bgen"):
        other = ReadLog()
        _assert_same(files[name].read(log=other, **selection), reference)
        # the same counts logged: selected, founders, imputed, dropped, kept
        assert _without_file_names(other.lines) == _without_file_names(log.lines)


def test_fractional_dosages_and_missing_calls_against_numpy(tmp_path):
    """Dosages in [0, 2] read back within the quantization; QC by a NumPy transcription of PLINK's rules."""
    rng = np.random.default_rng(3)
    X = rng.uniform(0.0, 2.0, size=(N, P)) * (rng.random(P) < 0.9)  # one SNP or so all zero: monomorphic
    X[:, 0] = np.round(X[:, 0])
    X[rng.random((N, P)) < 0.1] = np.nan
    files = _write_all(tmp_path, X, bed=False)
    founders = np.array([f == "0" and m == "0" for f, m in zip(*PARENTS)])
    missing = np.isnan(X)
    frequency = np.nanmean(X[founders], axis=0) / 2
    imputed = np.where(missing, np.nanmean(X, axis=0), X)
    polymorphic = imputed.std(axis=0) > 0
    keep = polymorphic & (np.minimum(frequency, 1 - frequency) >= 0.01)
    for name, unit in (("pfile", PGEN_UNIT), ("bgen", BGEN_UNIT)):
        source = files[name].open()
        raw = source.genotypes(np.arange(P)).dosages
        np.testing.assert_array_equal(np.isnan(raw), missing)
        np.testing.assert_allclose(raw[~missing], X[~missing], atol=unit, rtol=0)
        genotypes = source.read()
        assert genotypes.snp_ids == [s for s, k in zip(SNPS, keep) if k]
        np.testing.assert_allclose(genotypes.dosages, imputed[:, keep], atol=unit, rtol=0)
        np.testing.assert_allclose(genotypes.snps["a1_frequency"], frequency[keep], atol=unit, rtol=0)
        np.testing.assert_array_equal(genotypes.missing, missing[:, keep])


@pytest.mark.parametrize("name, kind", [("pfile", PgenFileset), ("bgen", BgenFileset)])
def test_blocks_are_the_whole_read_in_pieces(tmp_path, name, kind):
    source = _write_all(tmp_path, _calls(1))[name].open(maf_min=0.05)
    assert type(source) is kind
    whole = source.read()
    parts = list(source.blocks(5))
    assert len(parts) == 3
    assert sum((counts for _, counts in parts[1:]), parts[0][1]).kept == len(whole.snp_ids)
    np.testing.assert_array_equal(np.column_stack([block.dosages for block, _ in parts]), whole.dosages)
    assert [s for block, _ in parts for s in block.snp_ids] == whole.snp_ids


def test_multiallelic_variants_are_left_out_and_logged(tmp_path):
    _write_all(tmp_path, _calls())
    pvar = tmp_path / "p.pvar"
    lines = pvar.read_text().splitlines()
    lines[2] = lines[2] + ",T"                      # rs1: ALT "C,T"
    pvar.write_text("\n".join(lines) + "\n")
    log = ReadLog()
    source = PgenFileset.open(tmp_path / "p", log=log)
    assert "rs1" not in source.table["snp"].iloc[source.selected].tolist() and len(source.selected) == P - 1
    assert any("1 selected SNPs left out, multi-allelic: rs1" in line for line in log.lines)


# -- files written by plink2 ----------------------------------------------------------------------

def _plink2(*args):
    if shutil.which("plink2") is None:
        pytest.skip("plink2 is not installed (Debian: apt-get install plink2)")
    subprocess.run(["plink2", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """A .bed written by write_plink and its plink2 --make-pgen and --export bgen-1.2 bits=8 conversions."""
    folder = tmp_path_factory.mktemp("plink2")
    write_plink(folder / "g", _calls(2), SUBJECTS, SNPS, chromosome=CHROMOSOMES, positions=POSITIONS,
                alleles=ALLELES, parents=PARENTS)
    _plink2("--bfile", str(folder / "g"), "--make-pgen", "--out", str(folder / "p"))
    _plink2("--bfile", str(folder / "g"), "--export", "bgen-1.2", "bits=8", "--out", str(folder / "b"))
    return folder


@pytest.mark.parametrize("selection", SELECTIONS, ids=["default", "maf", "nonfounders", "snps", "range"])
def test_plink2_pgen_reads_as_read_plink(converted, selection):
    _assert_same(GenotypeFiles("pfile", converted / "p").read(**selection), read_plink(converted / "g", **selection))


@pytest.mark.parametrize("selection", SELECTIONS, ids=["default", "maf", "nonfounders", "snps", "range"])
def test_plink2_bgen_reads_as_read_plink(converted, selection):
    """plink2's .sample has no parent columns, so every subject counts: the reference is read_plink's nonfounders.
    The calls are hard calls, which 8 bits store exactly; the tolerance is the quantization all the same."""
    selection = {**selection, "nonfounders": True}
    log = ReadLog()
    genotypes = GenotypeFiles("bgen", converted / "b.bgen").read(log=log, **selection)
    _assert_same(genotypes, read_plink(converted / "g", **selection), atol=BGEN_UNIT)
    assert not any("founders" in line for line in log.lines)


def test_plink2_reads_our_bgen_dosages_as_we_do(tmp_path):
    """Allele orientation and dosage arithmetic checked by PLINK itself: plink2 imports the BGEN we write
    (first allele = A1, its default ref-last) into a .pgen of dosages, which must equal our reading of the BGEN."""
    rng = np.random.default_rng(4)
    X = rng.uniform(0.0, 2.0, size=(N, P))
    X[rng.random((N, P)) < 0.1] = np.nan
    files = _write_all(tmp_path, X, bed=False)
    _plink2("--bgen", str(tmp_path / "b.bgen"), "ref-last", "--sample", str(tmp_path / "b.sample"),
            "--make-pgen", "--out", str(tmp_path / "from_bgen"))
    ours = files["bgen"].open(maf_min=0.0, nonfounders=True).genotypes(np.arange(P))
    plink = PgenFileset.open(tmp_path / "from_bgen", maf_min=0.0, nonfounders=True).genotypes(np.arange(P))
    assert plink.snps["allele_1"].tolist() == ALLELES[0] and plink.subject_ids == SUBJECTS
    np.testing.assert_array_equal(np.isnan(plink.dosages), np.isnan(ours.dosages))
    np.testing.assert_allclose(plink.dosages, ours.dosages, atol=PGEN_UNIT, rtol=0, equal_nan=True)


# -- the command line -----------------------------------------------------------------------------

def test_lmm_with_bgen_gives_the_bfile_p_values(small_study, tmp_path):
    common = ["--qt", str(small_study / "qt.csv"), "--adjacency", str(small_study / "adjacency.csv"),
              "--chains", "2", "--warmup", "10", "--samples", "10", "--quiet"]
    assert main(["lmm", "--bfile", str(small_study / "genotypes"), "--out", str(tmp_path / "bed"), *common]) == 0
    assert main(["lmm", "--bgen", str(small_study / "genotypes.bgen"), "--out", str(tmp_path / "bgen"), *common]) == 0
    bed, bgen = (pd.read_csv(tmp_path / name / "snp_tests.csv") for name in ("bed", "bgen"))
    assert len(bed) == 8 and bed["snp"].tolist() == bgen["snp"].tolist()
    np.testing.assert_allclose(bgen["p_value"], bed["p_value"], rtol=1e-6)


def test_scan_with_pfile_gives_the_bfile_p_values(small_study, tmp_path):
    common = ["--qt", str(small_study / "qt.csv"), "--adjacency", str(small_study / "adjacency.csv"),
              "--kinship", "grm", "--block-size", "4", "--quiet"]
    assert main(["scan", "--bfile", str(small_study / "genotypes"), "--out", str(tmp_path / "bed"), *common]) == 0
    assert main(["scan", "--pfile", str(small_study / "genotypes"), "--out", str(tmp_path / "pgen"), *common]) == 0
    bed, pgen = (pd.read_csv(gzip.open(tmp_path / name / "sumstats.tsv.gz", "rt"), sep="\t")
                 for name in ("bed", "pgen"))
    assert len(bed) == 8
    pd.testing.assert_frame_equal(pgen, bed, check_exact=False, rtol=1e-6)


def test_clumping_reads_dosages_as_plink2_hard_calls(tmp_path):
    """scan's clumping counts haplotypes of hard calls: a dosage within 0.1 of 0, 1 or 2 is that call, others
    are missing (PLINK 2's --hard-call-threshold), within the BGEN quantization."""
    from jaxgen.scan import fileset_dosages

    dosage = np.array([0.05, 0.95, 1.5, 2.0, np.nan, 1.12, 0.0, 1.0])
    write_bgen(tmp_path / "b.bgen", np.column_stack([dosage, 2 - dosage]), [f"s{i}" for i in range(8)], ["x", "y"])
    calls = fileset_dosages(BgenFileset.open(tmp_path / "b.bgen"), np.arange(8))(["x", "y"])
    expected = np.array([0, 1, np.nan, 2, np.nan, np.nan, 0, 1])
    np.testing.assert_array_equal(calls, np.column_stack([expected, 2 - expected]))


def test_bgen_phased_dosages_and_other_ploidies(tmp_path):
    """Phased haplotype probabilities give the sum over the two haplotypes; a haploid sample is refused."""
    from bgen import BgenWriter

    from jaxgen.io import InputError

    (tmp_path / "h.sample").write_text("ID_1 ID_2 missing\n0 0 0\na a 0\nb b 0\nc c 0\n")
    haplotypes = np.array([[1.0, 0.0, 0.0, 1.0], [0.25, 0.75, 0.5, 0.5], [1.0, 0.0, 1.0, 0.0]])
    with BgenWriter(str(tmp_path / "h.bgen"), 3, samples=["a", "b", "c"]) as writer:
        writer.add_variant("p", "p", "1", 1, ["A", "G"], haplotypes, ploidy=2, phased=True, bit_depth=16)
        writer.add_variant("x", "x", "23", 2, ["A", "G"], np.array([[1.0, 0, 0], [0.5, 0.5, np.nan], [0, 0, 1]]),
                           ploidy=np.array([2, 1, 2], dtype=np.uint8))
    source = BgenFileset.open(tmp_path / "h.bgen", maf_min=0.0)
    np.testing.assert_allclose(source.genotypes([0]).dosages[:, 0], [1.0, 0.75, 2.0], atol=1 / (2 ** 16 - 1))
    with pytest.raises(InputError, match=r"h\.bgen: variant x is not diploid in every sample"):
        source.genotypes([1])


def test_study_loaders_take_any_format(small_study):
    """load_cca_study and load_scan_study on the .pgen and .bgen copies: the .bed's arrays and subjects."""
    from jaxgen.io import load_cca_study, load_scan_study

    qts = [small_study / "thickness.csv", small_study / "area.csv"]
    reference = load_cca_study(small_study / "genotypes", qts)
    for files in (GenotypeFiles("pfile", small_study / "genotypes"), GenotypeFiles("bgen", small_study / "genotypes.bgen")):
        study = load_cca_study(files, qts)
        pd.testing.assert_frame_equal(study.X, reference.X)
        assert all(Y.equals(R) for Y, R in zip(study.Ys, reference.Ys))
        scan_study = load_scan_study(files, small_study / "qt.csv")
        assert scan_study.fileset.path == files.main_file and list(scan_study.Y.index) == list(study.X.index)
