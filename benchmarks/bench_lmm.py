"""Speed of the spatial LMM samplers: effective samples per second (Gibbs vs NUTS) and scaling.

Usage: python benchmarks/bench_lmm.py [--platform cpu|gpu] [--cpu-devices N] [--quick] [--out FILE]

Each sampler runs on one device and on every device of the platform (on CPU, ``--cpu-devices``
devices, one per core by default). Gibbs spreads its chains over the devices with ``shard_map``
(``jaxgen.lmm.driver``); NUTS gets its chain keys sharded over them, and XLA partitions NumPyro's
vectorized chains (its trajectories are while loops over all chains, so devices wait for each other).

Compile time is measured separately: every configuration is run twice with equal shapes (jax's
compilation cache makes the second run compile-free); "compile_s" is the difference. Every timed
call ends in block_until_ready. Results: JSON in benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from machine import describe_machine


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--cpu-devices", type=int, default=os.cpu_count(),
                        help="CPU devices for the sharded runs (default: one per core)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--out", default=None, help="JSON output (default benchmarks/results/lmm_<platform>.json)")
    parser.add_argument("--only-ess", action="store_true", help="skip the scaling grid (keep it from --out)")
    return parser.parse_args()


def timed(fn):
    """(seconds, result) of fn() with its result blocked until ready, BLAS single-threaded as in
    ``jaxgen.lmm.fit`` (see ``jaxgen.runtime``); Gibbs and NUTS run under the same setting."""
    import jax

    from jaxgen.runtime import single_threaded_blas

    with single_threaded_blas():
        start = time.perf_counter()
        result = jax.block_until_ready(fn())
        return time.perf_counter() - start, result


def worst_bulk_ess(draws):
    import arviz as az
    import numpy as np

    tree = az.from_dict({"posterior": {"B": np.asarray(draws["B"])}})
    return float(az.ess(tree, var_names=["B"], method="bulk")["B"].values.min())


def ess_per_second(study, method, num_chains, num_warmup, num_samples, devices):
    """The same sampler twice on equal shapes: compile = first − second run; ESS/s = worst bulk ESS
    of B / second run. NUTS reuses one numpyro MCMC object so its second run is compile-free too.
    The chains run on ``devices`` (a list)."""
    import jax
    from numpyro.infer import MCMC, NUTS

    from jaxgen.lmm import Priors, prepare_data, spatial_lmm_model
    from jaxgen.lmm.driver import run_gibbs_chains
    from jaxgen.runtime import spread_over_devices

    data, _ = prepare_data(study.Y, study.X, study.adjacency, study.covariates, study.kinship)
    if method == "gibbs":
        def run(seed):
            return run_gibbs_chains(jax.random.key(seed), data, Priors(), num_chains=num_chains,
                                    num_warmup=num_warmup, num_samples=num_samples, devices=devices).sites
    else:
        mcmc = MCMC(NUTS(spatial_lmm_model), num_warmup=num_warmup, num_samples=num_samples,
                    num_chains=num_chains, chain_method="vectorized", progress_bar=False)

        def run(seed):
            keys, _ = spread_over_devices({"keys": jax.random.split(jax.random.key(seed), num_chains)}, devices)
            mcmc.run(keys["keys"], data, Priors())
            return mcmc.get_samples(group_by_chain=True)

    first, _ = timed(lambda: run(0))
    second, draws = timed(lambda: run(1))
    ess = worst_bulk_ess(draws)
    return {"method": method, "devices": len(devices), "chains": num_chains, "warmup": num_warmup,
            "samples": num_samples, "seconds": second, "compile_s": max(first - second, 0.0),
            "worst_bulk_ess_B": ess, "ess_per_s": ess / second}


def sweep_seconds(n, p, c, chains, sweeps):
    """Seconds per Gibbs sweep (all chains, one device), compile excluded."""
    import jax

    from jaxgen.data import simulate_spatial_lmm
    from jaxgen.lmm import Priors, prepare_data
    from jaxgen.lmm.driver import run_gibbs_chains

    study = simulate_spatial_lmm(0, n=n, p=p, c=c, n_causal=min(3, p), rho=0.6, h2=0.3)
    data, _ = prepare_data(study.Y, study.X, study.adjacency, study.covariates, study.kinship)

    def run(seed):
        return run_gibbs_chains(jax.random.key(seed), data, Priors(), num_chains=chains, num_warmup=0,
                                num_samples=sweeps, devices=jax.devices()[:1])

    first, _ = timed(lambda: run(0))
    second, _ = timed(lambda: run(1))
    return {"n": n, "p": p, "c": c, "chains": chains, "sweeps": sweeps,
            "seconds_per_sweep": second / sweeps, "compile_s": max(first - second, 0.0)}


def main():
    args = parse_args()
    os.environ["JAX_PLATFORMS"] = "cuda" if args.platform == "gpu" else "cpu"
    import jax

    if args.platform == "cpu":
        jax.config.update("jax_num_cpu_devices", args.cpu_devices)

    from jaxgen.data import simulate_spatial_lmm

    quick = args.quick
    study = simulate_spatial_lmm(0, n=500, p=50, c=20, n_causal=5, rho=0.6, h2=0.3)
    results = {"device": str(jax.devices()[0]), "platform": args.platform,
               "machine": describe_machine(), "jax": jax.__version__, "dtype": "float32"}
    warmup, samples = (100, 200) if quick else (500, 1000)
    device_sets = [jax.devices()[:1]] + ([jax.devices()] if len(jax.devices()) > 1 else [])
    results["ess"] = [ess_per_second(study, method, 4, warmup, samples, devices)
                      for devices in device_sets for method in ("gibbs", "nuts")]
    for gibbs, nuts in zip(results["ess"][::2], results["ess"][1::2]):
        suffix = "" if gibbs["devices"] == 1 else "_all_devices"
        results["gibbs_over_nuts_ess_per_s" + suffix] = gibbs["ess_per_s"] / nuts["ess_per_s"]
    print(json.dumps(results["ess"], indent=1), file=sys.stderr)

    base = dict(n=500, p=50, c=20, chains=4, sweeps=20 if quick else 100)
    grid = {"n": [250, 500, 1000, 2000], "p": [25, 50, 100, 200], "c": [10, 20, 40],
            "chains": [1, 4, 16, 64, 256, 1024]}
    if quick:
        grid = {key: values[:2] for key, values in grid.items()}
    out = args.out or os.path.join(os.path.dirname(__file__), "results", f"lmm_{args.platform}.json")
    if args.only_ess:
        with open(out) as handle:
            results["scaling"] = json.load(handle)["scaling"]
        grid = {}
    else:
        results["scaling"] = {}
    for key, values in grid.items():
        rows = []
        for value in values:
            config = base | {key: value}
            if key == "chains" and value >= 256:
                config["sweeps"] = max(5, base["sweeps"] // 10)
            rows.append(sweep_seconds(**config))
            print(rows[-1], file=sys.stderr)
        results["scaling"][key] = rows

    with open(out, "w") as handle:
        json.dump(results, handle, indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
