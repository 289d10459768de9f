"""Shared test helpers.

Integration tests use the real programs. Outside CI a missing program skips the
test with the reason; in CI (``CI=true``) it fails it: a green CI never hides a
component that was not there.
"""

from __future__ import annotations

import os
import shutil

import pytest

from snpappliance.cli import run_cli

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_program(name: str) -> str:
    """Path of ``name``; skip (locally) or fail (in CI) when it is missing."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (make test installs it when run as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


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
