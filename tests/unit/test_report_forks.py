"""The report's child processes: a forked child sees its parent's end close."""

from __future__ import annotations

from typing import TYPE_CHECKING

from snpappliance.report.forks import died, fork_child

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


def until_eof(conn: Connection) -> None:
    try:
        conn.recv()
    except EOFError:
        return
    raise SystemExit(3)


def test_a_child_reads_eof_once_the_parent_end_closes() -> None:
    parent, process = fork_child(until_eof)
    parent.close()  # as a killed parent's would: only the child's own copy could keep it open
    process.join(timeout=30)
    assert not process.is_alive()
    assert process.exitcode == 0


def test_died_names_the_exit_status() -> None:
    parent, process = fork_child(until_eof)
    process.kill()
    error = died(process, "a report worker process died")
    parent.close()
    assert str(error) == "a report worker process died (exit status -9)"
    assert error.hint is not None
    assert "OOM" in error.hint
