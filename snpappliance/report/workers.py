"""Run the report's CPU-bound tasks (figures, bootstrap comparisons) in forked processes.

Drawing a figure and bootstrapping a comparison are CPU-bound Python that
holds the GIL, so they run in forked worker processes: a fork inherits the
imported modules and the report's data without pickling them; only each
task's result comes back. The parent meanwhile does work of its own
(``meanwhile``, e.g. importing the PDF renderer). Where fork is unavailable,
or one CPU is all there is, the tasks run one after the other.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

T = TypeVar("T")

#: More workers than this only add memory: a report has a few dozen tasks at most.
MAX_WORKERS = 4

#: The tasks of the run in progress, inherited by the forked workers.
_TASKS: Sequence[Callable[[], Any]] = ()


def default_workers() -> int:
    """The CPUs this process may run on, at most :data:`MAX_WORKERS`."""
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def _run(index: int) -> Any:
    return _TASKS[index]()


def run_tasks(
    tasks: Sequence[Callable[[], T]],
    advance: Callable[[float], None] | None = None,
    *,
    workers: int | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[T]:
    """Every task's result, in task order; in parallel processes when there are CPUs for it.

    Tasks are started last first (put the longest last). ``advance(1)`` is
    called as each task finishes; ``meanwhile`` runs in this process while the
    workers work. A task's exception is raised here.
    """
    count = min(workers or default_workers(), len(tasks))
    if count <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        results = []
        for task in tasks:
            results.append(task())
            if advance is not None:
                advance(1)
        if meanwhile is not None:
            meanwhile()
        return results
    global _TASKS  # what the forked workers inherit
    _TASKS = tasks
    pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("fork"))
    try:
        futures: dict[int, Future[T]] = {
            i: pool.submit(_run, i) for i in reversed(range(len(tasks)))
        }
        if meanwhile is not None:
            meanwhile()
        for done in as_completed(futures.values()):
            done.result()
            if advance is not None:
                advance(1)
        return [futures[i].result() for i in range(len(tasks))]
    except BaseException:
        # A failed task or Ctrl-C: the tasks not started yet are dropped, not run.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        _TASKS = ()
