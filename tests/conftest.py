"""Shared test helpers.

Integration tests use the real programs. Outside CI a missing program skips the
test with the reason; in CI (``CI=true``) it fails it: a green CI never hides a
component that was not there.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from typing import TYPE_CHECKING, NoReturn

import pytest

from snpappliance.cli import run_cli

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    """Let the programs the tests start receive SIGINT and SIGHUP as a terminal would send them.

    A runner started in the background (``cmd &`` without job control, nohup, some
    CI agents) ignores SIGINT or SIGHUP, and an ignored signal stays ignored in
    every child: snpapp, as it should, then keeps ignoring it, and the tests of
    its Ctrl-C and hang-up handling would test nothing.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)


def unavailable(message: str) -> NoReturn:
    """Skip the test (locally) or fail it (in CI): something it needs is missing."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def require_program(name: str) -> str:
    """Path of ``name``; skip (locally) or fail (in CI) when it is missing."""
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed (make test installs it when run as root)")
    return path


def require_file(path: Path, package: str) -> Path:
    """``path``; skip (locally) or fail (in CI) when missing (Debian package ``package``)."""
    if not path.is_file():
        unavailable(f"{path} is missing (apt-get install {package}; make test does it as root)")
    return path


def wait_for(
    condition: Callable[[], object], what: str, timeout_s: float = 30.0, every_s: float = 0.1
) -> None:
    """Poll ``condition`` until it is true; fail the test saying ``what`` never happened.

    Tests synchronise with real programs this way, never with a fixed sleep:
    the deadline only bounds a failure, it is not a timing assertion.
    """
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout_s:g} s")
        time.sleep(every_s)


class SnpappRunner:
    """Runs the real CLI edge in-process and captures what the user sees."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self._capsys.readouterr()
        code = run_cli(list(args))
        out, err = self._capsys.readouterr()
        return code, out, err


@pytest.fixture
def snpapp(capsys: pytest.CaptureFixture[str]) -> SnpappRunner:
    """``code, stdout, stderr = snpapp("report", "x.csv")``."""
    return SnpappRunner(capsys)
