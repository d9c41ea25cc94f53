"""SIGINT/SIGTERM stop a run at once: the staging folder is removed, one line is printed, exit 130/143."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path



ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}


def _wait_for(path: Path, text: str, process, timeout: float = 120.0) -> None:
    start = time.monotonic()
    while text not in (path.read_text() if path.exists() else ""):
        assert process.poll() is None, f"the run ended early: {path.read_text()}"
        assert time.monotonic() - start < timeout, f"no {text!r} after {timeout} s"
        time.sleep(0.1)


def _assert_clean_stop(process, err: Path, status: int, signal_name: str, folder: Path, seconds: float):
    stopped = time.monotonic()
    assert process.wait(timeout=30) == status
    assert time.monotonic() - stopped < seconds
    lines = err.read_text().strip().splitlines()
    assert lines[-1].startswith("jaxgen") and f"stopped by {signal_name}" in lines[-1]
    assert "Traceback" not in err.read_text()
    assert not any(p.name.startswith(".out.partial-") for p in folder.iterdir()) and not (folder / "out").exists()


def test_sigint_during_sampling_stops_at_once(small_study, tmp_path):
    study = small_study
    err = tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "jaxgen.cli.main", "lmm", "--bfile", str(study / "genotypes"), "--qt",
               str(study / "qt.csv"), "--chains", "2", "--warmup", "0", "--samples", "200000", "--out", str(tmp_path / "out")]
    with err.open("w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=ENV, cwd=tmp_path)
        _wait_for(err, "sweep", process)                  # the compiled sampler is running
        process.send_signal(signal.SIGINT)
        _assert_clean_stop(process, err, 130, "SIGINT", tmp_path, seconds=5)


WRITER = """
import sys, time
from jaxgen.cli.signals import install_stop_handlers
from jaxgen.io import atomic_output_dir
install_stop_handlers("lmm")
with atomic_output_dir(sys.argv[1]) as folder:
    (folder / "half.csv").write_text("written before the signal")
    print("writing", file=sys.stderr, flush=True)
    time.sleep(60)
"""


def test_sigterm_while_writing_removes_the_staging_folder(tmp_path):
    err = tmp_path / "stderr.txt"
    with err.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "out")], stderr=stderr, env=ENV)
        _wait_for(err, "writing", process)
        assert any(p.name.startswith(".out.partial-") for p in tmp_path.iterdir())
        process.send_signal(signal.SIGTERM)
        _assert_clean_stop(process, err, 143, "SIGTERM", tmp_path, seconds=5)
    assert "the partial output was removed" in err.read_text()
