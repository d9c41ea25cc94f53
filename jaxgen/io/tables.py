"""Subject tables: regional QTs (CSV/TSV, FreeSurfer ``aparcstats2table``/``asegstats2table``) and covariates.

Every table has one row per subject and a subject-id column (by default the first column, which is
where FreeSurfer puts it, headed e.g. ``lh.aparc.thickness`` or ``Measure:volume``). The delimiter
(comma, tab, semicolon or white space) is read off the header line. Files are UTF-8; a byte-order
mark and Windows (CRLF) line ends are accepted and logged.

Values are checked where they are read, so a message can name the file, column, subject and line:
±inf (or a number beyond float64, such as 1e400) is refused, so is a column too large to
standardize in float32 (:func:`jaxgen.data.values.overflowing_column`), and extreme outliers (robust
z above :data:`jaxgen.data.values.OUTLIER_Z`) are warned about. FreeSurfer's whole-brain columns
(``eTIV``, ``BrainSegVolNotVent``, ``lh_MeanThickness_thickness`` …) are not regions: the QT reader
leaves them out (unless asked for by name) and logs them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from jaxgen.data.values import overflowing_column, warn_outliers
from jaxgen.io.errors import InputError
from jaxgen.io.freesurfer import is_global_measure
from jaxgen.io.log import ReadLog

__all__ = ["MISSING_POLICIES", "encoding_and_header", "read_covariates", "read_qt_table", "read_table"]

MISSING_POLICIES = ("error", "drop", "mean")


def read_table(path: str | Path, *, id_column: str | None = None, log: ReadLog | None = None) -> pd.DataFrame:
    """A subject table as strings, indexed by subject id (str); its columns in file order.

    Raises InputError for a missing, empty or non-UTF-8 file, an unknown ``id_column``, empty or
    duplicated ids.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    encoding, header = encoding_and_header(path, log or ReadLog())
    if not header.strip():
        raise InputError(path, "the file is empty (no header line)")
    try:
        table = pd.read_csv(path, sep=_delimiter(header), dtype=str, skipinitialspace=True, encoding=encoding)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(path, f"not a readable table: {' '.join(str(err).split())}") from None
    table.columns = _header_names(path, header, encoding, table.columns)
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
    table = read_table(path, id_column=id_column, log=log)
    if columns is None:
        table = _without_global_measures(table, path, log)
    table = _selected(table, path, columns)
    values = pd.DataFrame({name: _numeric_column(table[name], path, name) for name in table.columns},
                          index=table.index)
    values = _complete(values, path, missing, log, "QT columns with no variation across subjects", table.index)
    log.add(f"{path}: {values.shape[0]} subjects, {values.shape[1]} QT columns")
    return values


def _without_global_measures(table: pd.DataFrame, path, log: ReadLog) -> pd.DataFrame:
    """``table`` without FreeSurfer's whole-brain columns (logged by name)."""
    found = [c for c in table.columns if is_global_measure(c)]
    if not found:
        return table
    log.add(f"{path}: FreeSurfer whole-brain measures are not regions and were left out of the QTs: "
            f"{_preview(found)} (use them as covariates with --covariates-from-qt)")
    return table.drop(columns=found)


def read_covariates(path: str | Path, *, id_column: str | None = None, columns: Sequence[str] | None = None,
                    missing: str = "error", log: ReadLog | None = None) -> pd.DataFrame:
    """Covariates (subjects × columns), float64, without an intercept.

    A numeric column is kept as is; a column with any non-numeric cell is categorical and one-hot
    encoded against its first level in sorted order (``sex`` with F/M gives ``sex_M``). Constant
    columns are an error: the intercept already spans them.
    """
    log = log or ReadLog()
    table = _selected(read_table(path, id_column=id_column, log=log), path, columns)
    encoded = []
    for name in table.columns:
        column = table[name].str.strip()
        numbers = pd.to_numeric(column, errors="coerce")
        if (numbers.notna() | column.isna()).all():
            encoded.append(_numeric_column(table[name], path, name))
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
    values = _complete(values, path, missing, log, "constant covariates (the intercept spans them)", table.index)
    log.add(f"{path}: {values.shape[0]} subjects, covariates {_preview(values.columns)}")
    return values


def encoding_and_header(path: Path, log: ReadLog) -> tuple[str, str]:
    """The encoding to read ``path`` with ("utf-8" or "utf-8-sig") and its header line; refuses other
    encodings with the offending byte, and logs a byte-order mark and CRLF line ends."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(path, "the file is UTF-16 text (as Excel's 'Unicode text' saves it); save it as UTF-8 "
                         "(CSV UTF-8) or plain ASCII")
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(path, f"is not UTF-8 text: byte 0x{data[err.start]:02x} on line {line} (Latin-1 or "
                         "another encoding?); save the file as UTF-8") from None
    notes = (["starts with a UTF-8 byte-order mark (ignored)"] if encoding == "utf-8-sig" else []) \
        + (["has Windows (CRLF) line ends"] if "\r\n" in text else [])
    if notes:
        log.add(f"{path}: {' and '.join(notes)}; read as usual")
    return encoding, text.splitlines()[0] if text else ""


def _check_values(values: pd.DataFrame, path, file_order: pd.Index) -> None:
    """Refuse a column too large to standardize in float32 and warn about extreme outliers, naming the
    column, the subject and its line (``file_order`` gives the subjects in file order)."""
    if values.empty:
        return
    line = {subject: k + 2 for k, subject in enumerate(file_order)}
    M = values.to_numpy()

    def cell(i, j):
        subject = values.index[i]
        return f"column {values.columns[j]!r}, subject {subject} (line {line[subject]})"

    big = overflowing_column(M)
    if big is not None:
        raise InputError(path, f"{cell(*big)} holds {M[big]:.6g}: too large to standardize the column "
                         "(its sum of squares overflows float32); correct the value or rescale the column")
    warn_outliers(M, cell, str(path))


def _header_names(path: Path, header: str, encoding: str, parsed: Sequence) -> list[str]:
    """The column names of the header line as written, where pandas (``parsed``) renames a repeated
    name ``x`` to ``x.1``; an empty name keeps pandas' ``Unnamed: i``. InputError when a name repeats."""
    written = pd.read_csv(path, sep=_delimiter(header), header=None, nrows=1, dtype=str, keep_default_na=False,
                          skipinitialspace=True, encoding=encoding).iloc[0]
    names = [str(name).strip() or str(fallback).strip() for name, fallback in zip(written, parsed)]
    repeated = sorted({name for name in names if names.count(name) > 1}, key=names.index)
    if repeated:
        raise InputError(path, "duplicated column names in the header: " + "; ".join(
            f"{name!r} (columns {', '.join(str(i + 1) for i, n in enumerate(names) if n == name)})"
            for name in repeated[:5]))
    return names


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
    """``column`` as float64; a non-numeric cell, ±inf or a number beyond float64 raises InputError
    naming its line and subject."""
    numbers = pd.to_numeric(column.str.strip(), errors="coerce")
    bad = numbers.isna() & column.notna() & (column.str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        hint = " (a decimal comma? write 1.5, not 1,5)" if re.fullmatch(r"-?\d+,\d+", column.iloc[i].strip()) else ""
        raise InputError(path, f"column {name!r} is not numeric: line {i + 2} (subject {column.index[i]}) "
                         f"holds {column.iloc[i]!r}{hint}")
    infinite = np.isinf(numbers.to_numpy(dtype=float))
    if infinite.any():
        i = int(np.flatnonzero(infinite)[0])
        raise InputError(path, f"column {name!r}, subject {column.index[i]} (line {i + 2}) holds "
                         f"{column.iloc[i].strip()!r}, an infinite number: correct it or leave "
                         "the cell empty (a missing value)")
    return numbers.astype(float)


def _complete(values: pd.DataFrame, path, missing: str, log: ReadLog, constant_problem: str,
              file_order: pd.Index) -> pd.DataFrame:
    """Apply the missing-value policy, check the values (:func:`_check_values`), then refuse constant
    columns (``constant_problem`` says why)."""
    values = _apply_missing_policy(values, path, missing, log)
    _check_values(values, path, file_order)
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
