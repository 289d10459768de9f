"""Macro smoke tests (Phoronix Test Suite) stored apart from the statistics: ``smoke.csv``.

A campaign that declares ``[workloads.pts]`` writes one row per PTS result and
scenario to ``campaigns/<id>/smoke.csv``, never to ``results.csv``: the smoke
tests are reported beside the statistics (value relative to the baseline's,
n = PTS iterations) and no significance is claimed for them.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from snpappliance.errors import InputError
from snpappliance.formats.results import Direction
from snpappliance.fsutil import ensure_writable_dir

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

SMOKE_COLUMNS = (
    "scenario",
    "host",
    "test",
    "metric",
    "unit",
    "direction",
    "value",
    "raw_values",
    "status",
    "run_id",
)
_HINT = "smoke.csv is written by `snpapp campaign`; restore it or delete it to omit the section"


class SmokeStatus(StrEnum):
    OK = "ok"
    #: The test (empty Value) or the whole smoke run failed.
    FAILED = "failed"
    #: The guest's encryption evidence contradicted its scenario.
    INVALID = "invalid"


@dataclass(frozen=True)
class SmokeResult:
    """One PTS result of one system: the mean, the per-iteration values, its direction."""

    test: str
    title: str
    unit: str
    direction: Direction
    system: str
    #: The mean PTS reports; None when the test failed (empty Value).
    value: float | None
    raw: tuple[float, ...]
    #: The result's Arguments description ("" when absent), e.g. "Test: Compression Rating".
    arguments: str = ""

    @property
    def status(self) -> SmokeStatus:
        return SmokeStatus.FAILED if self.value is None else SmokeStatus.OK


@dataclass(frozen=True)
class SmokeRow:
    """One PTS result of one scenario (and host) as stored in ``smoke.csv``."""

    scenario: str
    host: str
    test: str
    metric: str
    unit: str
    #: None on the row of a smoke run that failed as a whole.
    direction: Direction | None
    value: float | None
    raw: tuple[float, ...]
    status: SmokeStatus
    run_id: str

    @property
    def iterations(self) -> int:
        return len(self.raw)


def smoke_rows(
    results: Iterable[SmokeResult],
    *,
    scenario: str,
    host: str,
    run_id: str,
    status: SmokeStatus | None = None,
) -> list[SmokeRow]:
    """The rows of one smoke run; the metric is the PTS title and its arguments.

    ``status`` (e.g. invalid) overrides every result's own status.
    """
    return [
        SmokeRow(
            scenario=scenario,
            host=host,
            test=r.test,
            metric=f"{r.title}: {r.arguments}" if r.arguments else r.title,
            unit=r.unit,
            direction=r.direction,
            value=r.value,
            raw=r.raw,
            status=status or r.status,
            run_id=run_id,
        )
        for r in results
    ]


def failed_smoke_rows(
    tests: Iterable[str], *, scenario: str, host: str, run_id: str, status: SmokeStatus
) -> list[SmokeRow]:
    """One row per declared test of a smoke run that produced no results at all."""
    return [
        SmokeRow(scenario, host, f"pts/{t}", "", "", None, None, (), status, run_id) for t in tests
    ]


def _values(row: SmokeRow) -> list[str]:
    return [
        row.scenario,
        row.host,
        row.test,
        row.metric,
        row.unit,
        row.direction.value if row.direction else "",
        "" if row.value is None else repr(row.value),
        ":".join(repr(v) for v in row.raw),
        row.status.value,
        row.run_id,
    ]


def append_smoke(path: Path, rows: Sequence[SmokeRow]) -> None:
    """Append ``rows`` to ``smoke.csv`` (header first when new), in one write, fsynced."""
    ensure_writable_dir(path.parent)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if not path.exists() or path.stat().st_size == 0:
        writer.writerow(SMOKE_COLUMNS)
    writer.writerows(_values(r) for r in rows)
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(buffer.getvalue())
        fh.flush()
        os.fsync(fh.fileno())


def load_smoke(path: Path) -> list[SmokeRow]:
    """Read ``smoke.csv``; a wrong header or value is an InputError naming the line."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != SMOKE_COLUMNS:
            msg = f"{path} does not start with the smoke header {','.join(SMOKE_COLUMNS)}"
            raise InputError(
                msg,
                hint=_HINT,
            )
        return [_row(record, f"{path}:{n}") for n, record in enumerate(reader, start=2)]


def _row(record: dict[str, str], where: str) -> SmokeRow:
    try:
        value = record["value"]
        raw = record["raw_values"]
        return SmokeRow(
            scenario=record["scenario"],
            host=record["host"],
            test=record["test"],
            metric=record["metric"],
            unit=record["unit"],
            direction=Direction(record["direction"]) if record["direction"] else None,
            value=float(value) if value else None,
            raw=tuple(float(v) for v in raw.split(":")) if raw else (),
            status=SmokeStatus(record["status"]),
            run_id=record["run_id"],
        )
    except (ValueError, TypeError) as exc:
        msg = f"{where}: invalid smoke row ({exc})"
        raise InputError(msg, hint=_HINT) from exc


@dataclass(frozen=True)
class SmokeLine:
    """One line of the report's smoke table."""

    host: str
    test: str
    metric: str
    unit: str
    direction: Direction | None
    scenario: str
    row: SmokeRow
    #: value / the baseline's value of the same test and host; None when either is missing.
    ratio: float | None


def relative_to_baseline(rows: Sequence[SmokeRow], baseline: str) -> list[SmokeLine]:
    """Every row with its ratio to the baseline's value (same host, test and metric)."""
    base = {
        (r.host, r.test, r.metric): r.value
        for r in rows
        if r.scenario == baseline and r.value is not None
    }
    lines = []
    for r in rows:
        reference = base.get((r.host, r.test, r.metric))
        ratio = r.value / reference if r.value is not None and reference else None
        lines.append(SmokeLine(r.host, r.test, r.metric, r.unit, r.direction, r.scenario, r, ratio))
    return sorted(lines, key=lambda x: (x.host, x.test, x.metric, x.scenario != baseline))
