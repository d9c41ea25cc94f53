"""Headless matplotlib for the benchmark scripts (the ``plot`` extra), or None when it is missing."""

from __future__ import annotations

import sys


def headless_pyplot():
    """matplotlib.pyplot on the Agg backend, or None (with a note on stderr) if matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot", file=sys.stderr)
        return None
    return plt
