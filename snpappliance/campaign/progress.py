"""Live progress of a running campaign (rich) and the one-screen summary at its end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from snpappliance.campaign.attempt import RunOutcome
from snpappliance.campaign.plan import PlannedRun
from snpappliance.log import console
from snpappliance.results import load_results


class LiveProgress:
    """run i/N, scenario, workload, repetition, attempt, ETA and failures so far."""

    def __init__(self, total: int, done: int, failures: int) -> None:
        self._progress = Progress(
            TextColumn("[bold]campaign[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task("", total=total, completed=done)
        self._total = total
        self._done = done
        self._failures = failures

    def __enter__(self) -> LiveProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def attempt(self, run: PlannedRun, attempt: int) -> None:
        failures = f" [red]failures {self._failures}[/red]" if self._failures else ""
        retry = f" [yellow]attempt {attempt}[/yellow]" if attempt > 1 else ""
        self._progress.update(
            self._task,
            description=f"run {self._done + 1}/{self._total} {run.scenario} · {run.workload} "
            f"· rep {run.rep}{retry}{failures}",
        )

    def finished(self, outcome: RunOutcome) -> None:
        self._done += 1
        if not self._progress.console.is_terminal and outcome.status == "ok":
            # No live display in logs: one line per run instead.
            self._progress.console.print(
                f"[green]✓[/green] run {self._done}/{self._total} {outcome.run.run_id}"
            )
        if outcome.status != "ok":
            self._failures += 1
            self._progress.console.print(
                f"[red]✗[/red] {outcome.run.run_id}: {outcome.status} after "
                f"{outcome.attempts} attempt(s): {outcome.reason}"
            )
        self._progress.advance(self._task)


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
    if (cdir / "results.csv").is_file():
        console.print(_medians(cdir))
    console.print(f"results: {cdir}/results.csv   raw logs: {cdir}/logs/")
    console.print(f"next: [bold]snpapp report {cdir}[/bold]")


def _medians(cdir: Path) -> Table:
    ok = load_results(cdir).ok
    table = Table(title="medians over all completed runs", show_edge=False)
    for column in ("scenario", "workload", "metric", "n", "median"):
        table.add_column(column, justify="right" if column in ("n", "median") else "left")
    grouped = ok.groupby(["scenario", "workload", "metric", "unit"], sort=False)["value"]
    for (scenario, workload, metric, unit), values in grouped:
        table.add_row(
            str(scenario),
            str(workload),
            str(metric),
            str(len(values)),
            f"{values.median():.2f} {unit}",
        )
    return table
