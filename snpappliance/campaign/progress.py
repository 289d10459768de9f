"""Live progress of a running campaign (rich) and the one-screen summary at its end."""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from snpappliance.formats.campaigndir import RESULTS_FILE
from snpappliance.formats.precision import fixed, resolution_decimals
from snpappliance.formats.results import STATUS_OK
from snpappliance.log import console

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path
    from types import TracebackType

    from snpappliance.campaign.attempt import RunOutcome
    from snpappliance.campaign.plan import PlannedRun


@dataclass(frozen=True)
class Lane:
    """One host's share of the campaign: runs planned, already done, failed so far."""

    total: int
    done: int
    failures: int


class LiveProgress:
    """run i/N, scenario, workload, repetition, attempt, ETA and failures so far.

    One bar per lane: the key ``""`` is the single bar of a one-host campaign,
    otherwise there is one bar per host name. When stderr is not a terminal
    (piped, logged), no bar is drawn: one plain line per event instead (a run
    retried, a run done, a host stopped), never cut.
    """

    def __init__(self, lanes: Mapping[str, Lane]) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.fields[label]}[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._live = self._progress.console.is_terminal
        self._lanes = {host: _LaneState(lane) for host, lane in lanes.items()}
        self._tasks = {
            host: self._progress.add_task(
                "", total=lane.total, completed=lane.done, label=host or "campaign"
            )
            for host, lane in lanes.items()
        }

    def __enter__(self) -> LiveProgress:
        if self._live:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live:
            self._progress.stop()

    def attempt(self, run: PlannedRun, attempt: int) -> None:
        state = self._lanes[run.host]
        failures = f" [red]failures {state.failures}[/red]" if state.failures else ""
        retry = f" [yellow]attempt {attempt}[/yellow]" if attempt > 1 else ""
        if not self._live and attempt > 1:
            where = f" {run.host}:" if run.host else ""
            self.note(f"[yellow]↻[/yellow]{where} run {state.done + 1}/{state.total} "
                      f"{run.run_id}: attempt {attempt}")  # fmt: skip
        self._progress.update(
            self._tasks[run.host],
            description=f"run {state.done + 1}/{state.total} {run.scenario} · {run.workload} "
            f"· rep {run.rep}{retry}{failures}",
        )

    def finished(self, outcome: RunOutcome) -> None:
        host = outcome.run.host
        state = self._lanes[host]
        state.done += 1
        where = f" {host}:" if host else ""
        if not self._live and outcome.status == "ok":
            # No live display in logs: one line per run instead.
            self.note(
                f"[green]✓[/green]{where} run {state.done}/{state.total} {outcome.run.run_id}"
            )
        if outcome.status != "ok":
            state.failures += 1
            self.note(
                f"[red]✗[/red] {outcome.run.run_id}: {outcome.status} after "
                f"{outcome.attempts} attempt(s): {outcome.reason}"
            )
        self._progress.advance(self._tasks[host])

    def host_stopped(self, host: str, why: str) -> None:
        self._progress.update(self._tasks[host], description=f"[red]stopped: {why}[/red]")
        self.note(f"[red]✗[/red] host {host} stopped: {why}")

    def note(self, text: str) -> None:
        """One line above the bars (rich markup), never wrapped mid-path."""
        self._progress.console.print(text, soft_wrap=True)


class _LaneState:
    """A lane's counts as the campaign goes (each lane is updated by one thread only)."""

    def __init__(self, lane: Lane) -> None:
        self.total, self.done, self.failures = lane.total, lane.done, lane.failures


def print_summary(cdir: Path, outcomes: Sequence[RunOutcome], wall_s: float, label: str) -> None:
    """One screen: what ran, what failed, medians per scenario and workload, what next."""
    statuses = Counter(o.status for o in outcomes)
    retried = sum(1 for o in outcomes if o.attempts > 1)
    console.print()
    if label:
        console.print(f"[bold yellow]{label}[/bold yellow]")
    console.print(
        f"[bold]campaign {cdir.name}[/bold]: {len(outcomes)} run(s) in {wall_s:.0f} s — "
        f"ok {statuses['ok']}, failed {statuses['failed']}, invalid {statuses['invalid']}, "
        f"retried {retried}"
    )
    if (cdir / RESULTS_FILE).is_file():
        console.print(_medians(cdir))
    console.print(f"results: {cdir}/results.csv   raw logs: {cdir}/logs/", soft_wrap=True)
    console.print(f"next: [bold]snpapp report {cdir}[/bold]", soft_wrap=True)


def _medians(cdir: Path) -> Table:
    """Median of every (host,) scenario, workload and metric over the ok rows of results.csv,
    before any outlier filtering, with the digits of the data's resolution (the report's
    rule, :mod:`snpappliance.formats.precision`)."""
    with (cdir / RESULTS_FILE).open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("status", STATUS_OK) == STATUS_OK]
    keys = ["scenario", "workload", "metric"]
    if len({r.get("host", "") for r in rows}) > 1:
        keys = ["host", *keys]
    groups: dict[tuple[str, ...], list[float]] = {}
    series: dict[tuple[str, str], set[float]] = {}
    for row in rows:
        group = (*(row.get(k, "") for k in keys), row.get("unit", ""))
        value = float(row["value"])
        groups.setdefault(group, []).append(value)
        series.setdefault((row.get("workload", ""), row.get("metric", "")), set()).add(value)
    decimals = {key: resolution_decimals(values) for key, values in series.items()}
    table = Table(
        title="medians over all completed ok runs, before outlier filtering "
        "(the report's Table 2 gives them after it)",
        show_edge=False,
    )
    for column in (*keys, "n", "median"):
        table.add_column(column, justify="right" if column in ("n", "median") else "left")
    workload_at, metric_at = keys.index("workload"), keys.index("metric")
    for (*names, unit), values in groups.items():
        digits = decimals[(names[workload_at], names[metric_at])]
        median = fixed(statistics.median(values), digits)
        table.add_row(*names, str(len(values)), f"{median} {unit}".rstrip())
    return table
