"""Entry point of the ``jaxgen`` console script: ``simulate``, ``lmm``, ``scan``, ``scan merge``, ``cca`` and ``demo``.

A command of two words (``scan merge``) is one sub-parser named by both; its module is ``jaxgen.cli.scan_merge``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from importlib import import_module

from jaxgen.cli.common import fail, interrupted, printer
from jaxgen.cli.signals import install_stop_handlers
from jaxgen.data.values import ExtremeValueWarning

__all__ = ["configure_jax", "main", "run_command"]

COMMANDS = ("simulate", "lmm", "scan", "scan merge", "cca", "demo")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (each command module gives HELP, add_arguments and run)."""
    parser = argparse.ArgumentParser(prog="jaxgen", description="Brain imaging genetics on JAX: the spatial "
                                     "multitask LMM and multi-task sparse CCA, from PLINK and QT files.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = _module(name)
        command = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
    return parser


def _module(command: str):
    """The module of a command: ``jaxgen.cli.scan_merge`` for ``scan merge``."""
    return import_module(f"jaxgen.cli.{command.replace(' ', '_')}")


def _command_words(argv: list[str]) -> list[str]:
    """``argv`` with the words of a two-word command (``scan merge``) joined into its name."""
    joined = " ".join(argv[:2])
    return [joined, *argv[2:]] if joined in COMMANDS else list(argv)


def run_command(argv: list[str], echo=None):
    """Parse ``argv`` and run that command; returns its summary (errors propagate)."""
    return _run(build_parser().parse_args(_command_words(argv)), echo)


def _run(args: argparse.Namespace, echo=None):
    echo = echo if echo is not None and not args.quiet else printer(args.quiet)
    return _module(args.command).run(args, echo)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status: 0, or 1 with a one-line reason on stderr (any
    error: a Python traceback only with ``--debug``), 2 for a malformed command line (argparse), or
    130 after Ctrl-C."""
    args = build_parser().parse_args(_command_words(sys.argv[1:] if argv is None else argv))
    default_format = warnings.formatwarning
    with warnings.catch_warnings():  # warnings (e.g. the convergence gate) show even with --quiet
        warnings.simplefilter("default")
        # the file readers already named these values by file, column and subject
        warnings.filterwarnings("ignore", category=ExtremeValueWarning, module=r"jaxgen\.(lmm|cca)\.data")
        warnings.formatwarning = lambda message, category, *rest: f"jaxgen: warning: {message}\n"
        try:
            _run(args)
        except Exception as err:
            if args.debug:
                raise
            return fail(args.command, err)
        except KeyboardInterrupt:
            if args.debug:
                raise
            return interrupted(args.command)
        finally:
            warnings.formatwarning = default_format
    return 0


def entry() -> int:
    """The ``jaxgen`` console command: :func:`main` after :func:`configure_jax`."""
    configure_jax()
    install_stop_handlers(next((a for a in _command_words(sys.argv[1:]) if a in COMMANDS), ""))
    return main()


def configure_jax() -> None:
    """One JAX CPU device per core and JAX's persistent compilation cache on (see
    :func:`jaxgen.runtime.enable_compilation_cache`), as the ``jaxgen`` command runs.

    On CPU the CCA grid and the permutation batches are sharded over the devices (see
    :mod:`jaxgen.cca.batch`), so each core runs a slice; everything else runs on the first device.
    Set ``JAX_NUM_CPU_DEVICES`` to choose another count. This must happen before JAX starts, which
    is why it is done here and not in :func:`main` (which tests and notebooks call in-process); so
    is the clean stop on SIGINT/SIGTERM (:mod:`jaxgen.cli.signals`).
    """
    import jax

    from jaxgen.runtime import enable_compilation_cache

    if "JAX_NUM_CPU_DEVICES" not in os.environ:
        jax.config.update("jax_num_cpu_devices", os.cpu_count() or 1)
    enable_compilation_cache()


if __name__ == "__main__":
    sys.exit(entry())
