"""Subject tables: regional QTs (CSV/TSV, FreeSurfer ``aparcstats2table``/``asegstats2table``) and covariates.

Every table has one row per subject and a subject-id column (by default the first column, which is
where FreeSurfer puts it, headed e.g. ``lh.aparc.thickness`` or ``Measure:volume``). The delimiter
(comma, tab, semicolon or white space) is read off the header line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from jaxgen.io.errors import InputError
from jaxgen.io.log import ReadLog

__all__ = ["MISSING_POLICIES", "read_covariates", "read_qt_table", "read_table"]

MISSING_POLICIES = ("error", "drop", "mean")


def read_table(path: str | Path, *, id_column: str | None = None) -> pd.DataFrame:
    """A subject table as strings, indexed by subject id (str); its columns in file order.

    Raises InputError for a missing or empty file, an unknown ``id_column``, empty or duplicated ids.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    with path.open(errors="replace") as handle:
        header = handle.readline()
    if not header.strip():
        raise InputError(path, "the file is empty (no header line)")
    try:
        table = pd.read_csv(path, sep=_delimiter(header), dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(path, f"not a readable table: {err}") from None
    table.columns = [str(c).strip() for c in table.columns]
    id_column = id_column or table.columns[0]
    if id_column not in table.columns:
        raise InputError(path, f"no subject-id column {id_column!r}; columns are {_preview(table.columns)}")
    if table.empty:
        raise InputError(path, "the table has a header but no subject rows")
    ids = table.pop(id_column).str.strip()
    if ids.isna().any() or (ids == "").any():
        row = int(np.flatnonzero(ids.isna() | (ids == ""))[0]) + 2
        raise InputError(path, f"line {row} has no subject id (column {id_column!r})")
    repeated = ids[ids.duplicated(keep=False)]
    if len(repeated):
        raise InputError(path, f"duplicated subject ids in column {id_column!r}: "
                         + ", ".join(f"{s} (lines {', '.join(str(i + 2) for i in np.flatnonzero(ids == s))})"
                                     for s in repeated.unique()[:5]))
    table.index = pd.Index(ids.to_numpy(), name="subject")
    return table


def read_qt_table(path: str | Path, *, id_column: str | None = None, columns: Sequence[str] | None = None,
                  missing: str = "error", log: ReadLog | None = None) -> pd.DataFrame:
    """Numeric QTs (subjects × regions), float64, indexed by subject id.

    columns : the QT columns to keep, in this order (default: every column but the id).
    missing : what to do with empty or NA cells — "error", "drop" (drop the subject) or "mean"
        (impute the column mean). A non-numeric cell is always an error naming its line and column;
        so is a constant QT.
    """
    log = log or ReadLog()
    table = _selected(read_table(path, id_column=id_column), path, columns)
    values = pd.DataFrame({name: _numeric_column(table[name], path, name) for name in table.columns},
                          index=table.index)
    values = _complete(values, path, missing, log, "QT columns with no variation across subjects")
    log.add(f"{path}: {values.shape[0]} subjects, {values.shape[1]} QT columns")
    return values


def read_covariates(path: str | Path, *, id_column: str | None = None, columns: Sequence[str] | None = None,
                    missing: str = "error", log: ReadLog | None = None) -> pd.DataFrame:
    """Covariates (subjects × columns), float64, without an intercept.

    A numeric column is kept as is; a column with any non-numeric cell is categorical and one-hot
    encoded against its first level in sorted order (``sex`` with F/M gives ``sex_M``). Constant
    columns are an error: the intercept already spans them.
    """
    log = log or ReadLog()
    table = _selected(read_table(path, id_column=id_column), path, columns)
    encoded = []
    for name in table.columns:
        column = table[name].str.strip()
        numbers = pd.to_numeric(column, errors="coerce")
        if (numbers.notna() | column.isna()).all():
            encoded.append(numbers.rename(name).astype(float))
            continue
        if column.isna().any():
            raise InputError(path, f"categorical covariate {name!r} has {int(column.isna().sum())} empty cells "
                             f"(first on line {int(np.flatnonzero(column.isna())[0]) + 2})")
        levels = sorted(column.unique())
        if len(levels) == 1:
            raise InputError(path, f"constant covariates (the intercept spans them): {name}")
        dummies = pd.DataFrame({f"{name}_{level}": (column == level).astype(float) for level in levels[1:]},
                               index=column.index)
        log.add(f"{path}: covariate {name!r} is categorical with levels {_preview(levels)}; one-hot encoded "
                f"against {levels[0]!r}")
        encoded.append(dummies)
    values = pd.concat(encoded, axis=1) if encoded else pd.DataFrame(index=table.index)
    values = _complete(values, path, missing, log, "constant covariates (the intercept spans them)")
    log.add(f"{path}: {values.shape[0]} subjects, covariates {_preview(values.columns)}")
    return values


def _delimiter(header: str) -> str:
    """The separator pandas should use, judged from the header line."""
    for sep in ("\t", ",", ";"):
        if sep in header:
            return sep
    return r"\s+"


def _selected(table: pd.DataFrame, path, columns) -> pd.DataFrame:
    if columns is None:
        if table.shape[1] == 0:
            raise InputError(path, "the table has a subject-id column and nothing else")
        return table
    unknown = [c for c in columns if c not in table.columns]
    if unknown:
        raise InputError(path, f"no column {_preview(unknown)}; the table has {_preview(table.columns)}")
    return table[list(columns)]


def _numeric_column(column: pd.Series, path, name) -> pd.Series:
    """``column`` as float64; a non-numeric cell raises InputError naming its line."""
    numbers = pd.to_numeric(column.str.strip(), errors="coerce")
    bad = numbers.isna() & column.notna() & (column.str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(path, f"column {name!r} is not numeric: line {i + 2} (subject {column.index[i]}) "
                         f"holds {column.iloc[i]!r}")
    return numbers.astype(float)


def _complete(values: pd.DataFrame, path, missing: str, log: ReadLog, constant_problem: str) -> pd.DataFrame:
    """Apply the missing-value policy, then refuse constant columns (``constant_problem`` says why)."""
    values = _apply_missing_policy(values, path, missing, log)
    constant = [name for name in values.columns if not values[name].std() > 0]
    if constant:
        raise InputError(path, f"{constant_problem}: {_preview(constant)}")
    return values


def _apply_missing_policy(values: pd.DataFrame, path, missing: str, log: ReadLog) -> pd.DataFrame:
    """Handle NaN cells by ``missing`` (see :data:`MISSING_POLICIES`); nothing NaN comes back."""
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")
    holes = values.isna()
    if not holes.any().any():
        return values
    count, columns = int(holes.to_numpy().sum()), holes.columns[holes.any()].tolist()
    where = f"{count} missing cells in columns {_preview(columns)}"
    if missing == "error":
        first = holes.any(axis=1).to_numpy().argmax()
        raise InputError(path, f"{where} (first: subject {values.index[first]}); choose a missing-value policy "
                         "(drop the subjects or impute the mean) or fill them")
    if missing == "drop":
        kept = values[~holes.any(axis=1)]
        if kept.empty:
            raise InputError(path, f"{where}: dropping subjects with missing cells leaves none")
        log.add(f"{path}: {where}; dropped {len(values) - len(kept)} subjects with missing cells")
        return kept
    if values[columns].isna().all().any():
        raise InputError(path, f"{where}: a column with no value at all cannot be mean-imputed")
    log.add(f"{path}: {where}; imputed by the column means")
    return values.fillna(values.mean())


def _preview(names, limit: int = 8) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:limit]) + (f" … ({len(names)} in all)" if len(names) > limit else "")
