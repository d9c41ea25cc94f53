"""Atomic output folders: a run writes into a hidden staging folder that becomes ``out`` only on success.

A failed or refused run leaves nothing behind: not a partial ``out``, not a staging folder.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_output_dir", "check_output_dir"]


def check_output_dir(out: str | Path, overwrite: bool = False) -> Path:
    """Refuse early (ValueError) when ``out`` exists and is not an empty folder, unless ``overwrite``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ValueError(f"--out {out} already holds files; choose another folder or pass --overwrite")
    return out


@contextlib.contextmanager
def atomic_output_dir(out: str | Path, overwrite: bool = False):
    """Yield a staging folder (a Path) next to ``out``; on a clean exit it replaces ``out``.

    On any exception the staging folder is removed and ``out`` is left as it was.
    """
    out = check_output_dir(out, overwrite).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
