"""Is the genome-wide scan calibrated on related subjects, and does LOCO avoid proximal contamination?

The genome: nuclear families (2 parents, 2 children; :func:`jaxgen.data.pedigree.family_genotypes`, haplotypes
transmitted per LD block), ``--chromosomes`` chromosomes of ``--snps-per-chromosome`` SNPs each in LD blocks of
10 (:class:`jaxgen.data.LDGenotypeModel`: MAF in [0.05, 0.5], AR(1) latent LD r in [0.3, 0.9]), written as one
PLINK fileset with the parents in the .fam. The QTs (c regions on a lattice, benchmarks/lmm_designs.py's
roots): Y = G + E, G ~ MN(0, K_ped, Σ_g), E ~ MN(0, I, Σ_e), with K_ped the families' expected relationship,
h²_k spread evenly over [0.3, 0.5] across regions, σ²_k in [0.5, 2], and the CAR correlation of ρ = 0.6 in
Σ_g and Σ_e. Every tested SNP is null: Y does not depend on the genotypes given the pedigree.

1. Null calibration: :func:`jaxgen.scan.scan` with the LOCO kinship, with one GRM of every SNP, and with the
   true K_ped. Per test (omnibus, cct, spatial, empirical, burden): λ_GC, its Monte Carlo SE from a bootstrap
   over blocks of ``--bootstrap-block`` contiguous SNPs, and the rejection rates at 0.05 and 1e-3 (block-
   bootstrap SE). The issue's target: λ_GC in [0.98, 1.02] for every test, with LOCO and without.
2. Proximal contamination: ``--causal`` SNPs (spread over the first half of the chromosomes) each get an effect
   on 3 neighbouring regions explaining ``--effect-r2`` of those regions' variance; the scan with LOCO and with
   the GRM of every SNP (which contains the causal SNPs). Reported: per test, the share of causal SNPs at
   p < 5e-8 and p < 1e-4, and the mean −log10 p of the causal SNPs with the paired LOCO − GRM difference and its SE.

Usage: python benchmarks/study_scan_null.py [--families F] [--chromosomes K] [--snps-per-chromosome P]
       [--regions C] [--causal S] [--effect-r2 R] [--quick] [--out FILE]
Results: JSON (default benchmarks/results/scan_null.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from lmm_designs import _correlation_root, _kinship_root  # noqa: E402  (the studies' shared phenotype roots)

from jaxgen.data import LDGenotypeModel  # noqa: E402
from jaxgen.data.pedigree import family_genotypes, family_kinship  # noqa: E402
from jaxgen.graphs import lattice_adjacency  # noqa: E402
from jaxgen.io import PlinkFileset, write_plink  # noqa: E402
from jaxgen.lmm.scores import TESTS  # noqa: E402
from jaxgen.scan import genomic_control, scan  # noqa: E402

FAMILY_SIZE = 4
LD_BLOCK = 10
H2_RANGE = (0.3, 0.5)
RHO = 0.6
REGIONS_PER_CAUSAL = 3
LEVELS = (0.05, 1e-3)
POWER_LEVELS = (5e-8, 1e-4)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=200)
    parser.add_argument("--chromosomes", type=int, default=8)
    parser.add_argument("--snps-per-chromosome", type=int, default=25_000)
    parser.add_argument("--regions", type=int, default=16)
    parser.add_argument("--causal", type=int, default=20)
    parser.add_argument("--effect-r2", type=float, default=0.02)
    parser.add_argument("--bootstrap-block", type=int, default=500)
    parser.add_argument("--bootstraps", type=int, default=500)
    parser.add_argument("--replicates", type=int, default=4, help="null phenotype replicates on the one genome")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a small genome, to check the script")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "scan_null.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.families, args.chromosomes, args.snps_per_chromosome, args.regions = 50, 3, 2000, 4
        args.causal, args.bootstraps, args.replicates = 6, 100, 2
    return args


def genome(rng, n_families: int, chromosomes: int, per_chromosome: int) -> tuple[np.ndarray, list, list]:
    """Dosages (n, K·P) int8 of the families, chromosome and position per SNP; each chromosome its own LD model."""
    n = n_families * FAMILY_SIZE
    X = np.empty((n, chromosomes * per_chromosome), dtype=np.int8)
    for k in range(chromosomes):
        model = LDGenotypeModel.draw(rng, per_chromosome, block_size=LD_BLOCK)
        X[:, k * per_chromosome:(k + 1) * per_chromosome] = family_genotypes(rng, model, n, FAMILY_SIZE)
    chromosome = [str(1 + j // per_chromosome) for j in range(X.shape[1])]
    positions = 1000 * (np.arange(X.shape[1]) % per_chromosome + 1)
    return X, chromosome, positions


def parents(subjects: list[str]) -> tuple[list[str], list[str]]:
    """Fathers and mothers ("0" for founders): members 0 and 1 of each family are the children's parents."""
    fathers, mothers = [], []
    for i in range(len(subjects)):
        start = i - i % FAMILY_SIZE
        child = i % FAMILY_SIZE >= 2
        fathers.append(subjects[start] if child else "0")
        mothers.append(subjects[start + 1] if child else "0")
    return fathers, mothers


def null_qts(rng, kinship: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Y (n, c) = G + E with per-region h² over H2_RANGE, σ² in [0.5, 2], CAR ρ in both Σ_g and Σ_e."""
    n, c = len(kinship), len(A)
    h2 = np.linspace(*H2_RANGE, c)
    sigma2 = rng.uniform(0.5, 2.0, c)
    root = _correlation_root(A, RHO)
    G = _kinship_root(kinship) @ rng.standard_normal((n, c)) @ (np.sqrt(sigma2 * h2)[:, None] * root).T
    E = rng.standard_normal((n, c)) @ (np.sqrt(sigma2 * (1.0 - h2))[:, None] * root).T
    return G + E


def causal_effects(rng, X: np.ndarray, Y: np.ndarray, chromosome: list, A: np.ndarray, n_causal: int, r2: float):
    """Y plus the effects of ``n_causal`` SNPs on the first half of the chromosomes, each on REGIONS_PER_CAUSAL
    neighbouring regions (a region and its graph neighbours) with share ``r2`` of the region's variance;
    returns (Y', causal column indices)."""
    on = np.flatnonzero(np.isin(chromosome, [str(k + 1) for k in range(max(1, len(set(chromosome)) // 2))]))
    causal = np.sort(rng.choice(on, n_causal, replace=False))
    Z = X[:, causal].astype(float)
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    B = np.zeros((n_causal, Y.shape[1]))
    scale = np.sqrt(r2 * Y.var(axis=0))
    for s in range(n_causal):
        first = rng.integers(Y.shape[1])
        regions = [first, *np.flatnonzero(A[first])][:REGIONS_PER_CAUSAL]
        B[s, regions] = rng.choice([-1.0, 1.0]) * scale[regions]
    return Y + Z @ B, causal


def bootstrap_blocks(p: int, block: int) -> list[np.ndarray]:
    return [np.arange(start, min(start + block, p)) for start in range(0, p, block)]


def calibration(p_values: np.ndarray, blocks, rng, bootstraps: int) -> dict:
    """λ_GC and rejection rates of one test's p-values (p,), with block-bootstrap SEs."""
    draws = {"lambda_gc": [], **{f"type1_{a:g}": [] for a in LEVELS}}
    for _ in range(bootstraps):
        sample = p_values[np.concatenate([blocks[b] for b in rng.integers(len(blocks), size=len(blocks))])]
        draws["lambda_gc"].append(genomic_control(sample))
        for a in LEVELS:
            draws[f"type1_{a:g}"].append(np.mean(sample < a))
    out = {"lambda_gc": genomic_control(p_values), **{f"type1_{a:g}": float(np.mean(p_values < a)) for a in LEVELS}}
    out.update({f"{key}_se": float(np.std(values, ddof=1)) for key, values in draws.items()})
    out["lambda_in_target"] = bool(0.98 <= out["lambda_gc"] <= 1.02)
    return out


def over_replicates(null: dict) -> dict:
    """Per analysis and test: λ_GC's mean over the phenotype replicates, their sd (the phenotype's share of the
    Monte Carlo error, which the SNP bootstrap of one replicate does not see), the mean's SE, the mean rejection
    rates, and whether the mean λ_GC lies in [0.98, 1.02]."""
    out = {}
    for name, replicates in null.items():
        out[name] = {"replicates": len(replicates)}
        for test in TESTS:
            lam = np.array([r[test]["lambda_gc"] for r in replicates])
            sd = float(lam.std(ddof=1)) if len(lam) > 1 else float("nan")
            out[name][test] = {"lambda_gc_mean": float(lam.mean()), "lambda_gc_sd_over_replicates": sd,
                               "lambda_gc_mean_se": sd / np.sqrt(len(lam)),
                               **{f"type1_{a:g}_mean": float(np.mean([r[test][f"type1_{a:g}"] for r in replicates]))
                                  for a in LEVELS},
                               "lambda_in_target": bool(0.98 <= lam.mean() <= 1.02)}
    return out


def p_values(result, test: str) -> np.ndarray:
    return np.exp(result.sumstats[f"LOG_P_{test.upper()}"].to_numpy())


def power(loco, grm, causal_ids: list[str]) -> dict:
    """Per test: shares of causal SNPs under each POWER_LEVELS and mean −log10 p, LOCO vs GRM."""
    out = {}
    for test in TESTS:
        per = {}
        for name, result in (("loco", loco), ("grm", grm)):
            table = result.sumstats.set_index("SNP")
            per[name] = np.exp(table.loc[causal_ids, f"LOG_P_{test.upper()}"].to_numpy())
        difference = -np.log10(per["loco"]) + np.log10(per["grm"])
        out[test] = {**{f"{name}_power_{a:g}": float(np.mean(per[name] < a)) for name in per for a in POWER_LEVELS},
                     **{f"{name}_mean_log10p": float(np.mean(-np.log10(per[name]))) for name in per},
                     "loco_minus_grm_mean_log10p": float(difference.mean()),
                     "loco_minus_grm_se": float(difference.std(ddof=1) / np.sqrt(len(difference))),
                     "loco_better_share": float(np.mean(difference > 0))}
    return out


def main() -> None:
    args = parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    X, chromosome, positions = genome(rng, args.families, args.chromosomes, args.snps_per_chromosome)
    n, p = X.shape
    subjects = [f"s{i}" for i in range(n)]
    family_ids = [f"f{i // FAMILY_SIZE}" for i in range(n)]
    A = lattice_adjacency(args.regions)
    K = family_kinship(n, FAMILY_SIZE)
    regions = [f"R{k + 1}" for k in range(args.regions)]
    Y = pd.DataFrame(null_qts(rng, K, A), index=subjects, columns=regions)
    Y_causal, causal = causal_effects(rng, X, Y.to_numpy(), chromosome, A, args.causal, args.effect_r2)
    Y_causal = pd.DataFrame(Y_causal, index=subjects, columns=regions)
    results = {"design": {"subjects": n, "phenotype_replicates": args.replicates, "families": args.families, "family_size": FAMILY_SIZE,
                          "chromosomes": args.chromosomes, "snps": p, "ld_block": LD_BLOCK, "regions": args.regions,
                          "h2_range": list(H2_RANGE), "car_rho": RHO, "seed": args.seed,
                          "bootstrap_block_snps": args.bootstrap_block, "bootstraps": args.bootstraps,
                          "causal": args.causal, "effect_r2_per_region": args.effect_r2,
                          "regions_per_causal": REGIONS_PER_CAUSAL},
               "null": {}, "proximal_contamination": {}, "seconds": {}}
    with tempfile.TemporaryDirectory(prefix="scan-null-") as folder:
        write_plink(Path(folder) / "g", X, subjects, [f"rs{j}" for j in range(p)], family_ids=family_ids,
                    chromosome=chromosome, positions=positions, parents=parents(subjects))
        causal_ids = [f"rs{j}" for j in causal]
        del X
        results["seconds"]["simulate_and_write"] = time.perf_counter() - started
        fileset = PlinkFileset.open(Path(folder) / "g")
        for replicate in range(args.replicates):
            Y_r = Y if replicate == 0 else pd.DataFrame(null_qts(np.random.default_rng([args.seed, replicate]), K, A),
                                                        index=subjects, columns=regions)
            for name, kinship in (("loco", "loco"), ("grm", "grm"), ("pedigree", K)):
                if replicate and name == "grm":
                    continue  # the GRM of every SNP on the first replicate only (time)
                result = scan(fileset, Y_r, A, kinship=kinship)
                blocks = bootstrap_blocks(len(result.sumstats), args.bootstrap_block)
                results["null"].setdefault(name, []).append(
                    {"replicate": replicate, "tested_snps": len(result.sumstats),
                     **{test: calibration(p_values(result, test), blocks, np.random.default_rng(1), args.bootstraps)
                        for test in TESTS}})
                results["seconds"][f"null_{name}_{replicate}"] = result.seconds
                print(name, replicate, {t: round(results["null"][name][-1][t]["lambda_gc"], 4) for t in TESTS}, flush=True)
        results["null_over_replicates"] = over_replicates(results["null"])
        loco = scan(fileset, Y_causal, A, kinship="loco")
        grm = scan(fileset, Y_causal, A, kinship="grm")
        results["seconds"]["causal_loco"], results["seconds"]["causal_grm"] = loco.seconds, grm.seconds
        results["proximal_contamination"] = power(loco, grm, causal_ids)
    results["seconds"]["total"] = time.perf_counter() - started
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(json.dumps(results["proximal_contamination"]["omnibus"]), f"wrote {args.out}", sep="\n")


if __name__ == "__main__":
    main()
