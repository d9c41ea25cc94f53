"""Entry point of the ``jaxgen`` console script."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jaxgen", description="Brain imaging genetics on JAX.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="simulate studies and run the spatial LMM and multi-task CCA end to end")
    demo.add_argument("--seed", type=int, default=0, help="seed of the simulated study (default 0)")
    demo.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from jaxgen.cli.demo import run_demo

            run_demo(seed=args.seed, progress=not args.quiet, echo=(lambda *a, **k: None) if args.quiet else print)
    except ValueError as err:
        print(f"jaxgen {args.command}: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
