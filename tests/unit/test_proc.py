"""The process chokepoint: real commands, real failures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from snpappliance import proc
from snpappliance.errors import CommandError, CommandTimeoutError, ToolNotFoundError


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


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "survived"
    # The grandchild would create the marker after 2 s if it outlived the kill.
    script = f"(sleep 2; touch {marker}) & sleep 30"
    start = time.monotonic()
    with pytest.raises(CommandTimeoutError):
        proc.run(["sh", "-c", script], timeout=0.5)
    assert time.monotonic() - start < 10
    time.sleep(2.5)
    assert not marker.exists()


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
    marker = tmp_path / "survived"
    with proc.spawn(["sh", "-c", f"(sleep 2; touch {marker}) & sleep 30"]) as child:
        assert child.poll() is None
    assert child.poll() is not None
    time.sleep(2.5)
    assert not marker.exists()
