"""The error every reader raises for a bad input file: it names the file and the problem."""

from __future__ import annotations

from pathlib import Path

__all__ = ["InputError"]


class InputError(ValueError):
    """A user's input file cannot be used as it is. ``str(err)`` reads "FILE: problem"."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(problem if path is None else f"{path}: {problem}")
