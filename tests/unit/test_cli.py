"""The CLI edge: exit codes, error presentation, global options."""

from __future__ import annotations

from pathlib import Path

import pytest

from snpappliance import __version__
from snpappliance.errors import ConfigError, InputError
from tests.conftest import SnpappRunner


def test_version(snpapp: SnpappRunner) -> None:
    code, out, _ = snpapp("--version")
    assert code == 0
    assert out.strip() == f"snpapp {__version__}"


def test_help_teaches_the_four_steps(snpapp: SnpappRunner) -> None:
    code, out, _ = snpapp("--help")
    assert code == 0
    for command in ("build", "deploy", "campaign", "report", "import", "doctor", "stacks"):
        assert command in out


def test_unknown_command_is_a_usage_error(snpapp: SnpappRunner) -> None:
    code, _, err = snpapp("frobnicate")
    assert code == 2
    assert "frobnicate" in err


def test_errors_show_message_and_hint_without_traceback(
    snpapp: SnpappRunner, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.csv"
    code, out, err = snpapp("report", str(missing), "--out", str(tmp_path / "out"))
    assert code == InputError.exit_code
    assert out == ""
    assert f"results file {missing} does not exist" in " ".join(err.split())
    assert "hint:" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_debug_adds_the_traceback(snpapp: SnpappRunner, tmp_path: Path) -> None:
    code, _, err = snpapp("--debug", "report", str(tmp_path / "nope.csv"))
    assert code == InputError.exit_code
    assert "Traceback" in err


def test_help_paragraphs_are_reflowed_but_examples_kept() -> None:
    from snpappliance.cli import reflow_help

    text = """First line
    goes on.

    Prose that
    wraps here.

    Examples:

      snpapp build all --dry-run
      snpapp build guest
    """
    assert reflow_help(text) == (
        "First line goes on.\n\nProse that wraps here.\n\nExamples:\n\n"
        "  snpapp build all --dry-run\n  snpapp build guest"
    )


def test_error_text_is_not_read_as_markup(capsys: pytest.CaptureFixture[str]) -> None:
    from snpappliance.cli import _print_error

    _print_error(ConfigError("bad [workloads.pts]", hint="remove [workloads.pts]", detail="[x]"))
    err = capsys.readouterr().err
    assert "bad [workloads.pts]" in err
    assert "hint: remove [workloads.pts]" in err
    assert "│ [x]" in err
