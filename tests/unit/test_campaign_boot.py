"""Console watching during a boot: marker times, deadlines (fake clock), a lost connection."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pytest

from snpappliance.campaign.boot import (
    SHUTDOWN_S,
    BootLimits,
    BootRecord,
    Outcome,
    _Watch,
    boot_guest,
)
from snpappliance.campaign.judge import judge_boot
from snpappliance.errors import GuestError, TransportError
from snpappliance.hosts.local import LocalHost
from tests.factories import run_kind

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

LIMITS = BootLimits(boot_s=60.0, hard_s=200.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_markers_are_timed_and_deadlines_follow_the_boot() -> None:
    clock = FakeClock()
    log = io.StringIO()
    watch = _Watch(start=clock(), log=log, clock=clock)
    assert watch.deadline(LIMITS) == (160.0, Outcome.BOOT_TIMEOUT)
    clock.now = 103.5
    watch.feed("\x1b[2JSNPGUEST-INIT id=r1 uptime=3.1 nproc=2 mem_kb=1\r\nSNPGUEST-EVID")
    assert watch.t_init == 3.5
    clock.now = 104.0
    watch.feed("ENCE none\r\n===SNP-BEGIN id=r1 src=fw_cfg uptime=3.2===\r\n")
    assert watch.t_begin == 4.0
    assert watch.deadline(LIMITS) == (300.0, Outcome.HANG)
    clock.now = 110.0
    watch.feed("output\r\n===SNP-END id=r1 rc=0 uptime=9.0===\r\n[ 9.1] reboot: Power")
    assert watch.t_end == 10.0
    assert watch.deadline(LIMITS) == (110.0 + SHUTDOWN_S, Outcome.SHUTDOWN_TIMEOUT)
    watch.flush()
    assert log.getvalue().endswith("===SNP-END id=r1 rc=0 uptime=9.0===\r\n[ 9.1] reboot: Power")
    assert "SNPGUEST-EVIDENCE none\r\n" in log.getvalue()


def test_a_second_end_marker_does_not_move_the_first() -> None:
    clock = FakeClock()
    watch = _Watch(start=clock(), log=io.StringIO(), clock=clock)
    watch.feed("===SNP-BEGIN id=r1 src=fw_cfg uptime=3.2===\n===SNP-END id=r1 rc=0 uptime=4===\n")
    clock.now = 150.0
    watch.feed("===SNP-END id=r1 rc=124 uptime=50===\n")
    assert watch.t_end == 0.0


class _FarHost(LocalHost):
    """This machine posing as a remote host: status 255 then means ssh lost the connection."""

    @property
    def name(self) -> str:
        return "genoa01"

    @property
    def is_local(self) -> bool:
        return False


CUT_OFF = "echo 'SNPGUEST-INIT id=r1 uptime=3.1 nproc=2 mem_kb=1'; exit 255"


def test_status_255_over_ssh_is_a_lost_connection(tmp_path: Path) -> None:
    far = boot_guest(_FarHost(), ["sh", "-c", CUT_OFF], tmp_path / "far.log", LIMITS)
    assert (far.outcome, far.qemu_rc) == (Outcome.CONNECTION_LOST, 255)
    assert "connection-lost, qemu exit status 255" in (tmp_path / "far.log").read_text()
    # On this machine 255 is QEMU's own status: a crash, judged as such.
    near = boot_guest(LocalHost(), ["sh", "-c", CUT_OFF], tmp_path / "near.log", LIMITS)
    assert (near.outcome, near.qemu_rc) == (Outcome.EXITED, 255)
    with pytest.raises(TransportError, match="r1: connection lost") as lost:
        judge_boot(
            far, run_id="r1", kind=run_kind("sysbench-cpu"), expects_snp=False, log="far.log"
        )
    assert "crash" not in lost.value.message
    with pytest.raises(GuestError, match=r"crash: QEMU exited \(status 255\)"):
        judge_boot(
            near, run_id="r1", kind=run_kind("sysbench-cpu"), expects_snp=False, log="near.log"
        )


def test_a_connection_lost_after_the_end_marker_keeps_the_measurement() -> None:
    console = (
        "===SNP-BEGIN id=r1 src=fw_cfg uptime=4.0===\r\n"
        "sysbench 1.0.20\r\nCPU speed:\r\n    events per second:   291.42\r\n"
        "---SNP-WALL---\r\n5.31\r\n===SNP-END id=r1 rc=0 uptime=9.4===\r\n"
    )
    record = BootRecord(console, Outcome.CONNECTION_LOST, 255, 1.0, 2.0, 8.0, 8.1)
    verdict = judge_boot(
        record, run_id="r1", kind=run_kind("sysbench-cpu"), expects_snp=False, log="x"
    )
    assert verdict.status == "ok"
    assert verdict.measurements[0].value == 291.42


def test_the_pin_hook_runs_before_the_console_and_its_record_is_kept(tmp_path: Path) -> None:
    clock = FakeClock()
    seen: list[int] = []

    def pin(child: subprocess.Popen[bytes]) -> dict[str, Any]:
        seen.append(child.pid)
        clock.now += 7.0  # pinning takes time that is not the guest's
        return {"applied": True}

    script = "echo 'SNPGUEST-INIT id=r1 uptime=3.1 nproc=2 mem_kb=1'"
    record = boot_guest(
        LocalHost(), ["sh", "-c", script], tmp_path / "p.log", LIMITS, clock=clock, pin=pin
    )
    assert len(seen) == 1
    assert record.pinning == {"applied": True}
    assert record.t_init == 0.0
    assert record.t_exit == 0.0
    unpinned = boot_guest(LocalHost(), ["sh", "-c", script], tmp_path / "u.log", LIMITS)
    assert unpinned.pinning is None
