"""``jaxgen simulate``: write a complete synthetic study (PLINK genotypes, QT tables, covariates, graphs, truth)."""

from __future__ import annotations

import argparse

from jaxgen.cli.common import add_run_options
from jaxgen.cli.inputs import bounded
from jaxgen.data import simulate_study
from jaxgen.io import atomic_output_dir
from jaxgen.io.simulated import write_study

__all__ = ["add_arguments", "run"]

HELP = "write a synthetic study with known truth (PLINK, QT tables, covariates, adjacency, truth.json)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subjects", type=bounded(int, 8), default=500, metavar="N",
                        help="subjects, in families of 4 (default 500)")
    parser.add_argument("--snps", type=bounded(int, 2), default=100, metavar="P", help="SNPs (default 100)")
    parser.add_argument("--chromosomes", type=bounded(int, 1), default=1, metavar="K",
                        help="split the SNPs, in order, over chromosomes 1 … K (default 1)")
    parser.add_argument("--regions", type=bounded(int, 2), default=16, metavar="C",
                        help="brain regions on a lattice (default 16)")
    parser.add_argument("--atlas-names", action="store_true",
                        help="name the regions with Desikan–Killiany labels (lh_superiorfrontal, …; C ≤ 68), so that "
                             "reports draw brain maps")
    parser.add_argument("--causal", type=bounded(int, 0), default=5, help="causal SNPs of the spatial LMM (default 5)")
    parser.add_argument("--rho", type=bounded(float, 0, 1, high_open=True), default=0.8,
                        help="spatial CAR correlation in [0, 1) (default 0.8)")
    parser.add_argument("--h2", type=bounded(float, 0, 1, high_open=True), default=0.3,
                        help="kinship share of the residual (default 0.3)")
    parser.add_argument("--effect", type=bounded(float), default=0.15,
                        help="causal effect per standardized SNP (default 0.15)")
    parser.add_argument("--ccc", type=bounded(float, 0, 1, low_open=True, high_open=True), nargs="+",
                        default=[0.9, 0.5, 0.1], metavar="R",
                        help="canonical correlation of each imaging modality (1 to 3 values; default 0.9 0.5 0.1)")
    add_run_options(parser)


def run(args, echo=print) -> dict:
    """Simulate and write; returns {"out": folder, "files": [names]}."""
    if args.chromosomes > args.snps:
        raise ValueError(f"--chromosomes {args.chromosomes} exceeds --snps {args.snps}: each chromosome needs a SNP")
    study = simulate_study(args.seed, n=args.subjects, p=args.snps, c=args.regions, n_causal=args.causal,
                           rho=args.rho, h2=args.h2, effect=args.effect, ccc=tuple(args.ccc),
                           atlas_names=args.atlas_names)
    with atomic_output_dir(args.out, args.overwrite) as folder:
        written = write_study(study, folder, chromosomes=args.chromosomes)
    names = [p.name for p in written]
    echo(f"wrote a simulated study to {args.out}: {', '.join(names)}")
    return {"out": args.out, "files": names}
