"""A whole ``jaxgen lmm`` run at the size of bgsmtr's ADNI application, cold and warm compilation cache.

Usage: python benchmarks/bench_lmm_scale.py [--kinship pedigree|grm|none] [--quick] [--out FILE]

n = 632 subjects, p = 486 SNPs, c = 56 regions (bgsmtr's ADNI data: 632 subjects, 486 SNPs from 33
genes, 56 regions), simulated by ``jaxgen simulate`` and written as PLINK and CSV files. The lmm
command runs with its defaults (4 Gibbs chains × (500 warm-up + 1000 draws), progress on) in a
fresh process, as the ``jaxgen`` command runs it (:func:`jaxgen.cli.main.configure_jax`: one CPU
device per core, the compilation cache on): first with an empty cache folder ("cold"), then again
with the folder the first run filled ("warm", three runs and their median). Each run gives its wall
time from process start to exit, the CPU time of the process, the machine's load average (the
machine is shared) and the command's own stage times (reading, fitting with its compile time, the
SNP tests and each output). The SNP-test stage is then split, in a last process, on the warm
runs' posterior: the conditional
scores, the convergence diagnostics of B (with the MCSE of diagnostics.csv) and the Cauchy
combinations.

--kinship: the simulated pedigree kinship file (default), ``grm`` (the genomic relationship matrix
of the genotypes; its eigenvalues are all distinct but n − rank zeros, so the sampler's Gram
product has little to share), or none. Results: JSON in benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from machine import describe_machine

TARGETS = {"cold": 60.0, "warm": 40.0}
WARM_RUNS = 3  # the warm run is repeated (the machine is shared): all three and their median are reported
REPO = Path(__file__).resolve().parents[1]   # the checkout benchmarked, in every process (not an installed copy)
sys.path.insert(0, str(REPO))

# The child process: what `jaxgen lmm ...` runs, with the stage times printed as JSON.
CHILD = """
import json, sys, time
start = time.perf_counter()
from jaxgen.cli.main import configure_jax, run_command
configure_jax()
imported = time.perf_counter() - start
summary = run_command(json.loads(sys.argv[1]), echo=lambda *args, **kwargs: None)
print(json.dumps({"import_s": imported, "stages": summary["seconds"], "n_significant": summary["n_significant"]}))
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinship", choices=["pedigree", "grm", "none"], default="pedigree")
    parser.add_argument("--quick", action="store_true", help="a small study (a smoke run)")
    parser.add_argument("--out", default=None, help="JSON output (default benchmarks/results/lmm_scale_cpu.json, "
                                                    "with the kinship in the name unless pedigree)")
    parser.add_argument("--split", nargs=2, metavar=("STUDY", "RUN"), help=argparse.SUPPRESS)  # the child's job
    return parser.parse_args()


def write_study(folder: Path, n: int, p: int, c: int) -> Path:
    """``jaxgen simulate`` at this size into ``folder``/study; returns that folder."""
    from jaxgen.cli.main import run_command

    study = folder / "study"
    run_command(["simulate", "--out", str(study), "--subjects", str(n), "--snps", str(p), "--regions", str(c),
                 "--quiet"])
    return study


def lmm_arguments(study: Path, out: Path, kinship: str, chains: int, warmup: int, samples: int) -> list[str]:
    """The ``jaxgen lmm`` command line of the benchmark."""
    kinship_option = {"pedigree": ["--kinship", str(study / "kinship.csv")], "grm": ["--kinship", "grm"],
                      "none": []}[kinship]
    return ["lmm", "--bfile", str(study / "genotypes"), "--qt", str(study / "qt.csv"), "--covariates",
            str(study / "covariates.csv"), "--adjacency", str(study / "adjacency.csv"), *kinship_option,
            "--chains", str(chains), "--warmup", str(warmup), "--samples", str(samples), "--out", str(out), "--overwrite"]


def run_command_process(argv: list[str], cache: Path) -> dict:
    """Run the lmm command in a fresh process with the compilation cache in ``cache``: wall and CPU
    seconds of the process, load average before and after, the command's stage times."""
    env = {k: v for k, v in os.environ.items() if k not in ("JAXGEN_NO_CACHE", "JAX_COMPILATION_CACHE_DIR")}
    env.update(JAXGEN_CACHE_DIR=str(cache), JAX_PLATFORMS="cpu", PYTHONPATH=str(REPO))
    load_before = os.getloadavg()[0]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(argv)], env=env, capture_output=True, text=True,
                          cwd=REPO)
    wall = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"the lmm command failed:\n{done.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "cpu_s": cpu, "load_before": load_before, "load_after": os.getloadavg()[0],
            "cache_entries": len(list(cache.iterdir())), **report}


def split_snp_tests(study: Path, out: Path, kinship: str) -> dict:
    """Seconds (wall, CPU) of the parts of ``LMMResult.snp_tests()`` on the posterior the run wrote."""
    import arviz as az
    import jax

    from jaxgen.data import standardize_columns
    from jaxgen.io import load_lmm_study
    from jaxgen.lmm import LMMResult, prepare_data
    from jaxgen.lmm.association import conditional_scores

    kinship_file = {"pedigree": study / "kinship.csv", "grm": "grm", "none": None}[kinship]
    s = load_lmm_study(study / "genotypes", study / "qt.csv", covariates=study / "covariates.csv",
                       adjacency=study / "adjacency.csv", kinship=kinship_file)
    data, info = prepare_data(standardize_columns(s.Y.to_numpy())[0], s.X, s.adjacency, s.covariates.to_numpy(),
                              s.kinship)
    posterior = az.from_netcdf(out / "posterior.nc")["posterior"]
    draws = {name: posterior[name].values for name in posterior.data_vars}
    result = LMMResult(draws=draws, data=data, snp_ids=list(s.X.columns), region_names=list(s.Y.columns),
                       covariate_names=list(s.covariates.columns), snp_sd=info["snp_sd"], method="gibbs")

    def timed(fn):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        return {"wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu}

    parts = {"conditional scores (compile and run)": timed(lambda: jax.block_until_ready(conditional_scores(draws, data))),
             "conditional scores (run)": timed(lambda: jax.block_until_ready(conditional_scores(draws, data))),
             "convergence diagnostics of B (R-hat, ESS, MCSE)": timed(lambda: result.diagnostics(["B"]))}
    result.associations()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts["Cauchy combinations per SNP"] = timed(result.snp_tests)
    parts["pairs passing the gate"] = int(result.associations()["passed"].sum())
    return parts


def split_in_process(study: Path, out: Path, kinship: str) -> dict:
    """:func:`split_snp_tests` in a fresh process, as the runs are."""
    done = subprocess.run([sys.executable, __file__, "--kinship", kinship, "--split", str(study), str(out)],
                          capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPO)})
    if done.returncode:
        raise RuntimeError(f"splitting the SNP tests failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    args = parse_args()
    if args.split:
        print(json.dumps(split_snp_tests(Path(args.split[0]), Path(args.split[1]), args.kinship)))
        return
    n, p, c, chains, warmup, samples = (120, 40, 9, 2, 100, 200) if args.quick else (632, 486, 56, 4, 500, 1000)
    import jax

    results = {"n": n, "p": p, "c": c, "chains": chains, "warmup": warmup, "samples": samples,
               "kinship": args.kinship, "dtype": "float32", "platform": "cpu",
               "machine": describe_machine(), "jax": jax.__version__,
               "targets_s": TARGETS, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        study = write_study(folder, n, p, c)
        for cache_state in ("cold", *[f"warm {i + 1}" for i in range(WARM_RUNS)]):
            out = folder / f"out-{cache_state.split()[0]}"
            run = run_command_process(lmm_arguments(study, out, args.kinship, chains, warmup, samples), folder / "cache")
            results["runs"][cache_state] = run
            stages = ", ".join(f"{k} {v['seconds']:.1f}" for k, v in run["stages"].items())
            print(f"{cache_state}: {run['wall_s']:.1f} s wall, {run['cpu_s']:.1f} s CPU, load {run['load_before']:.1f}"
                  f"–{run['load_after']:.1f}; {stages}", file=sys.stderr)
        warm = sorted(results["runs"][f"warm {i + 1}"]["wall_s"] for i in range(WARM_RUNS))
        results["warm_median_s"] = warm[WARM_RUNS // 2]
        print(f"warm: median {results['warm_median_s']:.1f} s of {WARM_RUNS} runs", file=sys.stderr)
        results["snp_test_parts"] = split_in_process(study, folder / "out-warm", args.kinship)
    print(json.dumps(results["snp_test_parts"], indent=1), file=sys.stderr)
    name = "lmm_scale_cpu.json" if args.kinship == "pedigree" else f"lmm_scale_cpu_{args.kinship}.json"
    out = args.out or os.path.join(os.path.dirname(__file__), "results", name)
    if not args.quick or args.out:
        with open(out, "w") as handle:
            json.dump(results, handle, indent=1)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
