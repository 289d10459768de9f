"""Run the report's CPU-bound tasks (figures, bootstrap comparisons) in forked processes.

Drawing a figure and bootstrapping a comparison are CPU-bound Python that
holds the GIL, so they run in forked worker processes: a fork inherits the
imported modules and the report's data without pickling them; only each
task's result comes back. Tasks are handed out one at a time, so a worker that
finishes early takes the next one.

A task may return :class:`Done` with follow-up work (``after``): its result is
sent back at once and the follow-up runs in the same process once every task's
result is in (e.g. a figure's SVG copy, written while the parent lays out the
PDF from its PNG). :meth:`Workers.finish` waits for the follow-ups.

Where fork is unavailable, or one CPU is all there is, the tasks run one after
the other in this process.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from snpappliance.errors import ReportError
from snpappliance.report.forks import can_fork, died, fork_child

if TYPE_CHECKING:
    from collections.abc import Sequence
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from types import TracebackType

T = TypeVar("T")

#: More workers than this only add memory: a report has a few dozen tasks at most.
MAX_WORKERS = 4

#: How much lower the priority of a worker's follow-up work is than the parent's.
FOLLOW_UP_NICENESS = 10

#: The tasks of the run in progress, inherited by the forked workers.
_TASKS: Sequence[Callable[[], Any]] = ()

#: Messages from a worker: a task's result, a task's error, the follow-ups' end.
_RESULT, _ERROR, _FINISHED = "result", "error", "finished"


@dataclass(frozen=True)
class Done(Generic[T]):
    """A task's result, and work its process does once every task's result is in."""

    result: T
    after: Callable[[], None] | None = None


def default_workers() -> int:
    """The CPUs this process may run on, at most :data:`MAX_WORKERS`."""
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def _unpack(out: Any) -> tuple[Any, Callable[[], None] | None]:
    return (out.result, out.after) if isinstance(out, Done) else (out, None)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a :class:`ReportError` that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any exception that cannot cross a pipe
        return ReportError(f"a report task failed: {type(exc).__name__}: {exc}")
    return exc


def _ready(conns: set[Connection]) -> list[Connection]:
    """The connections among ``conns`` with a message (or an end) to read; blocks until one."""
    return cast("list[Connection]", wait(list(conns)))


def _serve(conn: Connection) -> None:
    """A worker: run the tasks the parent names until it says stop, then the follow-ups."""
    afters: list[Callable[[], None]] = []
    try:
        while (index := conn.recv()) is not None:
            try:
                result, after = _unpack(_TASKS[index]())
            except Exception as exc:  # noqa: BLE001 - sent to the parent, raised there
                conn.send((_ERROR, index, _portable(exc)))
                return
            conn.send((_RESULT, index, result))
            if after is not None:
                afters.append(after)
        if afters:
            # Follow-ups are off the report's critical path (the parent's PDF is): they
            # take what CPU is left over.
            os.nice(FOLLOW_UP_NICENESS)
        for after in afters:
            after()
        conn.send((_FINISHED, None, None))
    except KeyboardInterrupt:
        # Ctrl-C reaches the whole process group: the parent reports it, not each worker.
        return
    except Exception as exc:  # noqa: BLE001 - a follow-up's error, raised in the parent
        conn.send((_ERROR, None, _portable(exc)))
    finally:
        conn.close()


class Workers(Generic[T]):
    """``tasks`` run in worker processes; a context manager that stops them on leaving."""

    def __init__(self, tasks: Sequence[Callable[[], T | Done[T]]], *, workers: int | None = None):
        self.tasks = tasks
        self.count = min(workers or default_workers(), len(tasks))
        self.forked = self.count > 1 and can_fork()
        self._afters: list[Callable[[], None]] = []
        self._conns: dict[Connection, BaseProcess] = {}
        self._running: set[Connection] = set()

    def __enter__(self) -> Workers[T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.finish()
        else:
            self._stop()

    def results(self, advance: Callable[[float], None] | None = None) -> list[T]:
        """Every task's result, in task order; tasks start last first (put the longest last).

        ``advance(1)`` is called as each task finishes. A task's exception is raised here.
        """
        if not self.forked:
            results = []
            for task in self.tasks:
                result, after = _unpack(task())
                results.append(result)
                if after is not None:
                    self._afters.append(after)
                if advance is not None:
                    advance(1)
            return results
        global _TASKS  # what the forked workers inherit
        _TASKS = self.tasks
        try:
            return self._collect(advance)
        finally:
            _TASKS = ()

    def _collect(self, advance: Callable[[float], None] | None) -> list[T]:
        pending = list(range(len(self.tasks)))  # popped from the end: last first
        for _ in range(self.count):
            parent, process = fork_child(_serve)
            self._conns[parent] = process
            parent.send(pending.pop())
        self._running = set(self._conns)
        busy = set(self._conns)  # the workers running a task
        found: dict[int, T] = {}
        while busy:
            for conn in _ready(busy):
                kind, index, value = self._receive(conn)
                if kind == _ERROR:
                    raise value
                found[index] = value
                if pending:
                    conn.send(pending.pop())
                else:
                    conn.send(None)  # no task left: the worker runs its follow-ups
                    busy.discard(conn)
                if advance is not None:
                    advance(1)
        return [found[i] for i in range(len(self.tasks))]

    def _receive(self, conn: Connection) -> tuple[str, Any, Any]:
        try:
            message: tuple[str, Any, Any] = conn.recv()
        except EOFError:
            raise died(self._conns[conn], "a report worker process died") from None
        return message

    def finish(self) -> None:
        """Wait for every task's follow-up work; raise the first error it met."""
        for after in self._afters:
            after()
        self._afters = []
        try:
            while self._running:
                for conn in _ready(self._running):
                    kind, _, value = self._receive(conn)
                    if kind == _ERROR:
                        raise value
                    self._running.discard(conn)
        except BaseException:
            self._stop()
            raise
        for conn, process in self._conns.items():
            process.join()
            conn.close()
        self._conns = {}

    def _stop(self) -> None:
        """End every worker now (a task failed, or Ctrl-C): work not started is dropped."""
        for conn, process in self._conns.items():
            if process.is_alive():
                process.kill()
            process.join()
            conn.close()
        self._conns = {}
        self._running = set()


def run_tasks(
    tasks: Sequence[Callable[[], T]],
    advance: Callable[[float], None] | None = None,
    *,
    workers: int | None = None,
) -> list[T]:
    """Every task's result, in task order, from :class:`Workers` (see there)."""
    with Workers(tasks, workers=workers) as pool:
        return pool.results(advance)
