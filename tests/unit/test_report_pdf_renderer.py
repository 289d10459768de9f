"""The PDF renderer process: real WeasyPrint in a forked child, its failures told here."""

from __future__ import annotations

import errno
import multiprocessing
import os
import signal
from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import ReportError
from snpappliance.report.pdf import PdfRenderer

if TYPE_CHECKING:
    from pathlib import Path

PAGE = "<html><body><h1>snpapp</h1><p>one page</p></body></html>"


def test_renders_one_pdf_after_another(tmp_path: Path) -> None:
    with PdfRenderer.start() as pdf:
        for name in ("a.pdf", "b.pdf"):
            pdf.submit(PAGE, tmp_path, tmp_path / name)
            pdf.wait()
    assert (tmp_path / "a.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "b.pdf").read_bytes()[:5] == b"%PDF-"
    assert multiprocessing.active_children() == []


def test_an_unwritable_target_is_an_os_error_here(tmp_path: Path) -> None:
    with PdfRenderer.start() as pdf:
        pdf.submit(PAGE, tmp_path, tmp_path / "missing" / "report.pdf")
        with pytest.raises(OSError, match="No such file") as caught:
            pdf.wait()
    assert caught.value.errno == errno.ENOENT


def test_a_renderer_that_died_is_a_report_error(tmp_path: Path) -> None:
    with PdfRenderer.start() as pdf:
        child = multiprocessing.active_children()[0]
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        died = r"died while rendering report.pdf \(exit status -9\)"
        with pytest.raises(ReportError, match=died):
            pdf.submit(PAGE, tmp_path, tmp_path / "report.pdf")
    assert multiprocessing.active_children() == []


def interrupted(directory: Path) -> None:
    with PdfRenderer.start() as pdf:
        pdf.submit(PAGE, directory, directory / "report.pdf")
        raise KeyboardInterrupt


def test_leaving_on_an_error_stops_the_renderer_at_once(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        interrupted(tmp_path)
    assert multiprocessing.active_children() == []
