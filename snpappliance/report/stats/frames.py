"""Typed frames and full-precision text for the statistics tables.

Counts are ``int64``, statistics ``float64`` (NaN for an empty cell), labels
``object`` (``None`` for an empty cell). In files a float is written with
``repr`` (the shortest text that reads back to the same double) and an empty
cell as nothing.
"""

from __future__ import annotations

import csv
import io
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

TEXT_COLUMNS = frozenset(
    {
        "scenario",
        "workload",
        "metric",
        "baseline",
        "mwu_method",
        "cliffs_delta_ci_method",
        "magnitude",
        "rep",
        "run_id",
        "status",
    }
)
INT_COLUMNS = frozenset({"n", "n_removed", "n_baseline", "n_scenario", "count"})


def typed_frame(rows: Iterable[Mapping[Any, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A frame with exactly ``columns`` in that order, typed as described above.

    Built column by column: pandas would otherwise infer its string dtype for
    label columns and turn ``None`` into NaN.
    """
    rows = list(rows)
    data = {c: pd.Series([row.get(c) for row in rows], dtype=_dtype(c), name=c) for c in columns}
    return pd.DataFrame(data, columns=list(columns))


def _dtype(column: str) -> type:
    if column in TEXT_COLUMNS:
        return object
    return np.int64 if column in INT_COLUMNS else np.float64


def plain(value: Any) -> Any:
    """A JSON-friendly Python value: NaN and None → None, numpy scalars → int/float."""
    if value is None:
        return None
    if isinstance(value, np.integer | int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if math.isnan(value) else float(value)
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts of plain values."""
    return [
        {str(c): plain(v) for c, v in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def cell(value: Any) -> str:
    """Full precision: ``repr`` of a float, '' for NaN or None."""
    value = plain(value)
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def csv_text(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """``frame`` as CSV with exactly ``columns``, full float precision, empty cells for NaN."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in frame[list(columns)].itertuples(index=False, name=None):
        writer.writerow([cell(v) for v in row])
    return buffer.getvalue()
