"""Align subjects across inputs: keep those present in every one (an inner join), and say who was dropped."""

from __future__ import annotations

from typing import Mapping, Sequence

from jaxgen.io.errors import InputError
from jaxgen.io.log import ReadLog

__all__ = ["align_subjects"]

MIN_SUBJECTS = 4


def align_subjects(sources: Mapping[str, Sequence[str]], log: ReadLog | None = None) -> list[str]:
    """The ids present in every source, in the order of the first.

    sources : input name (a file path) → its subject ids (each list free of duplicates).
    Raises InputError when no subject, or fewer than 4, are shared.
    """
    log = log or ReadLog()
    names = list(sources)
    shared = set(sources[names[0]])
    for name in names[1:]:
        shared &= set(sources[name])
    if len(shared) < MIN_SUBJECTS:
        samples = "; ".join(f"{name} has {len(ids)} (e.g. {', '.join(map(str, list(ids)[:3]))})"
                            for name, ids in sources.items())
        problem = "no subject is" if not shared else f"only {len(shared)} subjects are"
        raise InputError(None, f"{problem} in every input, need at least {MIN_SUBJECTS}: {samples}. "
                         "Check that the files use the same subject ids (PLINK's IID).")
    order = [s for s in sources[names[0]] if s in shared]
    for name, ids in sources.items():
        dropped = len(ids) - len(shared)
        if dropped:
            log.add(f"{name}: {dropped} of {len(ids)} subjects are not in every input and were left out")
    log.add(f"{len(order)} subjects are in all {len(names)} inputs")
    return order
