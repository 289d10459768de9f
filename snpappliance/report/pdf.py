"""report.pdf from the report's HTML: WeasyPrint in a child process started first.

Importing WeasyPrint takes about 0.6 s (cffi parses Pango's declarations) and
laying out a report a second or more. :meth:`PdfRenderer.start` forks the
renderer before the report imports its other libraries, so that WeasyPrint's
import overlaps theirs; a PDF is then laid out while this process finishes the
rest (report.html, the figures' SVG copies, the manifest). This module imports
nothing heavy itself. Where fork is unavailable, WeasyPrint runs in this
process when a PDF is asked for.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snpappliance.errors import ReportError
from snpappliance.report.forks import can_fork, died, fork_child

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from types import TracebackType

#: A job: (html, base directory of its relative links, target file); None ends the child.
Job = tuple[str, str, str]


def write_pdf(html: str, base: Path, target: Path) -> None:
    """Render ``html`` (its relative links resolved against ``base``) to ``target`` here."""
    import weasyprint  # imported here: slow to import and only needed for the PDF

    weasyprint.HTML(string=html, base_url=str(base)).write_pdf(target)


def _outcome(html: str, base: str, target: str) -> tuple[Any, ...] | None:
    """None once ``target`` is written, else what went wrong, in a form that crosses a pipe."""
    try:
        write_pdf(html, Path(base), Path(target))
    except OSError as exc:
        return ("os", exc.errno, exc.strerror or str(exc), exc.filename)
    except Exception as exc:  # noqa: BLE001 - whatever WeasyPrint raised, told to the parent
        return ("error", f"{type(exc).__name__}: {exc}")
    return None


def _serve(conn: Connection) -> None:
    """The renderer: import WeasyPrint, then render each job the parent sends until None."""
    try:
        # Imported now, while the parent imports the rest; a failed import is told per job.
        with contextlib.suppress(ImportError):
            import weasyprint  # noqa: F401
        while (job := conn.recv()) is not None:
            conn.send(_outcome(*job))
    except (EOFError, KeyboardInterrupt):
        # The parent is gone, or Ctrl-C reached the process group: the parent reports it.
        return
    finally:
        conn.close()


class PdfRenderer:
    """Renders report PDFs, one at a time, in a child process (see the module's text)."""

    def __init__(self) -> None:
        #: The child's pipe end and process; None without fork, or once closed.
        self._child: tuple[Connection, BaseProcess] | None = None
        self._pending: Path | None = None

    @classmethod
    def start(cls) -> PdfRenderer:
        """A renderer whose child has begun importing WeasyPrint (in-process without fork)."""
        renderer = cls()
        if can_fork():
            renderer._child = fork_child(_serve)
        return renderer

    def __enter__(self) -> PdfRenderer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(abandon=kind is not None)

    def submit(self, html: str, base: Path, target: Path) -> None:
        """Begin rendering ``html`` into ``target``; :meth:`wait` waits for it."""
        self.wait()
        if self._child is None:
            write_pdf(html, base, target)
            return
        conn, process = self._child
        job: Job = (html, str(base), str(target))
        try:
            conn.send(job)
        except OSError:  # the child is gone: its end of the pipe is closed
            raise _died(process, target) from None
        self._pending = target

    def wait(self) -> None:
        """Wait for the PDF in progress; raise what kept it from being written."""
        if self._pending is None or self._child is None:
            return
        conn, process = self._child
        target, self._pending = self._pending, None
        try:
            outcome: tuple[Any, ...] | None = conn.recv()
        except EOFError:
            raise _died(process, target) from None
        if outcome is None:
            return
        if outcome[0] == "os":
            _, errno, strerror, filename = outcome
            raise OSError(errno, strerror, filename)
        msg = f"WeasyPrint could not render {target.name}: {outcome[1]}"
        raise ReportError(
            msg,
            hint="report.html and the figures are complete in the same run; "
            "reinstall snpapp's Python packages (make venv) if WeasyPrint itself is broken",
        )

    def close(self, *, abandon: bool = False) -> None:
        """Stop the child: after the PDF in progress, or at once when ``abandon``."""
        if self._child is None:
            return
        conn, process = self._child
        self._child = None
        self._pending = None
        if abandon:
            process.kill()
        else:
            try:
                conn.send(None)
            except OSError:
                process.kill()
        process.join()
        conn.close()


def _died(process: BaseProcess, target: Path) -> ReportError:
    return died(process, f"the PDF renderer process died while rendering {target.name}")
