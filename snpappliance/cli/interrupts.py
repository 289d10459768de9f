"""SIGTERM and SIGHUP end a command exactly as Ctrl-C does.

systemd, ``timeout`` and CI cancellation send SIGTERM; a closed terminal sends
SIGHUP. While a command runs, both raise :class:`KeyboardInterrupt` in the main
thread, as SIGINT does, so every Ctrl-C path runs for them too: :mod:`snpappliance.proc`
kills the process groups it started, a campaign records what it saved and says
how to resume, a build removes its containers. The signal is remembered so the
CLI edge can exit with 128 + its number, as a shell reports a killed command.

Stdlib only: the handlers are installed before the (slower) command modules load.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

#: The signals that stop a command. A signal ignored when snpapp starts stays
#: ignored (``nohup snpapp campaign &`` survives the terminal closing).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Interrupts:
    """The first stop signal that reached this process, if any."""

    signum: int | None = None

    def exit_code(self, default: int) -> int:
        """128 + the signal's number once a signal arrived, else ``default``."""
        return default if self.signum is None else 128 + self.signum

    def describe(self) -> str:
        """``interrupted by SIGTERM``, or ``interrupted`` when no signal arrived."""
        if self.signum is None:
            return "interrupted"
        return f"interrupted by {signal.Signals(self.signum).name}"


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[Interrupts]:
    """While inside, SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt; restore on exit.

    Handlers can only be set from the main thread; elsewhere nothing is installed.
    """
    seen = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001  signal API
        if seen.signum is None:
            seen.signum = signum
        raise KeyboardInterrupt

    previous = {
        sig: signal.signal(sig, interrupt)
        for sig in STOP_SIGNALS
        if signal.getsignal(sig) is not signal.SIG_IGN
    }
    try:
        yield seen
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
