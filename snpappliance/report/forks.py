"""The report's child processes: forked with a pipe to the parent, and told apart when they die.

Both the figure workers (:mod:`snpappliance.report.workers`) and the PDF renderer
(:mod:`snpappliance.report.pdf`) are such children. This module imports nothing heavy.
"""

from __future__ import annotations

import multiprocessing
from typing import TYPE_CHECKING

from snpappliance.errors import ReportError

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _enter(target: Callable[[Connection], None], conn: Connection, parent_end: Connection) -> None:
    # The child's copy of the parent's end would keep the pipe open: closed, the
    # parent's death reads as EOF here instead of a wait for ever.
    parent_end.close()
    target(conn)


def fork_child(target: Callable[[Connection], None]) -> tuple[Connection, BaseProcess]:
    """A forked daemon child running ``target`` on its end of a pipe; this process's end."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_enter, args=(target, child, parent), daemon=True)
    process.start()
    child.close()
    return parent, process


def died(process: BaseProcess, what: str) -> ReportError:
    """The error for ``process``, which ended without answering (``what``: e.g. "a report
    worker process died"); waits for it to be gone."""
    process.join()
    msg = f"{what} (exit status {process.exitcode})"
    hint = "check free memory (dmesg shows the OOM killer), then run it again"
    return ReportError(msg, hint=hint)
