"""The long results format that every stage of snpapp reads and writes.

One row per measured value::

    scenario, workload, metric, value, unit, rep, host, run_id, attempt, status, started_at

``scenario``, ``metric`` and ``value`` are required; the rest are optional.
Rows whose ``status`` is not ``ok`` are kept (they are counted and shown) but
left out of the statistics. Files are ``.csv`` or ``.jsonl``; a campaign
directory holds ``results.csv`` plus ``campaign.json`` (its declared baseline
and whether it is a local emulated profile).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from snpappliance.errors import InputError
from snpappliance.fsutil import ensure_writable_dir, fsync_dir

REQUIRED_COLUMNS = ("scenario", "metric", "value")
OPTIONAL_COLUMNS = (
    "workload",
    "unit",
    "rep",
    "host",
    "run_id",
    "attempt",
    "status",
    "started_at",
)
#: Column order of every results file snpapp writes.
COLUMNS = ("scenario", "workload", "metric", "value", "unit", "rep", "host", "run_id",
           "attempt", "status", "started_at")  # fmt: skip
STATUS_OK = "ok"
RESULTS_FILE = "results.csv"
CAMPAIGN_INFO_FILE = "campaign.json"
CAMPAIGNS_DIR = Path("campaigns")


class Direction(StrEnum):
    """Whether a larger value of a metric is an improvement."""

    HIGHER = "higher"
    LOWER = "lower"

    @property
    def better_word(self) -> str:
        return "higher is better" if self is Direction.HIGHER else "lower is better"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    direction: Direction
    title: str


#: Metrics snpapp produces itself; other metrics are accepted with a guessed direction.
KNOWN_METRICS: Mapping[str, Metric] = {
    m.name: m
    for m in (
        Metric("cpu_perf", "events/s", Direction.HIGHER, "CPU throughput (sysbench cpu)"),
        Metric("ram_bw_mib_s", "MiB/s", Direction.HIGHER, "Memory bandwidth (sysbench memory)"),
        Metric("wall_s", "s", Direction.LOWER, "Wall-clock time (GNU time %e)"),
        Metric("cpu_wall_s", "s", Direction.LOWER, "Wall-clock time of sysbench cpu"),
        Metric("ram_wall_s", "s", Direction.LOWER, "Wall-clock time of sysbench memory"),
    )
}

_TIME_UNITS = {"s", "sec", "seconds", "ms", "us", "µs", "ns", "min"}


def metric_info(name: str, unit: str | None = None) -> Metric:
    """The :class:`Metric` for ``name``; unknown metrics that look like times are lower-better."""
    if name in KNOWN_METRICS:
        return KNOWN_METRICS[name]
    unit = unit or ""
    looks_like_time = unit.lower() in _TIME_UNITS or name.endswith(("_s", "_ms", "_time", "_sec"))
    return Metric(name, unit, Direction.LOWER if looks_like_time else Direction.HIGHER, name)


@dataclass(frozen=True)
class CampaignInfo:
    """What a campaign directory declares about itself (``campaign.json``)."""

    campaign_id: str
    baseline: str | None = None
    profile: str | None = None
    emulated: bool = False
    label: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path) -> CampaignInfo | None:
        path = directory / CAMPAIGN_INFO_FILE
        if not path.is_file():
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read {path}: {exc}") from exc
        known = {"campaign_id", "baseline", "profile", "emulated", "label"}
        return cls(
            campaign_id=str(raw.get("campaign_id", directory.name)),
            baseline=raw.get("baseline"),
            profile=raw.get("profile"),
            emulated=bool(raw.get("emulated", False)),
            label=raw.get("label"),
            extra={k: v for k, v in raw.items() if k not in known},
        )

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "campaign_id": self.campaign_id,
            "baseline": self.baseline,
            "profile": self.profile,
            "emulated": self.emulated,
            "label": self.label,
        }
        data.update(self.extra)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class ResultSet:
    """Validated results: a DataFrame in the long format, plus where it came from."""

    frame: pd.DataFrame
    source: Path
    campaign: CampaignInfo | None

    @property
    def ok(self) -> pd.DataFrame:
        """Rows that enter the statistics."""
        return self.frame[self.frame["status"] == STATUS_OK]

    @property
    def not_ok(self) -> pd.DataFrame:
        return self.frame[self.frame["status"] != STATUS_OK]

    @property
    def scenarios(self) -> list[str]:
        """Scenarios in order of first appearance."""
        return list(dict.fromkeys(self.frame["scenario"]))

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(self.frame["metric"]))


def resolve_results_path(path: Path) -> tuple[Path, CampaignInfo | None]:
    """The results file behind ``path`` (a file or a campaign directory)."""
    if path.is_dir():
        candidate = path / RESULTS_FILE
        if not candidate.is_file():
            raise InputError(
                f"{path} is a directory without {RESULTS_FILE}",
                hint="pass a campaign directory (campaigns/<id>/) or a .csv/.jsonl results file",
            )
        return candidate, CampaignInfo.load(path)
    if not path.exists():
        raise InputError(
            f"results file {path} does not exist",
            hint="run `snpapp campaign` first, or pass a .csv/.jsonl file in the long format",
        )
    return path, None


def latest_campaign(root: Path = CAMPAIGNS_DIR) -> Path | None:
    """The most recently modified campaign directory under ``root`` that has results."""
    if not root.is_dir():
        return None
    found = [d for d in root.iterdir() if d.is_dir() and (d / RESULTS_FILE).is_file()]
    return max(found, key=lambda d: (d / RESULTS_FILE).stat().st_mtime, default=None)


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputError(f"results file {path} is empty", hint="it needs a header and rows")
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=True)
        if suffix in (".jsonl", ".ndjson"):
            return _read_jsonl(path)
    except pd.errors.ParserError as exc:
        raise InputError(f"{path} is not valid CSV: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text") from exc
    raise InputError(
        f"{path}: unsupported results format {suffix or '(no suffix)'}",
        hint="use a .csv or .jsonl file in the long format (scenario, metric, value, ...)",
    )


def _read_jsonl(path: Path) -> pd.DataFrame:
    records: list[dict[str, str]] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: not a JSON object: {exc.msg}") from exc
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object per line")
            records.append({k: "" if v is None else str(v) for k, v in obj.items()})
    return pd.DataFrame.from_records(records).fillna("")


def _line_number(path: Path, index: int) -> int:
    """1-based line of data row ``index`` (CSV has a header line; JSONL has none)."""
    return index + (2 if path.suffix.lower() == ".csv" else 1)


def validate_frame(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check columns and values of a raw table and give it the canonical shape."""
    if raw.empty:
        raise InputError(f"results file {path} has no data rows")
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(
            f"{path} lacks the required column(s) {', '.join(missing)}",
            hint="the long format needs at least: scenario, metric, value",
        )
    frame = raw.copy()
    for column in OPTIONAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame = pd.DataFrame(frame[list(COLUMNS)].astype(str))
    for column in COLUMNS:
        frame[column] = frame[column].str.strip()
    frame["status"] = frame["status"].replace("", STATUS_OK)
    for column in ("scenario", "metric"):
        empty = frame.index[frame[column] == ""]
        if len(empty):
            raise InputError(f"{path}:{_line_number(path, int(empty[0]))}: empty {column!r}")
    values = pd.to_numeric(frame["value"], errors="coerce")
    ok = frame["status"] == STATUS_OK
    bad = frame.index[ok & ~np.isfinite(values.astype(float))]
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"{path}:{_line_number(path, i)}: column 'value' is not a finite number: "
            f"{frame.at[i, 'value']!r}",
            hint="every row with status 'ok' needs a numeric value",
        )
    frame["value"] = values
    return frame.reset_index(drop=True)


def load_results(path: Path) -> ResultSet:
    """Load and validate a results file or campaign directory."""
    results_path, campaign = resolve_results_path(path)
    frame = validate_frame(_read_table(results_path), results_path)
    return ResultSet(frame=frame, source=results_path, campaign=campaign)


def _row_values(row: Mapping[str, object]) -> list[str]:
    unknown = set(row) - set(COLUMNS)
    if unknown:
        msg = f"unknown result column(s): {', '.join(sorted(unknown))}"
        raise ValueError(msg)
    return ["" if row.get(c) is None else str(row.get(c)) for c in COLUMNS]


def append_rows(path: Path, rows: Iterable[Mapping[str, object]]) -> int:
    """Append rows to a CSV results file, creating it with a header; fsync before returning.

    The rows are written in one ``write`` call so that a crash leaves either all
    of them or none (apart from a torn last line, which :func:`repair_tail` drops).
    """
    ensure_writable_dir(path.parent)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    new_file = not path.exists() or path.stat().st_size == 0
    if new_file:
        writer.writerow(COLUMNS)
    elif not _header_matches(path):
        raise InputError(
            f"{path} exists but its header is not snpapp's results header",
            hint=f"write to a new file, or use one that starts with: {','.join(COLUMNS)}",
        )
    count = 0
    for row in rows:
        writer.writerow(_row_values(row))
        count += 1
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(buffer.getvalue())
        fh.flush()
        os.fsync(fh.fileno())
    if new_file:
        fsync_dir(path.parent)
    return count


def _header_matches(path: Path) -> bool:
    with path.open(encoding="utf-8", newline="") as fh:
        first = fh.readline()
    return next(csv.reader([first]), []) == list(COLUMNS)


def repair_tail(path: Path) -> bool:
    """Drop a torn last line (a crash mid-append); return whether anything was cut."""
    if not path.is_file():
        return False
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return False
    cut = data.rfind(b"\n") + 1
    with path.open("r+b") as fh:
        fh.truncate(cut)
        fh.flush()
        os.fsync(fh.fileno())
    return True


def rows_to_frame(rows: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Rows as a canonical frame (used by tests and benchmarks to build fixtures)."""
    return pd.DataFrame([_row_values(r) for r in rows], columns=list(COLUMNS))
