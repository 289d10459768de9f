"""The CLI edge: exit codes, error presentation, global options, help, stop signals."""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

import pytest

from snpappliance import __version__
from snpappliance.cli.interrupts import stop_signals_interrupt
from snpappliance.errors import ConfigError, InputError, InterruptedByUser

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SnpappRunner

#: Every command and subcommand, as typed after `snpapp`.
COMMANDS = [
    ("build",), ("build", "all"), ("build", "kernel"), ("build", "qemu"), ("build", "ovmf"),
    ("build", "svsm"), ("build", "guest"), ("build", "base"), ("stacks",), ("deploy",),
    ("doctor",), ("campaign",), ("campaign", "status"), ("campaign", "init"),
    ("campaign", "validate"), ("report",), ("import",),
    ("host",), ("host", "show"), ("host", "tune"), ("host", "reset"),
]  # fmt: skip


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
    from snpappliance.cli.edge import reflow_help

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
        "\b\n  snpapp build all --dry-run\n  snpapp build guest"
    )


def test_help_keeps_example_lines_as_written(snpapp: SnpappRunner) -> None:
    code, out, _err = snpapp("campaign", "--help")
    assert code == 0
    lines = out.splitlines()
    assert "    snpapp campaign --resume campaigns/20261126-101500-local" in lines
    assert "\\[" not in out


def test_error_text_is_not_read_as_markup(capsys: pytest.CaptureFixture[str]) -> None:
    from snpappliance.cli.edge import print_error

    print_error(ConfigError("bad [workloads.pts]", hint="remove [workloads.pts]", detail="[x]"))
    err = capsys.readouterr().err
    assert "bad [workloads.pts]" in err
    assert "hint: remove [workloads.pts]" in err
    assert "│ [x]" in err


def test_version_is_the_same_line_with_other_options(snpapp: SnpappRunner) -> None:
    assert snpapp("--debug", "--version") == snpapp("--version")


def test_usage_errors_show_the_usage_and_what_was_wrong(snpapp: SnpappRunner) -> None:
    code, out, err = snpapp("doctor", "--bogus")
    assert code == 2
    assert out == ""
    assert "Usage: snpapp doctor [OPTIONS]" in err
    assert "Try 'snpapp doctor --help' for help." in err
    assert "snpapp: usage error: No such option: --bogus" in err
    assert "Traceback" not in err


def test_a_group_without_arguments_shows_its_help(snpapp: SnpappRunner) -> None:
    code, out, err = snpapp("build")
    assert code == 2
    assert "Usage: snpapp build [OPTIONS] COMMAND [ARGS]..." in out + err
    assert "usage error" not in err


def test_commands_are_listed_in_workflow_order(snpapp: SnpappRunner) -> None:
    _, out, _ = snpapp("--help")
    commands = out.split("Commands:", 1)[1]
    names = [line.split()[0] for line in commands.splitlines() if line.startswith("  ")]
    expected = ["build", "deploy", "campaign", "report", "doctor", "import", "stacks", "host"]
    assert names == expected


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_has_an_example(snpapp: SnpappRunner, command: tuple[str, ...]) -> None:
    code, out, _ = snpapp(*command, "--help")
    assert code == 0
    examples = [line for line in out.splitlines() if "Example" in line]
    assert examples, out
    assert any(f"snpapp {' '.join(command)}" in line for line in out.splitlines()[3:]), out


def test_every_command_is_listed_here(snpapp: SnpappRunner) -> None:
    from snpappliance.cli.edge import Command, build_command

    def walk(command: Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        found = [path] if path else []
        for name, sub in getattr(command, "commands", {}).items():
            found += walk(sub, (*path, name))
        return found

    assert sorted(walk(build_command(), ())) == sorted(COMMANDS)


def test_the_command_path_is_read_from_the_arguments() -> None:
    from snpappliance.cli.edge import build_command, command_path

    root = build_command()
    assert command_path(root, ["campaign", "--campaigns", "c", "status", "x"]) == (
        "snpapp campaign status"
    )
    assert command_path(root, ["--debug", "report", "results.csv"]) == "snpapp report"
    assert command_path(root, []) == "snpapp"


def test_sigterm_in_a_command_ends_it_like_ctrl_c(
    snpapp: SnpappRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def terminated(**_: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        msg = "SIGTERM did not interrupt the command"
        raise AssertionError(msg)

    monkeypatch.setattr("snpappliance.doctor.command.doctor", terminated)
    before = signal.getsignal(signal.SIGTERM)
    code, out, err = snpapp("doctor")
    assert (code, out) == (128 + signal.SIGTERM, "")
    assert err.splitlines() == ["snpapp doctor: interrupted by SIGTERM"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_command_cleaning_up_after_sighup_keeps_its_message(
    snpapp: SnpappRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hung_up(**_: object) -> None:
        try:
            os.kill(os.getpid(), signal.SIGHUP)
        except KeyboardInterrupt:
            msg = "doctor stopped"
            raise InterruptedByUser(msg, hint="run it again") from None

    monkeypatch.setattr("snpappliance.doctor.command.doctor", hung_up)
    code, _, err = snpapp("doctor")
    assert code == 128 + signal.SIGHUP
    assert "snpapp: interrupted by SIGHUP: doctor stopped" in err
    assert "hint: run it again" in err


def test_stop_signals_raise_keyboard_interrupt_and_are_remembered() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_signals_interrupt() as seen, pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)
    assert seen.signum == signal.SIGTERM
    assert seen.exit_code(130) == 143
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_ignored_signal_stays_ignored() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stop_signals_interrupt() as seen:
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)
        assert seen.signum is None
    finally:
        signal.signal(signal.SIGHUP, previous)
