"""Console watching during a boot: marker times and which deadline applies (fake clock)."""

from __future__ import annotations

import io

from snpappliance.campaign.boot import SHUTDOWN_S, BootLimits, Outcome, _Watch

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
