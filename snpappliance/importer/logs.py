"""``snpapp import``: raw benchmark logs → rows of the long results format.

A file is known by its content: fio JSON (``json``/``json+``) goes to
:func:`~snpappliance.workloads.fio.parse_fio`, iperf3 output (text or ``-J``) to
:func:`~snpappliance.workloads.iperf3.parse_iperf3`, anything else to the
sysbench / GNU time parser :func:`~snpappliance.workloads.parsers.parse_log`.

All files are read and parsed before anything is written; one bad file raises and
nothing is appended. Rows are appended to the results file with
:func:`snpappliance.formats.results.append_rows` (header check, one write, fsync).

A log is known by its content, not by the path it was given as: its run_id is
the file name plus the first 12 hex digits of its SHA-256 (``cpu-1.log@3f2a…``),
so the same file given twice (by any path) is refused, and two different files
of the same name are both imported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from snpappliance.errors import InputError, UsageError
from snpappliance.formats.results import COLUMNS, STATUS_OK, append_rows
from snpappliance.log import console
from snpappliance.workloads.fio import looks_like_fio, parse_fio
from snpappliance.workloads.iperf3 import looks_like_iperf3, parse_iperf3
from snpappliance.workloads.parsers import Measurement, parse_log

#: Files taken from a directory argument.
LOG_SUFFIXES = (".log", ".txt", ".json")
#: Hex digits of a log's SHA-256 kept in its run_id.
DIGEST_CHARS = 12
_RUN_ID = re.compile(rf".*@([0-9a-f]{{{DIGEST_CHARS}}})")

Row = dict[str, object]
ArmKey = tuple[str, str, str]  # (scenario, workload, metric)


@dataclass(frozen=True)
class ParsedLog:
    """The measurements of one raw log and when it was written."""

    path: Path
    run_id: str
    started_at: str
    measurements: tuple[Measurement, ...]
    #: The first :data:`DIGEST_CHARS` hex digits of the file's SHA-256.
    digest: str


@dataclass(frozen=True)
class ImportSummary:
    """What an import appended."""

    out: Path
    files: int
    rows_per_metric: Mapping[str, int]
    #: Rows per (workload, metric): the arms the statistics compare.
    rows_per_workload: Mapping[tuple[str, str], int]


def _natural_key(path: Path) -> tuple[str | int, ...]:
    """Sort key that puts ``cpu-2.log`` before ``cpu-10.log``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name))


def _logs_in(directory: Path) -> list[Path]:
    files = [p for p in directory.iterdir() if p.is_file() and p.suffix in LOG_SUFFIXES]
    if not files:
        msg = f"directory {directory} holds no *.log or *.txt files and no *.json reports"
        raise InputError(
            msg,
            hint="pass the log files themselves, or the directory that holds them",
        )
    return sorted(files, key=_natural_key)


def expand_inputs(paths: Sequence[Path]) -> list[Path]:
    """Files named on the command line; a directory means its ``*.log``/``*.txt``/``*.json``.

    Files of a directory are sorted naturally (``run-2`` before ``run-10``), so rep
    numbers follow the run numbers in the names.
    """
    if not paths:
        msg = "no log files given"
        raise UsageError(msg, hint="e.g. snpapp import logs/*.log --scenario ...")
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(_logs_in(path))
        elif path.is_file():
            files.append(path)
        else:
            msg = f"log file {path} does not exist"
            raise InputError(
                msg,
                hint="check the path; glob patterns are expanded by your shell",
            )
    return files


def _mtime_iso(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat(timespec="seconds")


def parse_file(text: str, *, source: str) -> list[Measurement]:
    """The measurements of one file, by its content: fio JSON, iperf3 output or a log."""
    if looks_like_fio(text):
        return parse_fio(text, source=source)
    if looks_like_iperf3(text):
        return parse_iperf3(text, source=source)
    return parse_log(text, source=source)


def read_logs(files: Sequence[Path]) -> list[ParsedLog]:
    """Parse every file; the first one that cannot be parsed raises, as does a repeated one."""
    parsed: list[ParsedLog] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            msg = f"cannot read {path}: {exc.strerror}"
            raise InputError(msg) from exc
        digest = hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]
        if digest in seen:
            msg = f"{path} has the same content as {seen[digest]}"
            raise UsageError(
                msg,
                hint="name each log once; its measurements would otherwise be counted twice",
            )
        seen[digest] = path
        measurements = parse_file(data.decode("utf-8", errors="replace"), source=str(path))
        run_id = f"{path.name}@{digest}"
        parsed.append(ParsedLog(path, run_id, _mtime_iso(path), tuple(measurements), digest))
    return parsed


def _existing_rows(out: Path) -> list[dict[str, str]]:
    """Rows already in ``out`` (none if it does not exist yet), after checking its shape."""
    if not out.exists():
        return []
    try:
        text = out.read_bytes().decode("utf-8")
    except OSError as exc:
        msg = f"cannot read {out}: {exc.strerror}"
        raise InputError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"{out} is not UTF-8 text"
        raise InputError(msg, hint="write to a new results file") from exc
    if not text:
        return []
    if not text.endswith("\n"):
        msg = f"{out} does not end with a newline: its last line may be cut off"
        raise InputError(
            msg,
            hint="check the last line of the file, complete or delete it, then run again",
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    if next(reader, []) != list(COLUMNS):
        msg = f"{out} exists but its header is not snpapp's results header"
        raise InputError(
            msg,
            hint=f"write to a new file, or use one that starts with: {','.join(COLUMNS)}",
        )
    return [dict(zip(COLUMNS, row, strict=False)) for row in reader if row]


def _last_reps(out: Path, rows: Iterable[Mapping[str, str]]) -> dict[ArmKey, int]:
    """Highest ``rep`` per (scenario, workload, metric) in existing rows (empty reps ignored)."""
    last: dict[ArmKey, int] = {}
    for lineno, row in enumerate(rows, start=2):
        rep = row.get("rep", "").strip()
        if not rep:
            continue
        if not rep.isdigit():
            msg = f"{out}:{lineno}: column 'rep' is not a whole number: {rep!r}"
            raise InputError(
                msg,
                hint="rep numbers count runs from 1; fix the row or write to a new file",
            )
        key = (row.get("scenario", ""), row.get("workload", ""), row.get("metric", ""))
        last[key] = max(last.get(key, 0), int(rep))
    return last


def _check_not_imported(
    out: Path, rows: Iterable[Mapping[str, str]], logs: Sequence[ParsedLog], scenario: str
) -> None:
    existing: dict[str, str] = {}
    for row in rows:
        match = _RUN_ID.fullmatch(row.get("run_id", ""))
        if match and row.get("scenario") == scenario:
            existing.setdefault(match.group(1), row.get("run_id", ""))
    for log in logs:
        if log.digest in existing:
            msg = (
                f"{log.path} is already in {out}: scenario {scenario!r} has a log with the "
                f"same content (run_id {existing[log.digest]!r})"
            )
            raise InputError(
                msg,
                hint="import each log once; to start over, write to a new results file",
            )


def plan_rows(
    logs: Sequence[ParsedLog],
    *,
    scenario: str,
    workload: str | None,
    host: str | None,
    last_reps: Mapping[ArmKey, int],
) -> list[Row]:
    """The rows to append: reps continue per (scenario, workload, metric) after ``last_reps``.

    Two fio jobs, or a TCP and a UDP iperf3 test, are different workloads: each
    counts its own runs.
    """
    reps = dict(last_reps)
    rows: list[Row] = []
    for log in logs:
        for m in log.measurements:
            row_workload = workload or m.workload
            key = (scenario, row_workload, m.metric)
            reps[key] = reps.get(key, 0) + 1
            rows.append(
                {
                    "scenario": scenario,
                    "workload": row_workload,
                    "metric": m.metric,
                    "value": m.value,
                    "unit": m.unit,
                    "rep": reps[key],
                    "host": host or "",
                    "run_id": log.run_id,
                    "attempt": "",
                    "status": STATUS_OK,
                    "started_at": log.started_at,
                }
            )
    return rows


def _check_name(value: str, option: str) -> str:
    value = value.strip()
    if not value:
        msg = f"{option} is empty"
        raise UsageError(msg, hint=f"give it a name, e.g. {option} sev_on")
    return value


def _check_out(out: Path) -> None:
    if out.is_dir():
        msg = f"--out {out} is a directory"
        raise UsageError(
            msg,
            hint="name the results file, e.g. --out results.csv (it is created if missing)",
        )
    if out.suffix.lower() != ".csv":
        msg = f"--out {out} is not a .csv file"
        raise UsageError(
            msg,
            hint="import appends CSV rows; name the results file *.csv",
        )


def _print_summary(summary: ImportSummary, scenario: str) -> None:
    rows = sum(summary.rows_per_metric.values())
    console.print(
        f"imported {summary.files} file(s) as scenario [bold]{scenario}[/bold]: "
        f"{rows} row(s) appended to {summary.out}"
    )
    for (workload, metric), count in summary.rows_per_workload.items():
        console.print(f"  {workload}  {metric}: {count} row(s)")


def import_logs(
    *,
    paths: Sequence[Path],
    scenario: str,
    out: Path,
    workload: str | None = None,
    host: str | None = None,
) -> ImportSummary:
    """Parse every log in ``paths`` and append their measurements to ``out``; all or nothing."""
    scenario = _check_name(scenario, "--scenario")
    workload = _check_name(workload, "--workload") if workload is not None else None
    _check_out(out)
    files = expand_inputs(paths)
    logs = read_logs(files)
    existing = _existing_rows(out)
    _check_not_imported(out, existing, logs, scenario)
    rows = plan_rows(
        logs,
        scenario=scenario,
        workload=workload,
        host=host,
        last_reps=_last_reps(out, existing),
    )
    append_rows(out, rows)
    per_metric = Counter(str(r["metric"]) for r in rows)
    per_workload = Counter((str(r["workload"]), str(r["metric"])) for r in rows)
    summary = ImportSummary(
        out=out,
        files=len(logs),
        rows_per_metric=dict(per_metric),
        rows_per_workload=dict(per_workload),
    )
    _print_summary(summary, scenario)
    return summary
