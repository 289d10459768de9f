"""The report's worker processes: results in order, follow-ups after, errors raised here."""

from __future__ import annotations

import multiprocessing
import os
from functools import partial
from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import ReportError
from snpappliance.report.workers import FOLLOW_UP_NICENESS, Done, Workers, run_tasks

if TYPE_CHECKING:
    from pathlib import Path


def square(n: int) -> int:
    return n * n


def with_follow_up(n: int, directory: Path) -> Done[int]:
    def after() -> None:
        (directory / f"{n}.txt").write_text(f"{os.getpid()} {os.nice(0)}", encoding="utf-8")

    return Done(n * 10, after)


def fail(n: int) -> int:
    msg = f"task {n} failed"
    raise ValueError(msg)


def die() -> int:
    os._exit(3)


class Unpicklable(Exception):
    def __init__(self, handle: object) -> None:
        super().__init__("cannot travel")
        self.handle = handle


def raise_unpicklable() -> int:
    raise Unpicklable(lambda: None)


def test_results_come_back_in_task_order() -> None:
    done: list[float] = []
    tasks = [partial(square, n) for n in range(9)]
    assert run_tasks(tasks, done.append, workers=2) == [n * n for n in range(9)]
    assert done == [1] * 9
    assert multiprocessing.active_children() == []


def test_follow_ups_run_in_the_workers_at_lower_priority(tmp_path: Path) -> None:
    tasks = [partial(with_follow_up, n, tmp_path) for n in range(5)]
    with Workers[int](tasks, workers=2) as pool:
        assert pool.results() == [0, 10, 20, 30, 40]
        pool.finish()
        written = {p.stem: p.read_text(encoding="utf-8").split() for p in tmp_path.iterdir()}
    assert sorted(written) == ["0", "1", "2", "3", "4"]
    base = os.nice(0)
    for pid, niceness in written.values():
        assert int(pid) != os.getpid()
        assert int(niceness) == min(19, base + FOLLOW_UP_NICENESS)
    assert multiprocessing.active_children() == []


def test_one_worker_runs_everything_here_and_follow_ups_at_finish(tmp_path: Path) -> None:
    tasks = [partial(with_follow_up, n, tmp_path) for n in range(3)]
    with Workers[int](tasks, workers=1) as pool:
        assert pool.results() == [0, 10, 20]
        assert list(tmp_path.iterdir()) == []
    pids = {p.read_text(encoding="utf-8").split()[0] for p in tmp_path.iterdir()}
    assert pids == {str(os.getpid())}


def test_a_failed_task_is_raised_and_the_workers_stop() -> None:
    tasks = [partial(square, 1), partial(fail, 7), partial(square, 2)]
    with pytest.raises(ValueError, match="task 7 failed"), Workers(tasks, workers=2) as pool:
        pool.results()
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_is_a_report_error() -> None:
    with pytest.raises(ReportError, match=r"died \(exit status 3\)"):
        run_tasks([partial(square, 1), partial(die)], workers=2)
    assert multiprocessing.active_children() == []


def test_an_error_that_cannot_be_pickled_still_says_what_it_was() -> None:
    with pytest.raises(ReportError, match="Unpicklable: cannot travel"):
        run_tasks([partial(square, 1), partial(raise_unpicklable)], workers=2)
