"""Atomic output folders: a run writes into a hidden staging folder that becomes ``out`` only on success.

A failed or refused run leaves nothing behind: not a partial ``out``, not a staging folder. The
staging folders in use are registered, so that a run stopped by a signal can remove them too
(:func:`discard_staging`, called by :mod:`jaxgen.cli.signals`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_output_dir", "check_output_dir", "discard_staging"]

_STAGING: set[Path] = set()  # staging folders of the atomic_output_dir blocks now open


def check_output_dir(out: str | Path, overwrite: bool = False) -> Path:
    """Refuse early (ValueError) an ``out`` that cannot be written: it exists and is not a folder, or
    is a folder holding files (unless ``overwrite``), or lies below a file, or its nearest existing
    folder does not let us create a folder (probed by creating and removing one)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ValueError(f"--out {out} already holds files; choose another folder or pass --overwrite")
    ancestor = out.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"--out {out} lies below {ancestor}, which is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=ancestor))
    except OSError as err:
        raise ValueError(f"--out {out}: cannot create a folder in {ancestor} ({err.strerror})") from None
    return out


@contextlib.contextmanager
def atomic_output_dir(out: str | Path, overwrite: bool = False):
    """Yield a staging folder (a Path) next to ``out``; on a clean exit it replaces ``out``.

    On any exception the staging folder is removed and ``out`` is left as it was.
    """
    out = check_output_dir(out, overwrite).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    _STAGING.add(staging)
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the output folder gets the usual permissions
    try:
        yield staging
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _STAGING.discard(staging)


def discard_staging() -> list[Path]:
    """Remove every staging folder still open (a run being stopped); returns those removed."""
    removed = []
    for staging in list(_STAGING):
        for _ in range(3):  # the run may still be writing into it
            shutil.rmtree(staging, ignore_errors=True)
            if not staging.exists():
                break
        removed.append(staging)
    return removed
