"""The host's state while a campaign ran: settings that changed, and the load at run start.

Before every run the campaign reads the host's tuning-relevant state again and
records, in the run's attempt records, what changed since the campaign began
(``host_state.changes``, "key: before → after") and the load at that moment
(``host_state.load``). The report flags every change (which setting, from what
to what, from which run on) and summarises the load per scenario.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from snpappliance.report.attempts import FinalAttempt

#: The load average the methodology summarises (1-minute, as /proc/loadavg gives it).
LOAD_KEY = "load.avg1"
#: /proc/loadavg has two decimals.
LOAD_DECIMALS = 2

Row = dict[str, str]


@dataclass(frozen=True)
class HostChange:
    """One setting that differed from the campaign's start, from one run on."""

    host: str
    key: str
    before: str
    after: str
    #: The first committed run (in commit order) that saw the change.
    first_run: str
    #: How many committed runs saw it.
    runs: int

    @property
    def text(self) -> str:
        where = f"host {self.host}: " if self.host else ""
        return (
            f"{where}{self.key} {self.before} → {self.after}, from run {self.first_run} on "
            f"({self.runs} run(s))"
        )


def _state(attempt: FinalAttempt) -> Mapping[str, Any]:
    state = attempt.record.get("host_state")
    return state if isinstance(state, Mapping) else {}


def split_change(text: str) -> tuple[str, str, str]:
    """("key", "before", "after") of a recorded change "key: before → after"."""
    key, _, values = text.partition(": ")
    before, arrow, after = values.partition(" → ")
    return (key, before, after) if arrow else (key, values, "")


def host_changes(attempts: Sequence[FinalAttempt]) -> list[HostChange]:
    """Every recorded change per host, with the first run that saw it, in order of appearance."""
    first: dict[tuple[str, str], str] = {}
    counts: dict[tuple[str, str], int] = {}
    for attempt in attempts:
        for change in _state(attempt).get("changes") or ():
            key = (attempt.host, str(change))
            first.setdefault(key, attempt.run_id)
            counts[key] = counts.get(key, 0) + 1
    return [
        HostChange(host, *split_change(change), first_run=run, runs=counts[(host, change)])
        for (host, change), run in first.items()
    ]


def changed_run_counts(attempts: Sequence[FinalAttempt]) -> dict[str, int]:
    """scenario → committed runs that ran after some host setting changed."""
    counts: dict[str, int] = {}
    for attempt in attempts:
        if _state(attempt).get("changes"):
            counts[attempt.scenario] = counts.get(attempt.scenario, 0) + 1
    return counts


def _load(attempt: FinalAttempt) -> float | None:
    load = _state(attempt).get("load")
    value = load.get(LOAD_KEY) if isinstance(load, Mapping) else None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def load_rows(attempts: Sequence[FinalAttempt]) -> list[Row]:
    """Per scenario (first-seen order): runs with a recorded load, median and max load.avg1."""
    values: dict[str, list[float]] = {}
    for attempt in attempts:
        load = _load(attempt)
        if load is not None:
            values.setdefault(attempt.scenario, []).append(load)
    return [
        {
            "scenario": scenario,
            "n": str(len(found)),
            "median": f"{statistics.median(found):.{LOAD_DECIMALS}f}",
            "max": f"{max(found):.{LOAD_DECIMALS}f}",
        }
        for scenario, found in values.items()
    ]


def load_sentence(attempts: Sequence[FinalAttempt]) -> str:
    """The load at run start per scenario in one sentence ('' when none was recorded)."""
    rows = load_rows(attempts)
    if not rows:
        return ""
    parts = "; ".join(
        f"{r['scenario']} median {r['median']}, max {r['max']} "
        f"({r['n']} run{'' if r['n'] == '1' else 's'})"
        for r in rows
    )
    return (
        f"The host's 1-minute load average ({LOAD_KEY}) when each run started, per scenario: "
        f"{parts}."
    )


def changes_note(attempts: Sequence[FinalAttempt]) -> str:
    """The failed/retried section's note on runs made after a setting changed ('' if none)."""
    counts = changed_run_counts(attempts)
    if not counts:
        return ""
    total = sum(counts.values())
    per = ", ".join(f"{scenario} {n}" for scenario, n in counts.items())
    return (
        f"{total} committed run(s) ran after a host setting had changed since the campaign "
        f"began ({per}); their values are in the statistics (the changes are listed in "
        "Section 2)."
    )
