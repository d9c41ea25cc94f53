"""What every jaxgen command shares: output, --quiet, --platform and the computing device."""

from __future__ import annotations

import argparse
import contextlib
import sys

__all__ = ["add_run_options", "device_scope", "fail", "printer"]


def add_run_options(parser: argparse.ArgumentParser, *, out: bool = True) -> None:
    """--out/--overwrite (when the command writes a folder), --seed, --quiet and --platform."""
    if out:
        parser.add_argument("--out", required=True, metavar="DIR",
                            help="output folder, written atomically (nothing is left behind on failure)")
        parser.add_argument("--overwrite", action="store_true", help="replace --out if it already holds files")
    parser.add_argument("--seed", type=int, default=0, help="random seed: same seed, same result (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summaries, errors only")
    parser.add_argument("--platform", choices=("auto", "cpu", "gpu"), default="auto",
                        help="where JAX computes (default auto: a GPU when JAX sees one, else the CPU)")


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
    """Print the one-line reason of a failed command on stderr; returns the exit status 1."""
    message = " ".join(str(err).split()) or type(err).__name__
    print(f"jaxgen {command}: error: {message}", file=sys.stderr)
    return 1
