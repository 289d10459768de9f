"""The runs of every host: one worker per host, one guest per host at a time.

A campaign on one host runs its runs in the calling thread, exactly as it
always did. On several hosts each host gets a worker thread running that
host's runs in planned order. Commits are serialised by
:data:`snpappliance.campaign.store.WRITE_LOCK`. A host that fails (its SSH
connection lost for good, a permanent error) stops alone: its committed runs
are kept, its missing runs stay for ``--resume``, and the other hosts go on.
Reaching ``--max-failures`` (counted over all hosts) stops every host after
its run in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from snpappliance.campaign import store
from snpappliance.campaign.attempt import RunContext, RunOutcome, execute_run
from snpappliance.campaign.plan import PlannedRun
from snpappliance.errors import SnpappError

if TYPE_CHECKING:
    from snpappliance.campaign.progress import LiveProgress

#: How often the main thread looks whether the workers are done (Ctrl-C stays prompt).
WAIT_POLL_S = 0.2


@dataclass
class Shared:
    """What the workers of one campaign share: the failure count and the stop signal."""

    limit: int | None
    failures: int
    stop: threading.Event = field(default_factory=threading.Event)
    aborted: bool = False
    #: Set when Ctrl-C was answered by waiting for every host's run in flight.
    drained: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: RunOutcome) -> None:
        with self.lock:
            self.failures += outcome.status != "ok"
            if self.limit is not None and self.failures >= self.limit:
                self.aborted = True
                self.stop.set()


@dataclass
class HostJob:
    """One host's runs and what became of them."""

    ctx: RunContext
    runs: Sequence[PlannedRun]
    #: run_id → attempt numbers with a raw log on disk when the job started.
    logged: Mapping[str, Sequence[int]] = field(default_factory=dict)
    outcomes: list[RunOutcome] = field(default_factory=list)
    #: Why this host stopped before its last run (multi-host campaigns only).
    error: SnpappError | None = None
    crash: BaseException | None = None
    #: Set by the worker when it is done, whatever happened.
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def name(self) -> str:
        return self.ctx.host.name

    @property
    def left(self) -> int:
        return len(self.runs) - len(self.outcomes)


def run_host(
    job: HostJob,
    records: Sequence[Mapping[str, Any]],
    shared: Shared,
    progress: LiveProgress,
) -> None:
    """Run ``job``'s runs in order until they are done or ``shared.stop`` is set."""
    for run in job.runs:
        if shared.stop.is_set():
            return
        first = store.next_attempt(records, run.run_id, job.logged.get(run.run_id, ()))
        outcome = execute_run(job.ctx, run, first, partial(progress.attempt, run))
        job.outcomes.append(outcome)
        progress.finished(outcome)
        shared.count(outcome)


def _worker(
    job: HostJob,
    records: Sequence[Mapping[str, Any]],
    shared: Shared,
    progress: LiveProgress,
) -> None:
    try:
        run_host(job, records, shared, progress)
    except SnpappError as exc:  # this host stops; the others go on
        job.error = exc
        progress.host_stopped(job.name, exc.message)
    except BaseException as exc:  # noqa: BLE001  handed to the main thread, re-raised there
        job.crash = exc
        shared.stop.set()
    finally:
        job.finished.set()


def run_parallel(
    jobs: Sequence[HostJob],
    records: Sequence[Mapping[str, Any]],
    shared: Shared,
    progress: LiveProgress,
) -> None:
    """One worker thread per job; wait for all of them (Ctrl-C: stop after the runs in flight)."""
    threads = [
        threading.Thread(
            target=_worker,
            args=(job, records, shared, progress),
            name=f"snpapp-host-{job.name}",
            daemon=True,  # a second Ctrl-C leaves at once
        )
        for job in jobs
    ]
    for thread in threads:
        thread.start()
    try:
        _wait(jobs)
    except KeyboardInterrupt:
        shared.stop.set()
        progress.note("stopping: waiting for the guests in flight (Ctrl-C again to leave now)")
        _wait(jobs)
        shared.drained = True
        raise
    for job in jobs:
        if job.crash is not None:
            raise job.crash


def _wait(jobs: Sequence[HostJob]) -> None:
    """Sleep until every worker is done.

    Polled with sleep rather than ``Thread.join``: a KeyboardInterrupt inside
    ``join`` can leave CPython believing a running thread has ended.
    """
    while not all(job.finished.is_set() for job in jobs):
        time.sleep(WAIT_POLL_S)
