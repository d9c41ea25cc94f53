"""The jaxgen command's persistent compilation cache: where it lives, how to turn it off, and that a
second run of the same shapes compiles nothing; compile time is measured apart from run time."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

from jaxgen.cli.main import main
from jaxgen.runtime import Stopwatch, compilation_cache_dir, compile_clock


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    for name in ("JAXGEN_NO_CACHE", "JAXGEN_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert compilation_cache_dir() == tmp_path / "home" / ".cache" / "jaxgen" / "jax"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compilation_cache_dir() == tmp_path / "xdg" / "jaxgen" / "jax"
    monkeypatch.setenv("JAXGEN_CACHE_DIR", str(tmp_path / "mine"))
    assert compilation_cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("JAXGEN_NO_CACHE", "0")
    assert compilation_cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("JAXGEN_NO_CACHE", "1")
    assert compilation_cache_dir() is None


def test_compile_clock_counts_nested_compilations_once():
    inner = jax.jit(lambda x: jnp.linalg.cholesky(x @ x.T + 3.0 * jnp.eye(x.shape[0])))
    outer = jax.jit(lambda x: inner(x).sum() + inner(2 * x).sum())
    stopwatch = Stopwatch()
    with stopwatch.stage("first call"), compile_clock() as clock:
        start = time.perf_counter()
        outer(jnp.ones((37, 37))).block_until_ready()
        wall = time.perf_counter() - start
    assert 0 < clock.seconds <= wall
    with stopwatch.stage("second call"):
        outer(jnp.ones((37, 37))).block_until_ready()
    assert stopwatch.stages["second call"].compile_seconds == 0.0
    # each listener stamps an event's end with its own clock reading, microseconds apart
    assert stopwatch.stages["first call"].compile_seconds == pytest.approx(clock.seconds, abs=1e-3)
    assert re.fullmatch(r"time: first call [\d.]+ s \(compiling [\d.]+ s\), second call [\d.]+ s; total [\d.]+ s",
                        stopwatch.summary())


def _cli(args, cache, capture=True):
    env = {k: v for k, v in os.environ.items() if k not in ("JAXGEN_NO_CACHE", "JAX_COMPILATION_CACHE_DIR")}
    env.update(JAXGEN_CACHE_DIR=str(cache), JAX_PLATFORMS="cpu")
    return subprocess.run([sys.executable, "-m", "jaxgen.cli.main", *args], capture_output=capture, text=True,
                          env=env, check=True, cwd=Path(__file__).parents[2]).stdout


@pytest.mark.slow
def test_second_run_of_the_same_shapes_writes_no_cache_entry_and_compiles_less(tmp_path):
    study, cache = tmp_path / "study", tmp_path / "cache"
    assert main(["simulate", "--out", str(study), "--subjects", "40", "--snps", "6", "--regions", "4",
                 "--ccc", "0.9", "--quiet"]) == 0
    run = ["lmm", "--bfile", str(study / "genotypes"), "--qt", str(study / "qt.csv"), "--adjacency",
           str(study / "adjacency.csv"), "--chains", "2", "--warmup", "5", "--samples", "10"]
    compile_seconds, entries = [], []
    for out in ("first", "second"):
        log = _cli([*run, "--out", str(tmp_path / out)], cache)
        compile_seconds.append(float(re.search(r"fit on cpu: [\d.]+ s \(compiling ([\d.]+) s", log).group(1)))
        entries.append(sorted(p.name for p in cache.iterdir()))
        assert re.search(r"^time: reading .* SNP tests .*; total [\d.]+ s$", log, re.MULTILINE)
    assert any(name.startswith("jit__run-") for name in entries[0])  # the Gibbs sampler is cached
    assert entries[1] == entries[0]
    # what is left of the compile time: tracing and lowering (about a tenth of the cold compile)
    assert compile_seconds[1] < 0.5 * compile_seconds[0]
