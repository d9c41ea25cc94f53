"""What every jaxgen command shares: output, --quiet, --platform and the computing device."""

from __future__ import annotations

import argparse
import contextlib
import sys

__all__ = ["USER_ERRORS", "add_run_options", "device_scope", "fail", "interrupted", "printer"]

# What a user's input or machine can cause: reported as "error: ..." without a traceback.
USER_ERRORS = (ValueError, OSError, ImportError, FloatingPointError, KeyError, MemoryError)


def add_run_options(parser: argparse.ArgumentParser, *, out: bool = True, computes: bool = True) -> None:
    """--out/--overwrite (when the command writes a folder), --seed and --platform (when it computes), --quiet
    and --debug."""
    if out:
        parser.add_argument("--out", required=True, metavar="DIR",
                            help="output folder, written atomically (nothing is left behind on failure)")
        parser.add_argument("--overwrite", action="store_true", help="replace --out if it already holds files")
    if computes:
        parser.add_argument("--seed", type=int, default=0, help="random seed: same seed, same result (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summaries, errors only")
    if computes:
        parser.add_argument("--platform", choices=("auto", "cpu", "gpu"), default="auto",
                            help="where JAX computes (default auto: a GPU when JAX sees one, else the CPU)")
    parser.add_argument("--debug", action="store_true", help="on an error, show the Python traceback")


def printer(quiet: bool):
    """print to stdout, or a function that prints nothing."""
    return (lambda *args, **kwargs: None) if quiet else print


@contextlib.contextmanager
def device_scope(platform: str):
    """Run the enclosed computations on ``platform`` ("auto", "cpu" or "gpu"); yields the device."""
    import jax

    if platform == "auto":
        device = jax.devices()[0]
    else:
        try:
            device = jax.devices(platform)[0]
        except RuntimeError:
            raise ValueError(f"--platform {platform}: JAX sees no {platform.upper()} here "
                             "(install jax with the right extra, e.g. pip install 'jaxgen[cuda12]')") from None
    with jax.default_device(device):
        yield device


def fail(command: str, err: BaseException) -> int:
    """Print the one-line reason of a failed command on stderr; returns the exit status 1.

    A user's error (:data:`USER_ERRORS`) reads ``error: <message>``; the device running out of memory
    says so; anything else is a defect of jaxgen and says how to see and report its traceback.
    """
    message = " ".join(str(err).split()) or type(err).__name__
    if "RESOURCE_EXHAUSTED" in message or type(err) is MemoryError:  # not a refusal made before starting
        message = ("out of memory: " + message[:300] + " — reduce the problem (--samples, --chains, SNPs, "
                   "the grid) or use a device with more memory")
    elif not isinstance(err, USER_ERRORS):
        message = (f"internal error ({type(err).__name__}: {message}); run again with --debug for the traceback "
                   "and please report it")
    print(f"jaxgen {command}: error: {message}", file=sys.stderr)
    return 1


def interrupted(command: str, signal_name: str = "SIGINT", partial_output_removed: bool = False) -> int:
    """Print one line for a run stopped by a signal; returns the shell's status for it (130 for SIGINT,
    143 for SIGTERM)."""
    what = "the partial output was removed" if partial_output_removed else "no output was written"
    print(f"\njaxgen{' ' + command if command else ''}: stopped by {signal_name}; {what}", file=sys.stderr, flush=True)
    return {"SIGINT": 130, "SIGTERM": 143}[signal_name]
