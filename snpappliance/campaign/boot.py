"""One guest boot: start QEMU on a host, watch its console, enforce deadlines, keep the log.

The console is read as it arrives, written line by line (with host-side
timestamps of the markers) to the attempt's log file, and watched for the
INIT/BEGIN/END markers. Two host-side deadlines guard every boot: the guest
must begin its workload within ``boot_s``, and QEMU must be gone by the hard
deadline; past either, the QEMU process group is killed. Whatever happens,
leaving :func:`boot_guest` leaves no QEMU behind (``Host.spawn`` kills it).
On an SSH host, exit status 255 is ssh's own: the connection was lost, which
says nothing about the guest.

A pinned boot's QEMU starts stopped (``-S``): the ``pin`` hook pins its threads
and lets it continue before the console is read, and the clock of the boot's
times starts only then, so pinned and unpinned boot times compare.
"""

from __future__ import annotations

import codecs
import os
import selectors
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from snpappliance.campaign.console import marker_kind
from snpappliance.hosts.sshcmd import SSH_FAILURE

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.hosts.base import Host

#: How long QEMU may take to exit after the guest printed its END marker.
SHUTDOWN_S = 15.0
_READ_CHUNK = 65536

Clock = Callable[[], float]
#: Pins a QEMU started stopped and lets it continue; returns what was applied (recorded).
Pin = Callable[[subprocess.Popen[bytes]], dict[str, Any]]


class Outcome:
    """Why a boot ended (plain strings, recorded in attempts.jsonl)."""

    EXITED = "exited"
    SHUTDOWN_TIMEOUT = "shutdown-timeout"
    BOOT_TIMEOUT = "boot-timeout"
    HANG = "hang"
    #: The console ended because the SSH connection to the host dropped (ssh exit 255).
    CONNECTION_LOST = "connection-lost"


@dataclass(frozen=True)
class BootLimits:
    boot_s: float
    hard_s: float


@dataclass(frozen=True)
class BootRecord:
    """What one boot produced; times are host seconds since QEMU was started."""

    console: str
    outcome: str
    qemu_rc: int | None
    t_init: float | None
    t_begin: float | None
    t_end: float | None
    t_exit: float
    #: What a pinned boot applied (:func:`snpappliance.campaign.pinned.pin_qemu`), else None.
    pinning: dict[str, Any] | None = None


@dataclass
class _Watch:
    start: float
    log: IO[str]
    clock: Clock
    pending: str = ""
    t_init: float | None = None
    t_begin: float | None = None
    t_end: float | None = None

    def feed(self, data: str) -> None:
        self.pending += data
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self._line(line + "\n")
        if lines:  # the log on disk follows the console (tail -f shows a guest as it runs)
            self.log.flush()

    def flush(self) -> None:
        if self.pending:
            self._line(self.pending)
            self.pending = ""

    def _line(self, line: str) -> None:
        self.log.write(line)
        kind = marker_kind(line)
        now = self.clock() - self.start
        if kind == "init" and self.t_init is None:
            self.t_init = now
        elif kind == "begin" and self.t_begin is None:
            self.t_begin = now
        elif kind == "end" and self.t_end is None:
            self.t_end = now

    def deadline(self, limits: BootLimits) -> tuple[float, str]:
        """The absolute time of the next deadline, and what passing it means."""
        if self.t_end is not None:
            return self.start + self.t_end + SHUTDOWN_S, Outcome.SHUTDOWN_TIMEOUT
        if self.t_begin is None:
            return self.start + limits.boot_s, Outcome.BOOT_TIMEOUT
        return self.start + limits.hard_s, Outcome.HANG


def boot_guest(
    host: Host,
    argv: Sequence[str],
    log_path: Path,
    limits: BootLimits,
    *,
    clock: Clock = time.monotonic,
    on_spawn: Callable[[int], None] | None = None,
    pin: Pin | None = None,
) -> BootRecord:
    """Boot once, return the console and the timing; the log file gets everything.

    ``on_spawn`` gets the pid of the spawned process; ``pin`` the process itself, to
    pin and continue a QEMU started with ``-S`` (its times then count from there).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    chunks: list[str] = []
    with log_path.open("w", encoding="utf-8", errors="replace") as log:
        log.write(f"# {shlex.join(argv)}\n")
        watch = _Watch(start=clock(), log=log, clock=clock)
        with host.spawn(list(argv)) as child:
            assert child.stdout is not None
            if on_spawn is not None:
                on_spawn(child.pid)
            pinning = None
            if pin is not None:
                pinning = pin(child)
                watch.start = clock()
            outcome = _pump(child.stdout.fileno(), watch, limits, chunks, clock)
            qemu_rc = _exit_status(child) if outcome == Outcome.EXITED else None
            if qemu_rc == SSH_FAILURE and not host.is_local:
                outcome = Outcome.CONNECTION_LOST
        watch.flush()
        t_exit = clock() - watch.start
        log.write(f"\n# snpapp: {outcome}, qemu exit status {qemu_rc}, {t_exit:.2f} s\n")
        log.flush()
        os.fsync(log.fileno())
    return BootRecord(
        console="".join(chunks),
        outcome=outcome,
        qemu_rc=qemu_rc,
        t_init=watch.t_init,
        t_begin=watch.t_begin,
        t_end=watch.t_end,
        t_exit=t_exit,
        pinning=pinning,
    )


def _exit_status(child: subprocess.Popen[bytes]) -> int | None:
    """QEMU's exit status once its console closed (None if it lingers)."""
    try:
        return child.wait(timeout=SHUTDOWN_S)
    except subprocess.TimeoutExpired:
        return None


def _pump(fd: int, watch: _Watch, limits: BootLimits, chunks: list[str], clock: Clock) -> str:
    """Read the console until EOF or a deadline; return the outcome."""
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        while True:
            deadline, missed = watch.deadline(limits)
            remaining = deadline - clock()
            if remaining <= 0:
                return missed
            if not selector.select(timeout=min(remaining, 1.0)):
                continue
            data = os.read(fd, _READ_CHUNK)
            text = decoder.decode(data, final=not data)
            if not data:
                chunks.append(text)
                watch.feed(text)
                return Outcome.EXITED
            chunks.append(text)
            watch.feed(text)
    finally:
        selector.close()
