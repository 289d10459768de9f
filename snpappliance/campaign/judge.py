"""Judge one boot: measurements, an invalid scenario, or a transient failure to retry.

Success is the guest's ``===SNP-END ... rc=0===`` marker plus parsable
sysbench and GNU time output (for a PTS smoke run: a parsable
composite.xml), never QEMU's exit status. A boot that timed out, hung,
crashed, failed its workload or printed garbage raises :class:`GuestError`
or :class:`ParseError`; a boot cut short by a lost SSH connection raises
:class:`TransportError` (the runner retries all three). A guest whose
encryption evidence contradicts its scenario is *invalid*: that is a set-up
problem a retry cannot fix, so it is recorded at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from snpappliance.campaign.boot import BootRecord, Outcome
from snpappliance.campaign.console import SNP_ACTIVE, GuestOutput, parse_console
from snpappliance.campaign.ptsguest import COMPOSITE_MARKER
from snpappliance.campaign.spec import WorkloadKind
from snpappliance.errors import GuestError, ParseError, TransportError
from snpappliance.formats.smoke import SmokeResult
from snpappliance.workloads.parsers import (
    METRIC_CPU,
    METRIC_RAM_BW,
    WORKLOAD_CPU,
    Measurement,
    parse_gnu_time,
    parse_sysbench,
)
from snpappliance.workloads.pts import parse_composite

STATUS_OK = "ok"
STATUS_INVALID = "invalid"
STATUS_FAILED = "failed"
#: The guest watchdog's exit status (snp.timeout), as in coreutils timeout.
WATCHDOG_RC = 124


@dataclass(frozen=True)
class Verdict:
    status: str
    measurements: tuple[Measurement, ...]
    reason: str
    evidence: tuple[str, ...]
    #: A PTS smoke run's results (they go to smoke.csv, never to results.csv).
    smoke: tuple[SmokeResult, ...] = ()


def primary_metric(workload: str) -> str:
    """The metric a workload is scored by (a failed run's row carries it, empty)."""
    return METRIC_CPU if workload == WORKLOAD_CPU else METRIC_RAM_BW


def _hint(log: str) -> str:
    return f"see the raw console log {log}; the runner retries this run"


def _check_finished(boot: BootRecord, guest: GuestOutput, run_id: str, log: str) -> None:
    if boot.outcome == Outcome.BOOT_TIMEOUT:
        msg = f"{run_id}: boot timeout: the workload did not start in time"
        raise GuestError(msg, hint=_hint(log))
    if boot.outcome == Outcome.HANG:
        msg = f"{run_id}: hang: the guest did not finish before the hard deadline"
        raise GuestError(msg, hint=_hint(log))
    if not guest.finished and boot.outcome == Outcome.CONNECTION_LOST:
        msg = (
            f"{run_id}: connection lost: the SSH connection to the host dropped before the "
            "guest's END marker (ssh exit status 255)"
        )
        raise TransportError(
            msg,
            hint="the runner retries this run; if the host stays unreachable the campaign "
            "stops and `snpapp campaign --resume DIR` continues it",
        )
    if not guest.finished:
        msg = f"{run_id}: crash: QEMU exited (status {boot.qemu_rc}) before the guest's END marker"
        raise GuestError(
            msg,
            hint=_hint(log),
        )
    if guest.run_id is not None and guest.run_id != run_id:
        msg = f"{run_id}: the console belongs to guest {guest.run_id!r}"
        raise GuestError(msg, hint=_hint(log))
    if guest.rc == WATCHDOG_RC:
        msg = f"{run_id}: watchdog: the workload ran past the guest's timeout"
        raise GuestError(msg, hint=_hint(log))
    if guest.rc != 0:
        msg = f"{run_id}: the workload exited with status {guest.rc}"
        raise GuestError(msg, hint=_hint(log))


def _measurements(guest: GuestOutput, workload: str, source: str) -> tuple[Measurement, ...]:
    sysbench_text, time_text = guest.sections()
    score = parse_sysbench(sysbench_text, source=source).measurement
    if score.workload != workload:
        msg = f"{source}: expected {workload} output, found {score.workload}"
        raise ParseError(
            msg,
            hint="the guest ran the wrong workload; see the raw log",
        )
    wall = parse_gnu_time(time_text, source=source, workload=workload)
    return score, replace(wall, workload=workload)


def _smoke(guest: GuestOutput, source: str) -> tuple[SmokeResult, ...]:
    _, marker, xml = guest.payload.partition(COMPOSITE_MARKER + "\n")
    if not marker:
        msg = f"{source}: the smoke run printed no {COMPOSITE_MARKER} and composite.xml"
        raise ParseError(
            msg,
            hint="phoronix-test-suite saved no result; see the raw log for its output",
        )
    return tuple(parse_composite(xml, source=f"{source} (composite.xml)"))


def judge_boot(
    boot: BootRecord, *, run_id: str, workload: str, expects_snp: bool, log: str
) -> Verdict:
    """The verdict on one boot; raises GuestError/ParseError/TransportError to retry it."""
    guest = parse_console(boot.console)
    _check_finished(boot, guest, run_id, log)
    smoke = workload == WorkloadKind.PTS
    measurements = () if smoke else _measurements(guest, workload, source=log)
    results = _smoke(guest, source=log) if smoke else ()
    if guest.snp_active != expects_snp:
        found = "present" if guest.snp_active else "absent"
        want = "present" if expects_snp else "absent"
        reason = f"evidence contradicts the scenario: {SNP_ACTIVE!r} is {found}, must be {want}"
        return Verdict(STATUS_INVALID, measurements, reason, guest.evidence, results)
    return Verdict(STATUS_OK, measurements, "", guest.evidence, results)
