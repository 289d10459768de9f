"""Judge one boot: measurements, an invalid scenario, or a transient failure to retry.

Success is the guest's ``===SNP-END ... rc=0===`` marker plus parsable
output of its workload (sysbench and GNU time; fio's or iperf3's JSON; for a
PTS smoke run a parsable composite.xml), never QEMU's exit status. Every run
also yields its boot metrics: ``boot_s`` (host clock, QEMU start to the
BEGIN marker) and ``kernel_boot_s`` (the guest kernel's uptime when /init
started), under the workload ``boot-<memory>mib``. A boot that timed out, hung,
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
from snpappliance.campaign.spec import (
    BootSweep,
    FioWorkload,
    Iperf3Workload,
    IperfDirection,
    PtsSmoke,
    SysbenchCpu,
    SysbenchMemory,
    Workload,
)
from snpappliance.errors import GuestError, ParseError, TransportError
from snpappliance.formats.smoke import SmokeResult
from snpappliance.workloads.fio import METRIC_READ_BW, METRIC_WRITE_BW, parse_fio
from snpappliance.workloads.iperf3 import METRIC_RECEIVER, iperf3_workload, parse_iperf3
from snpappliance.workloads.parsers import (
    METRIC_CPU,
    METRIC_RAM_BW,
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
    #: (tool, its JSON as the guest printed it) for fio and iperf3, kept beside the raw log.
    tool_json: tuple[str, str] | None = None


def _tool_json(kind: RunKind, guest: GuestOutput) -> tuple[str, str] | None:
    """fio's or iperf3's own JSON document (named by the workload), when the run is one."""
    if not isinstance(kind.workload, FioWorkload | Iperf3Workload):
        return None
    return kind.workload.name, guest.payload.replace("\r\n", "\n")


METRIC_BOOT = "boot_s"
METRIC_KERNEL_BOOT = "kernel_boot_s"


@dataclass(frozen=True)
class RunKind:
    """What one run is judged by: its workload, and how its boot is measured."""

    workload: Workload
    #: The workload name of the run's boot metrics (``boot-<memory>mib``).
    boot_workload: str
    #: Whether the guest's INIT line carries the kernel's own boot time (the minimal
    #: guest's /init); the cloud guest's comes from an SSH session long after boot.
    kernel_boot: bool


def scored(kind: RunKind) -> list[tuple[str, str]]:
    """The (workload, metric) each row of a failed run carries, empty: its main metrics."""
    w = kind.workload
    if isinstance(w, SysbenchCpu):
        return [(w.name, METRIC_CPU)]
    if isinstance(w, SysbenchMemory):
        return [(w.name, METRIC_RAM_BW)]
    if isinstance(w, FioWorkload):
        return [(job.name, METRIC_READ_BW if job.rw.reads else METRIC_WRITE_BW) for job in w.jobs]
    if isinstance(w, Iperf3Workload):
        name = iperf3_workload(w.protocol.value, w.direction is IperfDirection.HOST_TO_GUEST)
        return [(name, METRIC_RECEIVER)]
    return [(kind.boot_workload, METRIC_BOOT)]


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


def _sysbench(guest: GuestOutput, workload: str, source: str) -> tuple[Measurement, ...]:
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


def _fio(guest: GuestOutput, fio: FioWorkload, source: str) -> tuple[Measurement, ...]:
    found = parse_fio(guest.payload, source=source)
    missing = [j.name for j in fio.jobs if not any(m.workload == j.name for m in found)]
    if missing:
        msg = f"{source}: fio reported no I/O for job {', '.join(missing)}"
        raise ParseError(msg, hint="see fio's JSON in the raw log")
    return tuple(found)


def _boot(boot: BootRecord, guest: GuestOutput, kind: RunKind) -> tuple[Measurement, ...]:
    """``boot_s`` (host clock, QEMU start → BEGIN) and the guest kernel's ``kernel_boot_s``."""
    found: list[Measurement] = []
    if boot.t_begin is not None:
        found.append(Measurement(METRIC_BOOT, round(boot.t_begin, 3), "s", kind.boot_workload))
    if kind.kernel_boot and guest.init_uptime is not None:
        found.append(Measurement(METRIC_KERNEL_BOOT, guest.init_uptime, "s", kind.boot_workload))
    return tuple(found)


def _measurements(
    boot: BootRecord, guest: GuestOutput, kind: RunKind, source: str
) -> tuple[Measurement, ...]:
    w = kind.workload
    if isinstance(w, SysbenchCpu | SysbenchMemory):
        own = _sysbench(guest, w.name, source)
    elif isinstance(w, FioWorkload):
        own = _fio(guest, w, source)
    elif isinstance(w, Iperf3Workload):
        own = tuple(parse_iperf3(guest.payload, source=source))
    else:
        assert isinstance(w, BootSweep)
        own = ()
    return (*own, *_boot(boot, guest, kind))


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
    boot: BootRecord, *, run_id: str, kind: RunKind, expects_snp: bool, log: str
) -> Verdict:
    """The verdict on one boot; raises GuestError/ParseError/TransportError to retry it."""
    guest = parse_console(boot.console)
    _check_finished(boot, guest, run_id, log)
    smoke = isinstance(kind.workload, PtsSmoke)
    measurements = () if smoke else _measurements(boot, guest, kind, source=log)
    results = _smoke(guest, source=log) if smoke else ()
    tool_json = _tool_json(kind, guest)
    if guest.snp_active != expects_snp:
        found = "present" if guest.snp_active else "absent"
        want = "present" if expects_snp else "absent"
        reason = f"evidence contradicts the scenario: {SNP_ACTIVE!r} is {found}, must be {want}"
        return Verdict(STATUS_INVALID, measurements, reason, guest.evidence, results, tool_json)
    return Verdict(STATUS_OK, measurements, "", guest.evidence, results, tool_json)
