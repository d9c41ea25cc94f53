"""``jaxgen demo``: simulate a study to files, then run ``jaxgen lmm`` and ``jaxgen cca`` on those files,
through the same reading path a user's data takes, and print where the reports are."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from jaxgen.cca import selection_auc
from jaxgen.cli.common import add_run_options, printer
from jaxgen.io import read_plink

__all__ = ["add_arguments", "run", "run_demo"]

LD_R2 = 0.1

HELP = "simulate a study to files, run lmm and cca on them end to end, print where the reports are"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser, out=False)
    parser.add_argument("--out", default="jaxgen-demo-out", metavar="DIR",
                        help="folder for study/, lmm/ and cca/ (default jaxgen-demo-out; replaced on each run)")


def run(args, echo=print) -> dict:
    return run_demo(args.out, seed=args.seed, quiet=args.quiet, platform=args.platform, echo=echo)


def run_demo(out: str | Path = "jaxgen-demo-out", *, seed: int = 0, quiet: bool = False, platform: str = "auto",
             echo=print, samples: int = 1000, permutations: int = 200) -> dict:
    """Run the three commands; returns their summaries plus how well the truth was recovered."""
    from jaxgen.cli.main import run_command

    echo = printer(True) if quiet else echo
    out = Path(out)
    common = ["--seed", str(seed), "--platform", platform, "--overwrite"] + (["--quiet"] if quiet else [])
    study = out / "study"
    echo("== 1. jaxgen simulate ==")
    run_command(["simulate", "--out", str(study), "--atlas-names", *common], echo)
    files = ["--bfile", str(study / "genotypes"), "--adjacency", str(study / "adjacency.csv"),
             "--truth", str(study / "truth.json")]
    echo("\n== 2. jaxgen lmm (spatial-correlated multitask LMM, Gibbs) ==")
    lmm = run_command(["lmm", *files, "--qt", str(study / "qt.csv"), "--covariates", str(study / "covariates.csv"),
                       "--kinship", str(study / "kinship.csv"), "--samples", str(samples), "--out", str(out / "lmm"),
                       *common], echo)
    echo("\n== 3. jaxgen cca (MTS2CCA, 5-fold CV over a grid, permutation test) ==")
    modalities = [arg for name in ("thickness", "area", "volume") for arg in ("--qt", str(study / f"{name}.csv"))]
    cca = run_command(["cca", "--method", "mts2cca", *files, *modalities, "--permutations", str(permutations),
                       "--out", str(out / "cca"), *common], echo)
    summary = _recovery(json.loads((study / "truth.json").read_text()), lmm, cca, study / "genotypes")
    echo(f"\nrecovered truth: LMM found {summary['lmm_true_positives']} of {summary['lmm_causal']} causal SNPs, "
         f"{summary['lmm_ld_hits']} SNPs in LD with them (r² ≥ {LD_R2}) and {summary['lmm_false_positives']} other "
         f"SNPs; CCA selection AUC SNPs {summary['cca_auc_snps']:.3f}, regions {summary['cca_auc_regions']:.3f}")
    echo(f"reports: {out / 'lmm' / 'report.md'} and {out / 'cca' / 'report.md'}")
    return {"lmm": lmm, "cca": cca, **summary}


def _recovery(truth: dict, lmm: dict, cca: dict, genotypes: Path) -> dict:
    """Hits that are causal, in LD with a causal SNP (r² ≥ LD_R2, PLINK's clumping default), or neither."""
    causal = set(truth["lmm"]["causal_snps"])
    found = set(lmm["significant"])
    others = sorted(found - causal)
    linked = set()
    if others:
        table = read_plink(genotypes, snps=sorted(causal) + others)
        r = np.corrcoef(table.dosages, rowvar=False)
        index = {snp: j for j, snp in enumerate(table.snps["snp"])}
        linked = {s for s in others if max(r[index[s], index[c]] ** 2 for c in causal) >= LD_R2}
    snp_truth = np.isin(cca["snp_ids"], truth["cca"]["causal_snps"])
    region_truth = np.isin(cca["regions"], truth["cca"]["causal_regions"])
    return {"lmm_causal": len(causal), "lmm_true_positives": len(found & causal),
            "lmm_ld_hits": len(linked), "lmm_false_positives": len(found - causal - linked),
            "cca_auc_snps": selection_auc(cca["U"], snp_truth), "cca_auc_regions": selection_auc(cca["V"], region_truth)}
