"""One planned run: attempts with retries, every attempt recorded, then the run committed.

An attempt boots a fresh guest, runs one workload and is judged. A transient
failure (boot timeout, hang, crash, failed workload, unparsable output, the
SSH connection lost) is recorded in ``attempts.jsonl`` with its reason and raw
log, and the run is retried with exponential backoff (tenacity) up to the
spec's attempts. The run is then committed: its rows are fsynced to
``results.csv`` (the measurements, or one row with status ``failed``/``invalid``
and no value; a PTS smoke run's rows go to ``smoke.csv`` instead), then its
``run`` record to ``attempts.jsonl``. A run whose last attempt lost the
connection to its host is not committed: the error stops the campaign, and
``--resume`` runs it again once the host answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from snpappliance.attestation.nonce import RunNonce
from snpappliance.campaign import store
from snpappliance.campaign.attest import AttestationPlan, judge_console, request_step
from snpappliance.campaign.boot import BootLimits, BootRecord
from snpappliance.campaign.guests.base import BootRequest, BootSite
from snpappliance.campaign.hoststate import run_state
from snpappliance.campaign.iosetup import run_devices
from snpappliance.campaign.judge import (
    STATUS_FAILED,
    STATUS_INVALID,
    STATUS_OK,
    RunKind,
    Verdict,
    judge_boot,
    scored,
)
from snpappliance.campaign.plan import PlannedRun
from snpappliance.campaign.prepare import Prepared
from snpappliance.campaign.qemu import BootConfig
from snpappliance.campaign.scripts import workload_script
from snpappliance.campaign.spec import CampaignSpec, GuestKind, PtsSmoke, boot_workload
from snpappliance.errors import GuestError, ParseError, TransportError
from snpappliance.formats.campaigndir import CampaignDir
from snpappliance.formats.results import append_rows
from snpappliance.formats.smoke import (
    SmokeRow,
    SmokeStatus,
    append_smoke,
    failed_smoke_rows,
    smoke_rows,
)
from snpappliance.fsutil import atomic_write_text
from snpappliance.hosts.base import Host
from snpappliance.log import console
from snpappliance.tuning.state import HostState

if TYPE_CHECKING:
    from pathlib import Path


#: The status of an attempt cut short by Ctrl-C or a signal (recorded, never committed).
STATUS_INTERRUPTED = "interrupted"

#: Failures a fresh boot may not repeat: these are retried.
TRANSIENT = (GuestError, ParseError, TransportError)


@dataclass(frozen=True)
class RunContext:
    """What every run of one campaign shares."""

    spec: CampaignSpec
    host: Host
    cdir: CampaignDir
    prepared: Prepared
    #: Where workload scripts go on the host (the campaign's work dir for a local host).
    host_work: str
    #: What every run's attestation report must show (campaign.json).
    attestation: AttestationPlan
    #: The host's state when the campaign was created (environment.json), re-checked per run.
    host_state: HostState | None = None
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class RunOutcome:
    run: PlannedRun
    status: str
    attempts: int
    reason: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _stage(ctx: RunContext, name: str, text: str) -> str:
    """Write ``text`` to the work file ``name``; return its path on the host."""
    local = ctx.cdir.work / name
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text(text, encoding="utf-8")
    if ctx.host.is_local:
        return str(local.resolve())
    remote = f"{ctx.host_work}/{local.name}"
    ctx.host.put(local, remote)
    return remote


@dataclass(frozen=True)
class Staged:
    """A run's scripts on the host: its workload and its attestation step."""

    workload: str
    attest: str
    attest_step: str


def _stage_scripts(ctx: RunContext, run: PlannedRun, nonce: RunNonce) -> Staged:
    workload = ctx.spec.workload(run.workload)
    step = request_step(nonce)
    return Staged(
        _stage(ctx, f"{run.run_id}.sh", workload_script(workload, ctx.spec.guest.vcpus)),
        _stage(ctx, f"{run.run_id}.attest.sh", step),
        step,
    )


def _watchdog_s(spec: CampaignSpec, run: PlannedRun) -> int:
    """The guest-side watchdog: the spec's workload timeout, or the smoke run's own."""
    workload = spec.workload(run.workload)
    return workload.timeout_s if isinstance(workload, PtsSmoke) else int(spec.timeouts.workload_s)


def run_limits(spec: CampaignSpec, run: PlannedRun) -> BootLimits:
    """Boot timeout and hard deadline of one attempt (a smoke run has its own watchdog)."""
    t = spec.timeouts
    return BootLimits(t.boot_s, t.boot_s + _watchdog_s(spec, run) + t.grace_s)


def run_kind(spec: CampaignSpec, run: PlannedRun) -> RunKind:
    """What ``run`` is judged by: its workload and where its boot metrics go."""
    return RunKind(
        spec.workload(run.workload),
        boot_workload(spec.memory_mib(run.workload)),
        kernel_boot=spec.guest.kind is GuestKind.MINIMAL,
    )


def boot_config(
    ctx: RunContext, run: PlannedRun, staged: Staged, devices: tuple[str, ...] = ()
) -> BootConfig:
    spec, prepared = ctx.spec, ctx.prepared
    return BootConfig(
        qemu=spec.qemu.binary,
        accel=spec.qemu.accel,
        kind=spec.scenario(run.scenario).kind,
        vcpus=spec.guest.vcpus,
        memory_mib=spec.memory_mib(run.workload),
        kernel="",
        initrd="",
        workload_file=staged.workload,
        run_id=run.run_id,
        watchdog_s=_watchdog_s(spec, run),
        cpu=spec.guest.cpu,
        firmware=prepared.firmware,
        snp_policy=spec.snp.policy,
        cbitpos=prepared.cbitpos,
        reduced_phys_bits=spec.snp.reduced_phys_bits,
        devices=devices,
        attest_file=staged.attest,
    )


def _timing(boot: BootRecord) -> dict[str, Any]:
    return {
        "t_init": boot.t_init,
        "t_begin": boot.t_begin,
        "t_end": boot.t_end,
        "t_exit": round(boot.t_exit, 3),
        "qemu_rc": boot.qemu_rc,
        "outcome": boot.outcome,
    }


def _note_guest(cdir: CampaignDir, pid: int) -> None:
    """Remember the running QEMU so that a resume after kill -9 can stop an orphan."""
    cdir.guest_pid_file.write_text(f"{pid}\n", encoding="utf-8")


def _site(ctx: RunContext) -> BootSite:
    on_spawn = partial(_note_guest, ctx.cdir) if ctx.host.is_local else None
    return BootSite(ctx.host, ctx.cdir.campaign_id, ctx.cdir.work, ctx.host_work, on_spawn)


def _boot(
    ctx: RunContext, run: PlannedRun, staged: Staged, log: Path, limits: BootLimits
) -> BootRecord:
    """Boot the spec's guest once (whatever its kind) and run the run's workload in it."""
    with run_devices(ctx.host, ctx.spec, run.workload, ctx.host_work, run.run_id) as devices:
        request = BootRequest(
            boot_config(ctx, run, staged, devices),
            ctx.spec.workload(run.workload),
            log,
            limits,
            attest_step=staged.attest_step,
        )
        return ctx.prepared.guest.boot(_site(ctx), request)


def _attested(
    ctx: RunContext, run: PlannedRun, boot: BootRecord, verdict: Verdict, nonce: RunNonce
) -> tuple[Verdict, dict[str, Any]]:
    """``verdict``, made invalid when the boot's attestation does not prove its scenario."""
    expects_snp = ctx.spec.scenario(run.scenario).kind.expects_snp
    record = judge_console(boot.console, expects_snp=expects_snp, nonce=nonce, plan=ctx.attestation)
    if record.valid or verdict.status != STATUS_OK:
        return verdict, record.to_json()
    reason = f"attestation: {record.reason}"
    return replace(verdict, status=STATUS_INVALID, reason=reason), record.to_json()


def _attempt(
    ctx: RunContext,
    run: PlannedRun,
    number: int,
    staged: Staged,
    nonce: RunNonce,
    host_state: dict[str, Any],
) -> Verdict:
    """Boot and judge once; record the attempt whatever happens to it."""
    log = ctx.cdir.log_for(run.run_id, number)
    limits = run_limits(ctx.spec, run)
    record: dict[str, Any] = {
        "record": store.RECORD_ATTEMPT,
        "run_id": run.run_id,
        "attempt": number,
        "started_at": _now(),
        "log": str(log.relative_to(ctx.cdir.path)),
        "host_state": host_state,
    }
    try:
        boot = _boot(ctx, run, staged, log, limits)
    except TransportError as exc:  # the host did not answer: no guest was started
        store.append_record(ctx.cdir.attempts, {**record, "status": "error", "reason": exc.message})
        raise
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP: the guest was killed
        store.append_record(
            ctx.cdir.attempts,
            {**record, "status": STATUS_INTERRUPTED, "reason": "interrupted: the guest was killed"},
        )
        raise
    if ctx.host.is_local:
        ctx.cdir.guest_pid_file.unlink(missing_ok=True)
    record.update(_timing(boot))
    if boot.pinning is not None:  # what a pinned boot applied, read back from /proc
        record["pinning"] = boot.pinning
    expects_snp = ctx.spec.scenario(run.scenario).kind.expects_snp
    try:
        verdict = judge_boot(
            boot,
            run_id=run.run_id,
            kind=run_kind(ctx.spec, run),
            expects_snp=expects_snp,
            log=str(log),
        )
        verdict, attestation = _attested(ctx, run, boot, verdict, nonce)
    except TRANSIENT as exc:
        store.append_record(ctx.cdir.attempts, {**record, "status": "error", "reason": exc.message})
        raise
    if verdict.tool_json is not None:
        tool, text = verdict.tool_json
        kept = ctx.cdir.tool_json_for(run.run_id, number, tool)
        atomic_write_text(kept, text)
        record["tool_json"] = str(kept.relative_to(ctx.cdir.path))
    store.append_record(
        ctx.cdir.attempts,
        {
            **record,
            "status": verdict.status,
            "reason": verdict.reason,
            "evidence": list(verdict.evidence),
            "attestation": attestation,
        },
    )
    return verdict


def _rows(
    ctx: RunContext, run: PlannedRun, verdict: Verdict | None, attempt: int, started: str
) -> list[dict[str, object]]:
    base = {
        "scenario": run.scenario,
        "rep": run.rep,
        "host": ctx.host.name,
        "run_id": run.run_id,
        "attempt": attempt,
        "started_at": started,
    }
    if verdict is None or verdict.status != "ok":
        status = STATUS_FAILED if verdict is None else verdict.status
        return [
            {
                **base,
                "workload": workload,
                "metric": metric,
                "value": "",
                "unit": "",
                "status": status,
            }
            for workload, metric in scored(run_kind(ctx.spec, run))
        ]
    return [
        {
            **base,
            "workload": m.workload,
            "metric": m.metric,
            "value": m.value,
            "unit": m.unit,
            "status": "ok",
        }
        for m in verdict.measurements
    ]


def _smoke_rows(
    ctx: RunContext, run: PlannedRun, verdict: Verdict | None, status: str
) -> list[SmokeRow]:
    where = {"scenario": run.scenario, "host": ctx.host.name, "run_id": run.run_id}
    if verdict is not None and verdict.smoke:
        override = None if status == STATUS_OK else SmokeStatus(status)
        return smoke_rows(verdict.smoke, status=override, **where)
    workload = ctx.spec.workload(run.workload)
    assert isinstance(workload, PtsSmoke)
    return failed_smoke_rows(workload.tests, status=SmokeStatus(status), **where)


def _commit_rows(
    ctx: RunContext, run: PlannedRun, verdict: Verdict | None, attempt: int, started: str
) -> None:
    """A smoke run's rows to smoke.csv, every other run's to results.csv (fsynced)."""
    if isinstance(ctx.spec.workload(run.workload), PtsSmoke):
        status = STATUS_FAILED if verdict is None else verdict.status
        append_smoke(ctx.cdir.smoke, _smoke_rows(ctx, run, verdict, status))
    else:
        append_rows(ctx.cdir.results, _rows(ctx, run, verdict, attempt, started))


def execute_run(
    ctx: RunContext, run: PlannedRun, first_attempt: int, on_attempt: Callable[[int], None]
) -> RunOutcome:
    """Run ``run`` with retries and commit it; a run failing every attempt is committed failed."""
    retry = ctx.spec.retry
    started = _now()
    nonce = RunNonce.fresh(ctx.cdir.campaign_id, run.run_id)
    staged = _stage_scripts(ctx, run, nonce)
    host_state = run_state(ctx.host, ctx.host_state)
    for change in host_state["changes"]:
        console.print(
            f"[yellow]warning:[/yellow] host {ctx.host.name} changed since the campaign "
            f"began: {change}"
        )
    retrying = Retrying(
        stop=stop_after_attempt(retry.attempts),
        wait=wait_exponential(multiplier=retry.backoff_s, max=retry.backoff_max_s),
        retry=retry_if_exception_type(TRANSIENT),
        sleep=ctx.sleep,
        reraise=True,
    )
    number = first_attempt
    verdict: Verdict | None = None
    reason = ""
    # The one place below the CLI edge that handles snpapp errors: a run that fails
    # every attempt is recorded as failed and the campaign goes on.
    try:
        for state in retrying:
            with state:
                number = first_attempt + state.retry_state.attempt_number - 1
                on_attempt(number)
                verdict = _attempt(ctx, run, number, staged, nonce, host_state)
    except TransportError:
        raise  # not committed: --resume runs it again
    except TRANSIENT as exc:
        reason = exc.message
    if verdict is not None:
        reason = verdict.reason
    outcome = RunOutcome(
        run,
        STATUS_FAILED if verdict is None else verdict.status,
        number - first_attempt + 1,
        reason,
    )
    with store.WRITE_LOCK:
        _commit_rows(ctx, run, verdict, number, started)
        store.append_record(
            ctx.cdir.attempts,
            {
                "record": store.RECORD_RUN,
                "run_id": run.run_id,
                "status": outcome.status,
                "attempts": outcome.attempts,
                "reason": reason,
                "finished_at": _now(),
            },
        )
    return outcome
