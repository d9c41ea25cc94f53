"""Small Markdown writers for reports: tables and documents assembled from sections."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["markdown_table", "format_number"]


def format_number(value) -> str:
    """Numbers for humans: 4 significant digits, scientific below 1e-3, integers and text as they are."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "–"
        return f"{value:.3g}" if value != 0 and abs(value) < 1e-3 else f"{value:.4g}"
    return str(value)


def markdown_table(table: pd.DataFrame, index: bool = False) -> str:
    """A GitHub-flavoured Markdown table of ``table`` (numbers through :func:`format_number`)."""
    if index:
        table = table.reset_index()
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    numeric = [pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
               for c in table.columns]
    rule = "| " + " | ".join("---:" if n else "---" for n in numeric) + " |"
    rows = ["| " + " | ".join(format_number(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *rows])
