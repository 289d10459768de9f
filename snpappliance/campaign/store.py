"""The campaign directory's bookkeeping (its layout: :mod:`snpappliance.formats.campaigndir`).

A run is *committed* when its result rows are fsynced to ``results.csv`` (a
smoke run's to ``smoke.csv``) and
then its ``run`` record to ``attempts.jsonl``. A crash can therefore leave
only rows of an uncommitted run behind; :func:`prune_uncommitted` removes them
before a resume, so no run is ever counted twice. The runs of several hosts
are committed from one thread per host: :data:`WRITE_LOCK` serialises every
append, so lines and rows never interleave.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import threading
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snpappliance.formats.campaigndir import parse_attempts
from snpappliance.formats.results import repair_tail
from snpappliance.fsutil import atomic_write_text, ensure_writable_dir

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from snpappliance.campaign.plan import PlannedRun
    from snpappliance.formats.campaigndir import CampaignDir

#: Held around every append to ``attempts.jsonl`` and ``results.csv`` (re-entrant).
WRITE_LOCK = threading.RLock()

RECORD_ATTEMPT = "attempt"
RECORD_RUN = "run"


def append_record(path: Path, record: Mapping[str, Any]) -> None:
    """Append one JSON line and fsync it."""
    ensure_writable_dir(path.parent)
    with WRITE_LOCK, path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(dict(record), sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return parse_attempts(path.read_text(encoding="utf-8", errors="replace"))


def committed_runs(records: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """run_id → final status of every committed run."""
    return {
        str(r["run_id"]): str(r.get("status", ""))
        for r in records
        if r.get("record") == RECORD_RUN and "run_id" in r
    }


def missing_runs(
    plan: Sequence[PlannedRun], committed: Iterable[str], host: str | None = None
) -> list[PlannedRun]:
    """The runs still to do, in planned order (only ``host``'s when given)."""
    done = set(committed)
    return [r for r in plan if r.run_id not in done and (host is None or r.host == host)]


def host_counts(
    plan: Sequence[PlannedRun], committed: Mapping[str, str]
) -> dict[str, Counter[str]]:
    """Per host of a multi-host plan: committed runs by status, plus ``planned``."""
    counts: dict[str, Counter[str]] = {}
    for run in plan:
        if not run.host:
            continue
        count = counts.setdefault(run.host, Counter())
        count["planned"] += 1
        if run.run_id in committed:
            count[committed[run.run_id]] += 1
    return counts


def next_attempt(
    records: Iterable[Mapping[str, Any]], run_id: str, logged: Iterable[int] = ()
) -> int:
    """The number of the next attempt of ``run_id`` (attempts continue across resumes).

    ``logged`` are the attempt numbers that left a raw log: an attempt cut short
    by kill -9 left its log but no record, and its number is never reused.
    """
    numbers = [
        int(r.get("attempt", 0))
        for r in records
        if r.get("record") == RECORD_ATTEMPT and r.get("run_id") == run_id
    ]
    return max([*numbers, *logged], default=0) + 1


def logged_attempts(cdir: CampaignDir) -> dict[str, list[int]]:
    """run_id → the attempt numbers that left a raw log (one listing of ``logs/``)."""
    numbers: dict[str, list[int]] = {}
    for path in cdir.logs.glob("*.a*.log") if cdir.logs.is_dir() else ():
        run_id, _, attempt = path.name.removesuffix(".log").rpartition(".a")
        if attempt.isdigit():
            numbers.setdefault(run_id, []).append(int(attempt))
    return numbers


def filter_results(text: str, keep: set[str]) -> tuple[str, int]:
    """Results CSV text without rows of runs not in ``keep``; also the number dropped."""
    if not text:
        return text, 0
    reader = csv.reader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = next(reader, None)
    if header is None:
        return "", 0
    writer.writerow(header)
    run_col = header.index("run_id") if "run_id" in header else None
    dropped = 0
    for row in reader:
        if run_col is not None and run_col < len(row) and row[run_col] not in keep:
            dropped += 1
            continue
        writer.writerow(row)
    return out.getvalue(), dropped


def prune_uncommitted(cdir: CampaignDir) -> int:
    """Repair torn lines and drop result (and smoke) rows of runs that were never committed."""
    repair_tail(cdir.attempts)
    committed = set(committed_runs(read_records(cdir.attempts)))
    dropped = 0
    for path in (cdir.results, cdir.smoke):
        repair_tail(path)
        if not path.is_file():
            continue
        text, count = filter_results(path.read_text(encoding="utf-8"), committed)
        if count:
            atomic_write_text(path, text)
        dropped += count
    return dropped


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def reap_orphan_guest(cdir: CampaignDir) -> int | None:
    """Kill a local QEMU left running by a runner that was killed (-9); return its pid.

    Only a process whose command line names this campaign directory is touched:
    QEMU leads its own process group, which is killed as a whole.
    """
    try:
        pid = int(cdir.guest_pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    cdir.guest_pid_file.unlink(missing_ok=True)
    if str(cdir.path.resolve()) not in _cmdline(pid):
        return None
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return None
    return pid
