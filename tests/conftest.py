"""Test-wide settings: float64 on (tests asserting exactness need it; float32 paths pass explicit dtypes),
no compilation cache in the user's folders (a test that wants one gives its own folder), and one small
simulated study on files, shared by the command-line tests that only need to read it."""

import os

import jax
import pytest

os.environ["JAXGEN_NO_CACHE"] = "1"
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")


@pytest.fixture(scope="session")
def small_study(tmp_path_factory):
    """The files of a small simulated study (40 subjects, 8 SNPs, 4 regions), written by ``jaxgen simulate``,
    with its genotypes also as PLINK 2 (genotypes.pgen/.pvar/.psam) and BGEN (genotypes.bgen/.sample) files:
    the same calls, ids, positions and alleles."""
    import numpy as np

    from jaxgen.cli.main import main
    from jaxgen.io import PlinkFileset, write_bgen, write_pgen

    folder = tmp_path_factory.mktemp("small-study") / "study"
    assert main(["simulate", "--out", str(folder), "--subjects", "40", "--snps", "8", "--regions", "4",
                 "--quiet"]) == 0
    bed = PlinkFileset.open(folder / "genotypes", maf_min=0.0)
    calls, table = bed.genotypes(np.arange(len(bed.table))).dosages, bed.table
    layout = dict(chromosome=table["chromosome"].tolist(), positions=table["position"].tolist(),
                  alleles=(table["allele_1"].tolist(), table["allele_2"].tolist()))
    write_pgen(folder / "genotypes", calls, bed.subject_ids, table["snp"].tolist(), **layout)
    write_bgen(folder / "genotypes.bgen", calls, bed.subject_ids, table["snp"].tolist(), **layout)
    return folder
