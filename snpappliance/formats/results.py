"""The long results format that every stage of snpapp reads and writes.

One row per measured value::

    scenario, workload, metric, value, unit, rep, host, run_id, attempt, status, started_at

``scenario``, ``metric`` and ``value`` are required; the rest are optional.
Rows whose ``status`` is not ``ok`` are kept (they are counted and shown) but
left out of the statistics. Files are ``.csv`` or ``.jsonl``; a campaign
directory holds ``results.csv`` plus ``campaign.json`` (its declared baseline
and whether it is a local emulated profile).

The value of an ``ok`` row is a finite number within ±:data:`MAX_ABS_VALUE`,
and not negative for a throughput or a time (:func:`value_problem`). No two rows
share a :data:`ROW_KEY` (a run measures each workload's metric once per attempt:
one fio run reports the same metrics for each of its jobs), and no
column name appears twice. This module is the format only (standard library);
the report reads files into DataFrames in :mod:`snpappliance.report.load`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from snpappliance.errors import InputError
from snpappliance.formats.campaigndir import CAMPAIGNS_DIR, INFO_FILE, RESULTS_FILE
from snpappliance.fsutil import ensure_writable_dir, fsync_dir

if TYPE_CHECKING:
    from pathlib import Path

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
#: A row's identity: one value per run (of a scenario on a host), metric and attempt.
#: Rows with an empty ``run_id`` are not identified and never count as repeated.
ROW_KEY = ("scenario", "host", "run_id", "workload", "metric", "attempt")
#: Largest magnitude of a value: far above any measurement, small enough that sums
#: and squares of millions of values stay finite.
MAX_ABS_VALUE = 1e100


class Direction(StrEnum):
    """Whether a larger value of a metric is an improvement."""

    HIGHER = "higher"
    LOWER = "lower"

    @property
    def better_word(self) -> str:
        return "higher is better" if self is Direction.HIGHER else "lower is better"


class MetricKind(StrEnum):
    """What a metric measures, which bounds its values."""

    THROUGHPUT = "throughput"
    TIME = "time"
    OTHER = "other"

    @property
    def nonnegative(self) -> bool:
        return self is not MetricKind.OTHER


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    direction: Direction
    title: str
    kind: MetricKind = MetricKind.OTHER


#: Metrics snpapp produces itself; other metrics are accepted with a guessed direction.
KNOWN_METRICS: Mapping[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "cpu_perf",
            "events/s",
            Direction.HIGHER,
            "CPU throughput (sysbench cpu)",
            MetricKind.THROUGHPUT,
        ),
        Metric(
            "ram_bw_mib_s",
            "MiB/s",
            Direction.HIGHER,
            "Memory bandwidth (sysbench memory)",
            MetricKind.THROUGHPUT,
        ),
        Metric("wall_s", "s", Direction.LOWER, "Wall-clock time (GNU time %e)", MetricKind.TIME),
        Metric(
            "cpu_wall_s", "s", Direction.LOWER, "Wall-clock time of sysbench cpu", MetricKind.TIME
        ),
        Metric(
            "ram_wall_s",
            "s",
            Direction.LOWER,
            "Wall-clock time of sysbench memory",
            MetricKind.TIME,
        ),
        *(
            metric
            for direction in ("read", "write")
            for metric in (
                Metric(
                    f"fio_{direction}_bw_kib_s",
                    "KiB/s",
                    Direction.HIGHER,
                    f"Disk {direction} bandwidth (fio bw)",
                    MetricKind.THROUGHPUT,
                ),
                Metric(
                    f"fio_{direction}_iops",
                    "IOPS",
                    Direction.HIGHER,
                    f"Disk {direction} IOPS (fio iops)",
                    MetricKind.THROUGHPUT,
                ),
                Metric(
                    f"fio_{direction}_lat_mean_us",
                    "us",
                    Direction.LOWER,
                    f"Disk {direction} mean latency (fio lat_ns.mean)",
                    MetricKind.TIME,
                ),
                Metric(
                    f"fio_{direction}_clat_p99_us",
                    "us",
                    Direction.LOWER,
                    f"Disk {direction} 99th-percentile completion latency (fio clat_ns p99)",
                    MetricKind.TIME,
                ),
            )
        ),
        Metric(
            "iperf3_sender_mbit_s",
            "Mbit/s",
            Direction.HIGHER,
            "Network throughput, sender side (iperf3)",
            MetricKind.THROUGHPUT,
        ),
        Metric(
            "iperf3_receiver_mbit_s",
            "Mbit/s",
            Direction.HIGHER,
            "Network throughput, receiver side (iperf3)",
            MetricKind.THROUGHPUT,
        ),
        Metric(
            "iperf3_retransmits",
            "count",
            Direction.LOWER,
            "TCP retransmits (iperf3 sender)",
            MetricKind.OTHER,
        ),
        Metric(
            "iperf3_jitter_ms",
            "ms",
            Direction.LOWER,
            "UDP jitter (iperf3 receiver)",
            MetricKind.TIME,
        ),
        Metric(
            "iperf3_loss_pct",
            "%",
            Direction.LOWER,
            "UDP datagram loss (iperf3 receiver)",
            MetricKind.OTHER,
        ),
        Metric(
            "boot_s",
            "s",
            Direction.LOWER,
            "Boot time: QEMU start to workload start",
            MetricKind.TIME,
        ),
        Metric(
            "kernel_boot_s",
            "s",
            Direction.LOWER,
            "Guest kernel boot: kernel start to /init",
            MetricKind.TIME,
        ),
    )
}

_TIME_UNITS = {"s", "sec", "seconds", "ms", "us", "µs", "ns", "min"}


def metric_info(name: str, unit: str | None = None) -> Metric:
    """The :class:`Metric` for ``name``; unknown metrics that look like times are lower-better.

    An unknown metric is a time when its unit or name says so, a throughput when
    its unit is a rate (``…/s``), and of no particular kind otherwise.
    """
    if name in KNOWN_METRICS:
        return KNOWN_METRICS[name]
    unit = unit or ""
    looks_like_time = unit.lower() in _TIME_UNITS or name.endswith(("_s", "_ms", "_time", "_sec"))
    if looks_like_time:
        return Metric(name, unit, Direction.LOWER, name, MetricKind.TIME)
    kind = MetricKind.THROUGHPUT if unit.endswith("/s") else MetricKind.OTHER
    return Metric(name, unit, Direction.HIGHER, name, kind)


def value_problem(value: float, metric: Metric) -> str | None:
    """Why ``value`` cannot be a measurement of ``metric``, or None when it can."""
    if not math.isfinite(value):
        return "is not a finite number"
    if abs(value) > MAX_ABS_VALUE:
        return f"lies outside ±{MAX_ABS_VALUE:g}"
    if value < 0 and metric.kind.nonnegative:
        return f"is negative, but {metric.name} is a {metric.kind.value} (≥ 0)"
    return None


def check_column_names(names: Sequence[str], path: Path) -> None:
    """Refuse a header that names a column twice (which one would hold the data?)."""
    seen: set[str] = set()
    for name in names:
        key = name.strip()
        if key in seen:
            msg = f"{path}: the column {key!r} appears twice in the header"
            raise InputError(
                msg,
                hint="give every column one name; remove or rename the repeated one",
            )
        seen.add(key)


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
        path = directory / INFO_FILE
        if not path.is_file():
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            msg = f"cannot read {path}: {exc}"
            raise InputError(msg) from exc
        if not isinstance(raw, dict):
            msg = f"{path} is not a JSON object"
            raise InputError(msg, hint="restore campaign.json")
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
        return json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _no_constant(name: str) -> float:
    """``json.loads`` hook: NaN and Infinity are not JSON."""
    msg = f"{name} is not a JSON value"
    raise ValueError(msg)


def resolve_results_path(path: Path) -> tuple[Path, CampaignInfo | None]:
    """The results file behind ``path`` (a file or a campaign directory)."""
    if path.is_dir():
        candidate = path / RESULTS_FILE
        if not candidate.is_file():
            msg = f"{path} is a directory without {RESULTS_FILE}"
            raise InputError(
                msg,
                hint="pass a campaign directory (campaigns/<id>/) or a .csv/.jsonl results file",
            )
        return candidate, CampaignInfo.load(path)
    if not path.exists():
        msg = f"results file {path} does not exist"
        raise InputError(
            msg,
            hint="run `snpapp campaign` first, or pass a .csv/.jsonl file in the long format",
        )
    return path, None


def latest_campaign(root: Path = CAMPAIGNS_DIR) -> Path | None:
    """The most recently modified campaign directory under ``root`` that has results."""
    if not root.is_dir():
        return None
    found = [d for d in root.iterdir() if d.is_dir() and (d / RESULTS_FILE).is_file()]
    return max(found, key=lambda d: (d / RESULTS_FILE).stat().st_mtime, default=None)


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
        msg = f"{path} exists but its header is not snpapp's results header"
        raise InputError(
            msg,
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
