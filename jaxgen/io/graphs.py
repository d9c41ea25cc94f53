"""Graph files: region adjacency (a labelled CSV matrix or an edge list) and subject kinship (a labelled matrix)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from jaxgen.graphs import kinship_eigen, validate_adjacency
from jaxgen.io.errors import InputError
from jaxgen.io.log import ReadLog
from jaxgen.io.tables import encoding_and_header, read_table

__all__ = ["read_adjacency", "read_kinship"]


def read_adjacency(path: str | Path, *, regions: Sequence[str] | None = None,
                   log: ReadLog | None = None) -> tuple[np.ndarray, list[str]]:
    """A region adjacency from a file; returns (A (c, c), region names (c,)).

    Two layouts are understood:
    - a matrix with region names as its header row and first column (the same names, any order);
    - an edge list, one edge per line: ``region_a, region_b[, weight]`` (weight 1 when absent), with
      an optional header line.
    ``regions`` fixes the regions and their order (for an edge list, a region without an edge is then
    isolated, which is an error). The matrix must be symmetric, non-negative, with a zero diagonal and
    no isolated region; every failure raises InputError naming the file and the regions.
    """
    log = log or ReadLog()
    raw = _raw_cells(path, log)
    A, names = _matrix(raw, path) if _is_matrix(raw) else _edges(raw, path)
    if regions is not None:
        A, names = _reordered(A, names, list(regions), path)
    try:
        A = validate_adjacency(A, name="adjacency", regions=names)
    except ValueError as err:
        raise InputError(path, str(err)) from None
    log.add(f"{path}: adjacency of {len(names)} regions, {int(np.count_nonzero(A) // 2)} edges")
    return A, names


_EDGE_HEADERS = {"region_a", "region_b", "region1", "region2", "from", "to", "source", "target", "node1", "node2"}


def _raw_cells(path, log: ReadLog) -> pd.DataFrame:
    """Every cell of a delimited file as a stripped string (no header, no index)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    encoding, _ = encoding_and_header(path, log)
    try:
        raw = pd.read_csv(path, sep=None, engine="python", header=None, dtype=str, skipinitialspace=True,
                          encoding=encoding)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(path, f"not a readable table: {err}") from None
    return raw.apply(lambda column: column.str.strip())


def _is_matrix(raw: pd.DataFrame) -> bool:
    """A labelled square matrix: a header row and a first column naming the same regions."""
    return raw.shape[0] == raw.shape[1] and raw.shape[0] > 2 and set(raw.iloc[0, 1:]) == set(raw.iloc[1:, 0])


def _matrix(raw: pd.DataFrame, path) -> tuple[np.ndarray, list[str]]:
    names = raw.iloc[0, 1:].tolist()
    if len(set(names)) != len(names):
        raise InputError(path, "the adjacency header names a region twice")
    cells = raw.iloc[1:].set_index(0).loc[names]
    cells.columns = names
    values = cells.apply(lambda column: pd.to_numeric(column, errors="coerce"))
    if values.isna().any().any():
        i, j = np.argwhere(values.isna().to_numpy())[0]
        raise InputError(path, f"adjacency entry ({names[i]}, {names[j]}) is not a number: {cells.iloc[i, j]!r}")
    return values.to_numpy(dtype=float), names


def _edges(raw: pd.DataFrame, path) -> tuple[np.ndarray, list[str]]:
    """Parse an edge list ``region_a, region_b[, weight]`` with an optional header line."""
    if raw.shape[1] not in (2, 3):
        raise InputError(path, "neither a labelled square matrix (region names as header row and first "
                         f"column) nor an edge list (region_a, region_b[, weight]): {raw.shape[1]} columns")
    first_line = 1
    header = {str(v).lower() for v in raw.iloc[0, :2]} <= _EDGE_HEADERS
    if header or (raw.shape[1] == 3 and pd.isna(pd.to_numeric(raw.iloc[0, 2], errors="coerce"))):
        raw, first_line = raw.iloc[1:], 2
    weight = (pd.to_numeric(raw.iloc[:, 2], errors="coerce") if raw.shape[1] == 3
              else pd.Series(1.0, index=raw.index))
    if weight.isna().any():
        raise InputError(path, f"edge weight on line {int(np.flatnonzero(weight.isna())[0]) + first_line} "
                         "is not a number")
    a, b = raw.iloc[:, 0].tolist(), raw.iloc[:, 1].tolist()
    names = list(dict.fromkeys([*a, *b]))
    index = {name: k for k, name in enumerate(names)}
    A = np.zeros((len(names), len(names)))
    for line, (u, v, w) in enumerate(zip(a, b, weight.to_numpy(dtype=float)), start=first_line):
        if u == v:
            raise InputError(path, f"line {line}: edge from region {u!r} to itself")
        A[index[u], index[v]] = A[index[v], index[u]] = w
    return A, names


def _reordered(A, names, regions, path) -> tuple[np.ndarray, list[str]]:
    """A restricted to ``regions`` in that order; regions unknown to the file are isolated (then rejected)."""
    unknown = [r for r in names if r not in set(regions)]
    if unknown:
        raise InputError(path, f"regions not among the QT columns: {', '.join(unknown[:8])}")
    index = {name: k for k, name in enumerate(names)}
    out = np.zeros((len(regions), len(regions)))
    present = [k for k, r in enumerate(regions) if r in index]
    rows = [index[regions[k]] for k in present]
    out[np.ix_(present, present)] = A[np.ix_(rows, rows)]
    return out, list(regions)


def read_kinship(path: str | Path, subject_ids: Sequence[str], log: ReadLog | None = None) -> np.ndarray:
    """A kinship matrix (n, n) for ``subject_ids`` (in that order) from a labelled square table.

    The file's header row and first column give subject ids; it may hold more subjects than needed.
    It must be symmetric and positive semi-definite on the subjects used.
    """
    log = log or ReadLog()
    table = read_table(path, log=log)
    if set(table.index) != set(table.columns):
        raise InputError(path, "a kinship file must be a square table whose header row and first column "
                         "list the same subject ids")
    missing = [s for s in subject_ids if s not in table.index]
    if missing:
        raise InputError(path, f"{len(missing)} subjects have no kinship row: {', '.join(missing[:5])}")
    cells = table.loc[list(subject_ids), list(subject_ids)]
    K = cells.apply(lambda c: pd.to_numeric(c, errors="coerce")).to_numpy(dtype=float)
    if not np.all(np.isfinite(K)):
        i, j = np.argwhere(~np.isfinite(K))[0]
        raise InputError(path, f"kinship entry ({subject_ids[i]}, {subject_ids[j]}) is not a finite number: "
                         f"{cells.iloc[i, j]!r}")
    try:
        kinship_eigen(K, len(subject_ids), name="kinship")
    except ValueError as err:
        raise InputError(path, str(err)) from None
    log.add(f"{path}: kinship of {len(subject_ids)} subjects")
    return K
