"""Pair labelled inputs by their labels, never by position: subjects by a pandas index, regions and
SNPs by column names.

Every method's entry point (``jaxgen.lmm.fit``, the CCA estimators, ``cross_validate``,
``permutation_test``) passes its inputs through :func:`align_rows` first. pandas objects (DataFrame,
Series) are reordered to the subjects of the first labelled input; NumPy arrays carry no ids and are
taken in the order they come. Labelled inputs that do not hold the same subjects are refused: the
methods cannot guess which rows belong together.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

__all__ = ["align_columns", "align_rows", "preview_ids"]


def preview_ids(ids, limit: int = 5) -> str:
    """``'a', 'b', 'c' …`` — the first ``limit`` ids, for messages."""
    ids = list(ids)
    return ", ".join(repr(i) for i in ids[:limit]) + (" …" if len(ids) > limit else "")


def align_rows(inputs: Mapping[str, Any], *, square: Sequence[str] = ()) -> tuple[dict, list | None]:
    """Reorder the pandas inputs so that row i is the same subject in all of them.

    inputs : input name → value (None is skipped). A DataFrame's or Series' index gives its subject
        ids (a Series becomes a one-column DataFrame); the inputs named in ``square`` (a kinship)
        are labelled by index and columns, which must list the same ids. NumPy arrays pass unchanged.
    Returns (the inputs, labelled ones as DataFrames in the subjects' order; those subjects (list), or
    None when no input is labelled). Raises ValueError for an index repeating an id, or labelled
    inputs whose ids differ (saying how many and showing a few).
    """
    labelled = {name: _as_frame(value) for name, value in inputs.items() if _is_labelled(value)}
    if not labelled:
        return dict(inputs), None
    for name, frame in labelled.items():
        _check_unique(frame.index, f"{name}'s index")
        if name in square:
            _check_unique(frame.columns, f"{name}'s columns")
            _check_same_ids(frame.index, f"{name}'s index", frame.columns, f"{name}'s columns")
    reference = next(iter(labelled))
    order = list(labelled[reference].index)
    for name, frame in labelled.items():
        _check_same_ids(labelled[reference].index, reference, frame.index, name)
    aligned = dict(inputs)
    for name, frame in labelled.items():
        aligned[name] = frame.loc[order, order] if name in square else frame.loc[order]
    return aligned, order


def align_columns(value, labels: Sequence | None, name: str, labels_name: str, *, square: bool = False):
    """``value`` with its columns (and, when ``square``, its index) in the order of ``labels``.

    Used to pair a labelled region graph with the QT columns, or new data with the columns a model
    was fitted on. Without labels on either side ``value`` is returned unchanged (pairing by
    position). Raises ValueError when the labels differ.
    """
    if labels is None or not isinstance(value, pd.DataFrame):
        return value
    labels = list(labels)
    _check_unique(value.columns, f"{name}'s columns")
    _check_same_ids(pd.Index(labels), labels_name, value.columns, f"{name}'s columns", what="labels")
    if square:
        _check_same_ids(value.columns, f"{name}'s columns", value.index, f"{name}'s index", what="labels")
        return value.loc[labels, labels]
    return value[labels]


def _is_labelled(value) -> bool:
    return isinstance(value, pd.DataFrame | pd.Series)


def _as_frame(value) -> pd.DataFrame:
    return value.to_frame() if isinstance(value, pd.Series) else value


def _check_unique(index: pd.Index, where: str) -> None:
    repeated = index[index.duplicated()].unique()
    if len(repeated):
        raise ValueError(f"{where} repeats {len(repeated)} labels: {preview_ids(repeated)}; each must appear once")


def _check_same_ids(first: pd.Index, first_name: str, other: pd.Index, other_name: str, what: str = "subjects"):
    """Raise ValueError when the label sets of ``first`` and ``other`` differ, counting both ways."""
    only_first = first.difference(other, sort=False)
    only_other = other.difference(first, sort=False)
    if len(only_first) == 0 and len(only_other) == 0:
        return
    parts = []
    if len(only_other):
        parts.append(f"{len(only_other)} of {other_name} are not in {first_name} ({preview_ids(only_other)})")
    if len(only_first):
        parts.append(f"{len(only_first)} of {first_name} are not in {other_name} ({preview_ids(only_first)})")
    hint = ("select the same subjects in both (e.g. X.loc[Y.index]), or pass NumPy arrays to pair rows by "
            "position" if what == "subjects" else "give both the same labels, or NumPy arrays to pair by position")
    raise ValueError(f"{first_name} and {other_name} are labelled by different {what}: {'; '.join(parts)}; {hint}")
