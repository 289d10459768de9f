"""Results files read into a validated DataFrame (:class:`ResultSet`) for the report.

The format itself (columns, metrics, the rules of a valid row) is
:mod:`snpappliance.formats.results`; this module applies it to whole tables.
Text columns are categorical, so that millions of rows that repeat a few
scenario, metric and host names take a few bytes each; ``value`` is float64.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pandas as pd

from snpappliance.errors import InputError
from snpappliance.formats.results import (
    COLUMNS,
    REQUIRED_COLUMNS,
    ROW_KEY,
    STATUS_OK,
    CampaignInfo,
    check_column_names,
    metric_info,
    resolve_results_path,
    value_problem,
)

#: Repeated rows named in an error, at most.
SHOWN_REPEATS = 5
#: Progress callback: bytes read so far.
Advance = Callable[[int], None]


@dataclass(frozen=True, eq=False)
class ResultSet:
    """Validated results: a DataFrame in the long format, plus where it came from."""

    frame: pd.DataFrame
    source: Path
    campaign: CampaignInfo | None

    @cached_property
    def ok(self) -> pd.DataFrame:
        """Rows that enter the statistics."""
        return self.frame[(self.frame["status"] == STATUS_OK).to_numpy()]

    @cached_property
    def not_ok(self) -> pd.DataFrame:
        return self.frame[(self.frame["status"] != STATUS_OK).to_numpy()]

    @cached_property
    def scenarios(self) -> list[str]:
        """Scenarios in order of first appearance."""
        return _in_order(self.frame["scenario"])

    @cached_property
    def metrics(self) -> list[str]:
        return _in_order(self.frame["metric"])

    @cached_property
    def series(self) -> list[tuple[str, str]]:
        """Every (workload, metric), grouped by workload: workloads in order of first
        appearance, each with its metrics in order of first appearance ("" = no workload)."""
        pairs = self.frame[["workload", "metric"]].drop_duplicates()
        found = list(zip(_strings(pairs["workload"]), _strings(pairs["metric"]), strict=True))
        rank = {w: i for i, w in enumerate(dict.fromkeys(w for w, _ in found))}
        return sorted(found, key=lambda pair: rank[pair[0]])


def _in_order(column: pd.Series) -> list[str]:
    return [str(v) for v in pd.unique(column)]


def _strings(column: pd.Series) -> list[str]:
    return [str(v) for v in column.tolist()]


class _Counting:
    """A binary file that reports how many bytes were read (for a progress bar)."""

    def __init__(self, fh: IO[bytes], advance: Advance) -> None:
        self._fh = fh
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self._advance(len(data))
        return data

    def __iter__(self) -> Any:
        return iter(self._fh)


def read_table(path: Path, advance: Advance | None = None) -> pd.DataFrame:
    """The raw table of a ``.csv`` or ``.jsonl`` file: text columns, nothing checked yet."""
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        msg = f"results file {path} is empty"
        raise InputError(msg, hint="it needs a header and rows")
    try:
        if suffix == ".csv":
            return _read_csv(path, advance or (lambda _: None))
        if suffix in (".jsonl", ".ndjson"):
            return _read_jsonl(path)
    except pd.errors.ParserError as exc:
        msg = f"{path} is not valid CSV: {exc}"
        raise InputError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"{path} is not UTF-8 text"
        raise InputError(msg) from exc
    msg = f"{path}: unsupported results format {suffix or '(no suffix)'}"
    raise InputError(
        msg,
        hint="use a .csv or .jsonl file in the long format (scenario, metric, value, ...)",
    )


def _read_csv(path: Path, advance: Advance) -> pd.DataFrame:
    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    check_column_names(header, path)
    dtypes: dict[str, Any] = dict.fromkeys(header, "category")
    dtypes.update({name: str for name in header if name.strip() == "value"})
    with path.open("rb") as fh:
        frame: pd.DataFrame = pd.read_csv(
            cast("Any", _Counting(fh, advance)),
            dtype=dtypes,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            encoding="utf-8",
        )
    return frame


def _unique_keys(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        msg = f"the key {repeated[0]!r} appears twice"
        raise ValueError(msg)
    return dict(pairs)


def _read_jsonl(path: Path) -> pd.DataFrame:
    records: list[dict[str, str]] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, object_pairs_hook=_unique_keys)
            except ValueError as exc:
                msg = f"{path}:{lineno}: not a JSON object: {exc}"
                raise InputError(msg) from exc
            if not isinstance(obj, dict):
                msg = f"{path}:{lineno}: expected a JSON object per line"
                raise InputError(msg)
            records.append({k: "" if v is None else str(v) for k, v in obj.items()})
    return pd.DataFrame.from_records(records).fillna("")


def _line_number(path: Path, index: int) -> int:
    """1-based line of data row ``index`` (CSV has a header line; JSONL has none)."""
    return index + (2 if path.suffix.lower() == ".csv" else 1)


def _stripped_category(column: pd.Series, empty: str = "") -> pd.Series:
    """``column`` as a categorical of stripped strings, ``empty`` for an empty one.

    Only the categories are rewritten; values that become equal merge.
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(str).astype("category")
    given = pd.Index(column.cat.categories.astype(str), dtype=object)
    canonical = given.is_monotonic_increasing and not (given == "").any()
    if canonical and given.str.strip().equals(given):
        # Already stripped, non-empty and sorted (as read_csv makes them): the
        # common case, and with a category per run_id the costly one to rebuild.
        return pd.Series(
            pd.Categorical.from_codes(column.cat.codes.to_numpy(), categories=given),
            index=column.index,
            name=column.name,
        )
    categories = [str(c).strip() or empty for c in column.cat.categories]
    merged, codes = np.unique(np.array(categories, dtype=object), return_inverse=True)
    old = column.cat.codes.to_numpy()
    new = codes[old] if len(codes) else old
    return pd.Series(
        pd.Categorical.from_codes(new, categories=pd.Index(merged, dtype=object)),
        index=column.index,
        name=column.name,
    )


def validate_frame(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check columns and values of a raw table and give it the canonical shape."""
    if raw.empty:
        msg = f"results file {path} has no data rows"
        raise InputError(msg)
    raw = raw.rename(columns=lambda c: str(c).strip())
    check_column_names(list(raw.columns), path)
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        msg = f"{path} lacks the required column(s) {', '.join(missing)}"
        raise InputError(
            msg,
            hint="the long format needs at least: scenario, metric, value",
        )
    data: dict[str, pd.Series] = {}
    index = pd.RangeIndex(len(raw))
    for column in COLUMNS:
        if column == "value":
            continue
        source = raw[column] if column in raw.columns else pd.Series("", index=raw.index)
        default = STATUS_OK if column == "status" else ""
        data[column] = _stripped_category(source.reset_index(drop=True), default)
    for column in ("scenario", "metric"):
        empty = np.flatnonzero((data[column] == "").to_numpy())
        if len(empty):
            msg = f"{path}:{_line_number(path, int(empty[0]))}: empty {column!r}"
            raise InputError(msg)
    text = raw["value"].reset_index(drop=True).astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    ok = (data["status"] == STATUS_OK).to_numpy()
    _check_values(values, ok, text, data, path)
    frame = pd.DataFrame({**data, "value": values}, index=index)[list(COLUMNS)]
    _check_repeats(frame, path)
    return frame


def _check_values(
    values: np.ndarray,
    ok: np.ndarray,
    text: pd.Series,
    data: Mapping[str, pd.Series],
    path: Path,
) -> None:
    """Every ok value is finite, within range, and ≥ 0 where its metric's kind demands it."""
    bad = ok & ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = (
            f"{path}:{_line_number(path, i)}: column 'value' is not a finite number: "
            f"{text.iat[i]!r}"
        )
        raise InputError(
            msg,
            hint="every row with status 'ok' needs a numeric value",
        )
    metric, unit = data["metric"], data["unit"]
    codes = metric.cat.codes.to_numpy()
    for code, name in enumerate(metric.cat.categories):
        mine = ok & (codes == code)
        if not mine.any():
            continue
        low, high = float(values[mine].min()), float(values[mine].max())
        first_unit = next((str(u) for u in unit[mine].unique() if str(u)), None)
        info = metric_info(str(name), first_unit)
        for extreme in (low, high):
            problem = value_problem(extreme, info)
            if problem is not None:
                i = int(np.flatnonzero(mine & (values == extreme))[0])
                msg = (
                    f"{path}:{_line_number(path, i)}: the value {text.iat[i]!r} of {name} {problem}"
                )
                raise InputError(
                    msg,
                    hint="fix or remove the row; a failed run belongs in a row whose "
                    "status is not ok",
                )


def _check_repeats(frame: pd.DataFrame, path: Path) -> None:
    """No two rows with a run_id share the same run, metric and attempt."""
    identified = (frame["run_id"] != "").to_numpy()
    if not identified.any():
        return
    keys = frame.loc[identified, list(ROW_KEY)]
    repeated = keys.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return
    rows = np.flatnonzero(identified)[repeated]
    groups = keys.iloc[np.flatnonzero(repeated)].groupby(list(ROW_KEY), observed=True, sort=False)
    shown = []
    for key, group in groups:
        lines = ", ".join(str(_line_number(path, int(i))) for i in group.index[:4])
        scenario, _, run_id, workload, metric, attempt = (str(k) for k in key)
        label = (
            f"run {run_id} ({scenario}), workload {workload or '(none)'}, metric {metric}, "
            f"attempt {attempt or '(none)'}"
        )
        shown.append(f"lines {lines}: {label}")
        if len(shown) == SHOWN_REPEATS:
            break
    msg = f"{path} repeats {len(rows)} rows: a run has one value per metric and attempt"
    raise InputError(
        msg,
        detail="\n".join(shown),
        hint="the file may have been concatenated or imported twice; keep one copy of each row",
    )


def load_results(path: Path, advance: Advance | None = None) -> ResultSet:
    """Load and validate a results file or campaign directory.

    ``advance`` is called with the number of bytes read, as they are read.
    """
    results_path, campaign = resolve_results_path(path)
    frame = validate_frame(read_table(results_path, advance), results_path)
    return ResultSet(frame=frame, source=results_path, campaign=campaign)


def rows_to_frame(rows: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Rows as a raw text frame in the column order of the format (for tests and fixtures)."""
    return pd.DataFrame(
        [["" if r.get(c) is None else str(r.get(c)) for c in COLUMNS] for r in rows],
        columns=list(COLUMNS),
    )
