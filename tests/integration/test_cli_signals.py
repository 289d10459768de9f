"""SIGTERM and SIGHUP stop a command exactly like Ctrl-C: one line, 128 + signal, no leftovers.

The command is a real `snpapp doctor` on this machine. Its gather script runs
`dmesg` through :mod:`snpappliance.proc`, in a process group of its own; a
`dmesg` placed first on PATH says it has started and then sleeps, so the
signal reaches snpapp while that external command is running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from snpappliance import proc

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

SLOW_DMESG = """#!/bin/sh
echo $$ > "$SNPAPP_TEST_READY.tmp"
mv "$SNPAPP_TEST_READY.tmp" "$SNPAPP_TEST_READY"
exec sleep 300
"""

STOP_SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]


def _live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that still run (zombies waiting for init do not)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp …; comm may hold spaces, so split after ")".
        state, _ppid, pgrp = stat.rpartition(")")[2].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=[s.name for s in STOP_SIGNALS])
def test_a_stop_signal_ends_the_command_like_ctrl_c(signum: signal.Signals, tmp_path: Path) -> None:
    if signal.getsignal(signum) is signal.SIG_IGN:
        pytest.skip(f"{signum.name} is ignored here, so snpapp rightly keeps ignoring it (nohup)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dmesg"
    fake.write_text(SLOW_DMESG)
    fake.chmod(0o755)
    ready = tmp_path / "dmesg.pid"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
        "SNPAPP_TEST_READY": str(ready),
    }
    argv = [sys.executable, "-m", "snpappliance", "doctor", "--prefix", str(tmp_path / "none")]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    group: int | None = None
    try:
        with (
            out.open("wb") as out_fh,
            err.open("wb") as err_fh,
            proc.spawn(argv, env=env, stdout=out_fh, stderr=err_fh) as child,
        ):
            deadline = time.monotonic() + 60
            while not ready.exists():
                assert child.poll() is None, err.read_text()
                assert time.monotonic() < deadline, "the gather script never ran dmesg"
                time.sleep(0.05)
            group = os.getpgid(int(ready.read_text()))
            assert group != os.getpgid(child.pid), "dmesg runs in a process group of its own"
            os.kill(child.pid, signum)
            code = child.wait(timeout=60)
        text = err.read_text()
        assert code == 128 + signum, text
        assert text.splitlines() == [f"snpapp doctor: interrupted by {signum.name}"], text
        deadline = time.monotonic() + 30
        while _live_members(group):
            assert time.monotonic() < deadline, f"left running: {_live_members(group)}"
            time.sleep(0.05)
    finally:
        if group is not None:  # a failed test leaves nothing behind either
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
