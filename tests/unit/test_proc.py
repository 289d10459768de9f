"""The process chokepoint: real commands, real failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from snpappliance import proc
from snpappliance.errors import CommandError, CommandTimeoutError, ToolNotFoundError
from tests.conftest import wait_for


def test_run_captures_output_and_status() -> None:
    result = proc.run(["sh", "-c", "echo out; echo err >&2"])
    assert result.ok
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"
    assert result.argv == ("sh", "-c", "echo out; echo err >&2")


def test_failure_carries_status_and_stderr_tail() -> None:
    script = "for i in $(seq 1 30); do echo line$i >&2; done; exit 3"
    with pytest.raises(CommandError) as info:
        proc.run(["sh", "-c", script])
    err = info.value
    assert err.returncode == 3
    assert "exit status 3" in err.message
    assert err.stderr_tail.splitlines() == [f"line{i}" for i in range(11, 31)]


def test_ok_codes_and_check_false() -> None:
    assert proc.run(["sh", "-c", "exit 1"], ok_codes=(0, 1)).returncode == 1
    assert proc.run(["false"], check=False).returncode == 1


def test_missing_program_is_a_tool_error() -> None:
    with pytest.raises(ToolNotFoundError, match="no-such-program-snpapp"):
        proc.run(["no-such-program-snpapp"])
    with pytest.raises(ToolNotFoundError):
        proc.which("no-such-program-snpapp")


def _in_background(pid_file: Path) -> str:
    """A shell script that leaves a grandchild (not holding the output pipes), then waits."""
    return f"sleep 300 >/dev/null 2>&1 & echo $! > {pid_file}; sleep 30"


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper is dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    with pytest.raises(CommandTimeoutError):
        proc.run(["sh", "-c", _in_background(pid_file)], timeout=0.5)
    grandchild = int(pid_file.read_text())
    wait_for(lambda: not _alive(grandchild), "the grandchild dying with its group", 10)


def test_log_file_keeps_command_and_output(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "build.log"
    proc.run(["sh", "-c", "echo hello"], log_file=log)
    with pytest.raises(CommandError) as info:
        proc.run(["sh", "-c", "echo bad >&2; exit 2"], log_file=log)
    text = log.read_text()
    assert "+ sh -c 'echo hello'" in text
    assert "hello" in text
    assert "bad" in text
    assert "# exit status 2" in text
    assert info.value.log_path == str(log)


def test_spawn_reaps_the_group_on_exit(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    with proc.spawn(["sh", "-c", _in_background(pid_file)]) as child:
        wait_for(lambda: pid_file.is_file() and pid_file.read_text().strip(), "the grandchild")
        assert child.poll() is None
    assert child.poll() is not None
    grandchild = int(pid_file.read_text())
    wait_for(lambda: not _alive(grandchild), "the grandchild dying with its group", 10)
