"""The report's steps on the console: a ✓/✗ line each, and a live bar while one runs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from snpappliance.log import console, step

#: Called with how much work was just done (bytes, comparisons, figures …).
Advance = Callable[[float], None]


class Tracker:
    """Runs the report's steps one after the other and knows which one is running."""

    def __init__(self) -> None:
        self.current: str | None = None

    @contextlib.contextmanager
    def step(self, title: str, total: float | None = None) -> Iterator[Advance]:
        """Announce ``title``; show a bar over ``total`` units (a spinner without one)."""
        self.current = title
        if not console.is_terminal:
            with step(title):
                yield lambda _: None
            self.current = None
            return
        columns = [SpinnerColumn(), TextColumn("  {task.description}"), BarColumn()]
        if total is not None:
            columns += [TaskProgressColumn(), TimeRemainingColumn()]
        with (
            step(title),
            Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar,
        ):
            task = bar.add_task(title, total=total)
            yield lambda done: bar.advance(task, done)
        self.current = None
