"""Create a campaign directory and execute (or resume) its plan.

:func:`create_campaign` checks every precondition, then freezes the spec (with
its seed), the plan, ``campaign.json`` and ``environment.json`` into a new
directory. :func:`execute_campaign` runs whatever runs of the plan are not
committed yet, in planned order: a fresh campaign runs them all, a resumed one
the rest. Ctrl-C, or a host that stays unreachable over SSH, stops it: the
guest in flight is killed, every committed run is kept and the message says how
to resume.

Given several hosts, the campaign is prepared on every host first (doctor,
artefacts), then every host runs the same plan in its own worker thread
(:mod:`.workers`); ``environment.json`` records each host's facts under
``hosts``.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snpappliance.campaign import store
from snpappliance.campaign.attempt import RunContext, RunOutcome
from snpappliance.campaign.attest import INFO_KEY as ATTESTATION_KEY
from snpappliance.campaign.attest import AttestationPlan, check_guest_attests, expected_launch
from snpappliance.campaign.hoststate import ENV_KEY as HOST_STATE_KEY
from snpappliance.campaign.hoststate import record_state, recorded_state
from snpappliance.campaign.lock import runner_lock
from snpappliance.campaign.plan import (
    PlannedRun,
    check_hosts,
    plan_from_json,
    plan_hosts,
    plan_runs,
    plan_to_json,
)
from snpappliance.campaign.prepare import Prepared, environment, prepare
from snpappliance.campaign.progress import Lane, LiveProgress, print_summary
from snpappliance.campaign.spec import CampaignSpec, load_spec
from snpappliance.campaign.specdump import dump_spec
from snpappliance.campaign.workers import HostJob, Shared, run_host, run_parallel
from snpappliance.errors import CampaignError, InterruptedByUser, TransportError
from snpappliance.formats.campaigndir import CampaignDir, host_environment
from snpappliance.formats.results import CampaignInfo
from snpappliance.fsutil import (
    atomic_write_text,
    ensure_writable_dir,
    remove_dead_leftovers,
    staged_dir,
)
from snpappliance.hosts.base import Host
from snpappliance.hosts.private_dir import ensure_private_dir
from snpappliance.hosts.ssh import SshHost
from snpappliance.log import console

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

#: The ``campaign.json`` key of the ssh client config (``--ssh-config``) the campaign uses.
SSH_CONFIG_KEY = "ssh_config"


def _reserve_id(root: Path, name: str) -> Path:
    """A new, empty campaign directory ``<stamp>-<name>[-n]``, created exclusively."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        candidate = root / (f"{stamp}-{name}" if n == 1 else f"{stamp}-{name}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    msg = f"too many campaigns named {name} under {root} in one second"
    raise CampaignError(msg)


@contextlib.contextmanager
def _publish(root: Path, name: str) -> Iterator[tuple[Path, Path]]:
    """Reserve a campaign directory, yield it with a staging directory to fill, publish.

    The staging directory (:func:`~snpappliance.fsutil.staged_dir`) replaces the
    empty reservation in one rename; on any error both are removed, so a campaign
    directory is complete or absent.
    """
    remove_dead_leftovers(parent=ensure_writable_dir(root))
    final = _reserve_id(root, name)
    try:
        with staged_dir(final) as staging:
            yield final, staging
    except BaseException:
        with contextlib.suppress(OSError):
            final.rmdir()
        raise


def campaign_info(
    spec: CampaignSpec,
    campaign_id: str,
    seed: int,
    hosts: Sequence[str] = (),
    ssh_config: Path | None = None,
    attestation: Mapping[str, Any] | None = None,
) -> CampaignInfo:
    many = list(hosts) if len(hosts) > 1 else []
    return CampaignInfo(
        campaign_id=campaign_id,
        baseline=spec.baseline.name,
        profile=spec.name,
        emulated=spec.emulated,
        label=spec.label or None,
        extra={
            "seed": seed,
            "order": spec.order.value,
            "host": spec.host,
            **({"hosts": many} if many else {}),
            "stack": spec.stack,
            "repetitions": spec.repetitions,
            "runs_planned": len(spec.scenarios)
            * len(spec.run_workloads)
            * spec.repetitions
            * max(len(many), 1),
            **({SSH_CONFIG_KEY: str(ssh_config)} if ssh_config else {}),
            **({ATTESTATION_KEY: dict(attestation)} if attestation is not None else {}),
        },
    )


def ssh_config_of(hosts: Sequence[Host]) -> Path | None:
    """The ssh client config (absolute) the SSH hosts among ``hosts`` use, if one was chosen."""
    for host in hosts:
        if isinstance(host, SshHost) and host.settings.config is not None:
            return host.settings.config.resolve()
    return None


def recorded_ssh_config(cdir: CampaignDir) -> Path | None:
    """The ssh client config ``campaign.json`` recorded, or None (ssh's default).

    Raises :class:`CampaignError` when the recorded file no longer exists: the
    hosts' names may only mean something in that config.
    """
    info = CampaignInfo.load(cdir.path)
    recorded = info.extra.get(SSH_CONFIG_KEY) if info is not None else None
    if not recorded:
        return None
    path = Path(str(recorded))
    if not path.is_file():
        msg = (
            f"campaign {cdir.campaign_id} ran with the ssh client config {path}, "
            "which no longer exists"
        )
        raise CampaignError(
            msg,
            hint=f"pass the config to use now: snpapp campaign --resume {cdir.path} "
            "--ssh-config FILE",
        )
    return path


def remember_ssh_config(cdir: CampaignDir, hosts: Sequence[Host]) -> None:
    """Record in ``campaign.json`` the ssh client config the campaign now runs with."""
    info = CampaignInfo.load(cdir.path)
    config = ssh_config_of(hosts)
    if info is None or config is None or info.extra.get(SSH_CONFIG_KEY) == str(config):
        return
    extra = {**info.extra, SSH_CONFIG_KEY: str(config)}
    atomic_write_text(cdir.info, replace(info, extra=extra).to_json())


@dataclass(frozen=True)
class Target:
    """One host of the campaign with what :func:`prepare` found on it."""

    host: Host
    prepared: Prepared


def prepare_targets(
    spec: CampaignSpec, hosts: Sequence[Host], artifacts_root: Path
) -> list[Target]:
    """Check the preconditions on every host before anything boots anywhere."""
    check_hosts([h.name for h in hosts])
    targets = [Target(host, prepare(spec, host, artifacts_root)) for host in hosts]
    for target in targets:
        check_guest_attests(target.host, target.prepared.guest)
    return targets


def create_campaign(
    spec: CampaignSpec,
    host: Host,
    *,
    root: Path,
    artifacts_root: Path,
    verify_signature: bool = False,
) -> tuple[CampaignDir, Prepared]:
    """Check the preconditions and write a new campaign directory (nothing runs yet)."""
    cdir, targets = create_campaign_on(
        spec, [host], root=root, artifacts_root=artifacts_root, verify_signature=verify_signature
    )
    return cdir, targets[0].prepared


def create_campaign_on(
    spec: CampaignSpec,
    hosts: Sequence[Host],
    *,
    root: Path,
    artifacts_root: Path,
    verify_signature: bool = False,
) -> tuple[CampaignDir, list[Target]]:
    """:func:`create_campaign` for one or more hosts (the same plan runs on each)."""
    targets = prepare_targets(spec, hosts, artifacts_root)
    names = [t.host.name for t in targets]
    seed = spec.seed if spec.seed is not None else secrets.randbelow(2**31)
    frozen = replace(spec, seed=seed, host=names[0])
    first = targets[0]
    attestation = expected_launch(
        frozen, first.host, first.prepared.firmware, verify_signature=verify_signature
    )
    # Everything is planned and gathered before the directory exists: a campaign
    # directory is either complete or absent.
    plan = plan_to_json(plan_runs(frozen, seed, names), seed, frozen.order)
    envs = {
        t.host.name: {
            **environment(frozen, t.host, t.prepared, artifacts_root),
            HOST_STATE_KEY: record_state(t.host),
        }
        for t in targets
    }
    env = envs[names[0]] if len(targets) == 1 else {"hosts": envs}
    with _publish(root, spec.name) as (final, staging):
        info = campaign_info(
            frozen, final.name, seed, names, ssh_config_of(hosts), attestation=attestation
        )
        draft = CampaignDir(staging)
        atomic_write_text(draft.spec, dump_spec(frozen))
        atomic_write_text(draft.info, info.to_json())
        atomic_write_text(draft.environment, json.dumps(env, indent=2, sort_keys=True) + "\n")
        atomic_write_text(draft.plan, plan)
    return CampaignDir(final), targets


def campaign_hosts(cdir: CampaignDir, spec: CampaignSpec) -> list[str]:
    """The hosts a campaign directory was planned for."""
    plan = plan_from_json(cdir.plan.read_text(encoding="utf-8"), str(cdir.plan))
    return plan_hosts(plan) or [spec.host]


def _allocation(pinning: Mapping[str, Any] | None) -> str:
    """A pinning record's CPUs in words ("off" when the boots were not pinned)."""
    if pinning is None:
        return "off"
    cpus = ",".join(str(c) for c in pinning.get("vcpu_cpus", []))
    emulator = ",".join(str(c) for c in pinning.get("emulator_cpus", []))
    return f"node {pinning.get('node')}, vCPUs on CPUs {cpus}, QEMU on {emulator}"


def resume_changes(
    environment_json: Mapping[str, Any],
    host: str,
    *,
    digest: str,
    pinning: Mapping[str, Any] | None,
) -> list[str]:
    """What differs on ``host`` from what the campaign recorded when it started.

    Every run of a campaign boots the same guest artefacts (``digest``, the
    manifest digest) with the same CPU pinning (``pinning``, as recorded in
    environment.json); a host whose topology or isolation changed plans
    another pinning. A campaign from before pinning was recorded is checked
    for its artefacts only. Empty: the campaign may resume on ``host``.
    """
    env = host_environment(environment_json, host)
    changes = []
    was = str(env["guest"]["manifest_digest"])
    if was != digest:
        changes.append(f"guest artefacts: manifest digest {digest[:12]}, recorded {was[:12]}")
    if "pinning" in env:
        before, now = _allocation(env["pinning"]), _allocation(pinning)
        if before != now:
            changes.append(f"CPU pinning: {now}, recorded {before}")
    return changes


def load_campaign(directory: Path) -> tuple[CampaignDir, CampaignSpec]:
    cdir = CampaignDir(directory)
    cdir.require_existing()
    return cdir, load_spec(cdir.spec)


def _host_work(host: Host, cdir: CampaignDir) -> str:
    """The campaign's work directory on ``host``: private to the user that runs it."""
    if host.is_local:
        return str(cdir.work.resolve())
    return ensure_private_dir(host, f"work/{cdir.campaign_id}")


def execute_campaign(
    cdir: CampaignDir,
    spec: CampaignSpec,
    host: Host,
    prepared: Prepared,
    *,
    max_failures: int | None = None,
) -> list[RunOutcome]:
    """Run every uncommitted run of the plan in order; return what this invocation ran."""
    return execute_on(cdir, spec, [Target(host, prepared)], max_failures=max_failures)


def _jobs(
    cdir: CampaignDir,
    spec: CampaignSpec,
    targets: Sequence[Target],
    todo: Sequence[PlannedRun],
) -> list[HostJob]:
    many = len(targets) > 1
    logged = store.logged_attempts(cdir)
    info = CampaignInfo.load(cdir.path)
    attestation = AttestationPlan.from_info(info.extra if info is not None else {}, spec)
    env = json.loads(cdir.environment.read_text(encoding="utf-8"))
    return [
        HostJob(
            RunContext(
                spec,
                t.host,
                cdir,
                t.prepared,
                _host_work(t.host, cdir),
                attestation,
                recorded_state(env, t.host.name),
            ),
            [r for r in todo if r.host == (t.host.name if many else r.host)],
            logged,
        )
        for t in targets
    ]


def _lanes(
    plan: Sequence[PlannedRun], targets: Sequence[Target], committed: Mapping[str, str]
) -> dict[str, Lane]:
    """One progress lane per host ("" for the single lane of a one-host campaign)."""
    tags = [t.host.name for t in targets] if len(targets) > 1 else [""]
    lanes = {}
    for tag in tags:
        mine = [r for r in plan if r.host == tag]
        done = [committed[r.run_id] for r in mine if r.run_id in committed]
        lanes[tag] = Lane(len(mine), len(done), sum(1 for s in done if s != "ok"))
    return lanes


def execute_on(
    cdir: CampaignDir,
    spec: CampaignSpec,
    targets: Sequence[Target],
    *,
    max_failures: int | None = None,
) -> list[RunOutcome]:
    """Run every uncommitted run of the plan, one worker per host when there are several."""
    plan = plan_from_json(cdir.plan.read_text(encoding="utf-8"), str(cdir.plan))
    limit = max_failures if max_failures is not None else spec.max_failures
    start = time.monotonic()
    with runner_lock(cdir):
        if (
            any(t.host.is_local for t in targets)
            and (orphan := store.reap_orphan_guest(cdir)) is not None
        ):
            console.print(f"stopped QEMU (pid {orphan}) left running by the interrupted runner")
        store.prune_uncommitted(cdir)
        records = store.read_records(cdir.attempts)
        committed = store.committed_runs(records)
        todo = store.missing_runs(plan, committed)
        failures = sum(1 for status in committed.values() if status != "ok")
        jobs = _jobs(cdir, spec, targets, todo)
        shared = Shared(limit, failures)
        if spec.label:
            console.print(f"[bold yellow]{spec.label}[/bold yellow]")
        saved = len(plan) - len(todo)
        try:
            with LiveProgress(_lanes(plan, targets, committed)) as progress:
                if len(jobs) == 1:
                    run_host(jobs[0], records, shared, progress)
                else:
                    run_parallel(jobs, records, shared, progress)
        except KeyboardInterrupt:
            msg = (
                f"campaign {cdir.campaign_id} stopped: {saved + _ran(jobs)} "
                f"of {len(plan)} runs are saved; {_in_flight(jobs, shared)}"
            )
            raise InterruptedByUser(
                msg,
                hint=f"resume with: snpapp campaign --resume {cdir.path}",
            ) from None
        except TransportError as exc:  # the host is gone: say how to continue
            msg = (
                f"campaign {cdir.campaign_id} stopped: {exc.message}; "
                f"{saved + _ran(jobs)} of {len(plan)} runs are saved"
            )
            raise CampaignError(
                msg,
                detail=exc.detail,
                hint=f"once `ssh {targets[0].host.name} true` works again, resume with: "
                f"snpapp campaign --resume {cdir.path}",
            ) from exc
        _check_abort(cdir, shared, limit)
    outcomes = [o for job in jobs for o in job.outcomes]
    print_summary(cdir.path, outcomes, time.monotonic() - start, spec.label)
    _check_stopped_hosts(cdir, jobs, saved + len(outcomes), len(plan))
    _check_any_ok(cdir, [*committed.values(), *(o.status for o in outcomes)], len(plan))
    return outcomes


def _check_any_ok(cdir: CampaignDir, statuses: Sequence[str], planned: int) -> None:
    """A finished campaign none of whose runs succeeded measured nothing: that is an error."""
    if planned and len(statuses) >= planned and "ok" not in statuses:
        msg = f"campaign {cdir.campaign_id} finished, but none of its {planned} runs succeeded"
        raise CampaignError(
            msg,
            hint=f"`snpapp campaign status {cdir.path}` shows why; the raw console of every "
            f"attempt is in {cdir.logs}/",
        )


def _in_flight(jobs: Sequence[HostJob], shared: Shared) -> str:
    """What became of the guests running when Ctrl-C came."""
    if len(jobs) == 1:
        return "the guest in flight was killed"
    if shared.drained:
        return "every host finished its run in flight first"
    return "the runs in flight were abandoned (a resume stops a QEMU left on this machine)"


def _ran(jobs: Sequence[HostJob]) -> int:
    return sum(len(job.outcomes) for job in jobs)


def _check_abort(cdir: CampaignDir, shared: Shared, limit: int | None) -> None:
    if shared.aborted:
        msg = f"campaign aborted: {shared.failures} run(s) failed (--max-failures {limit})"
        raise CampaignError(
            msg,
            hint=f"see {cdir.attempts} and {cdir.logs}/; fix the cause, then "
            f"`snpapp campaign --resume {cdir.path}`",
        )


def _check_stopped_hosts(
    cdir: CampaignDir, jobs: Sequence[HostJob], saved: int, planned: int
) -> None:
    """After the other hosts finished: name every host that could not continue."""
    stopped = [job for job in jobs if job.error is not None]
    if not stopped:
        return
    lines = "; ".join(
        f"host {job.name} stopped with {job.left} run(s) left: {job.error.message}"
        for job in stopped
        if job.error is not None
    )
    names = " ".join(job.name for job in stopped)
    msg = f"campaign {cdir.campaign_id} incomplete: {lines}; {saved} of {planned} runs are saved"
    raise CampaignError(
        msg,
        detail="\n".join(job.error.detail or "" for job in stopped if job.error is not None),
        hint=f"fix host(s) {names} (e.g. check `ssh {stopped[0].name} true`), then resume "
        f"with: snpapp campaign --resume {cdir.path}",
    )
