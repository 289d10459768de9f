"""Create a campaign directory and execute (or resume) its plan.

:func:`create_campaign` checks every precondition, then freezes the spec (with
its seed), the plan, ``campaign.json`` and ``environment.json`` into a new
directory. :func:`execute_campaign` runs whatever runs of the plan are not
committed yet, in planned order: a fresh campaign runs them all, a resumed one
the rest. Ctrl-C, or a host that stays unreachable over SSH, stops it: the
guest in flight is killed, every committed run is kept and the message says how
to resume.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

from snpappliance.campaign import store
from snpappliance.campaign.attempt import RunContext, RunOutcome, execute_run
from snpappliance.campaign.plan import plan_from_json, plan_runs, plan_to_json
from snpappliance.campaign.prepare import Prepared, environment, prepare
from snpappliance.campaign.progress import LiveProgress, print_summary
from snpappliance.campaign.spec import CampaignSpec, load_spec
from snpappliance.campaign.specdump import dump_spec
from snpappliance.errors import CampaignError, InterruptedByUser, TransportError
from snpappliance.fsutil import atomic_write_text, ensure_writable_dir
from snpappliance.hosts import Host
from snpappliance.log import console
from snpappliance.results import CampaignInfo


def _new_id(root: Path, name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = root / f"{stamp}-{name}"
    n = 2
    while candidate.exists():
        candidate = root / f"{stamp}-{name}-{n}"
        n += 1
    return candidate


def campaign_info(spec: CampaignSpec, campaign_id: str, seed: int) -> CampaignInfo:
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
            "stack": spec.stack,
            "repetitions": spec.repetitions,
            "runs_planned": len(spec.scenarios)
            * len(spec.statistical_workloads)
            * spec.repetitions,
        },
    )


def create_campaign(
    spec: CampaignSpec, host: Host, *, root: Path, artifacts_root: Path
) -> tuple[store.CampaignDir, Prepared]:
    """Check the preconditions and write a new campaign directory (nothing runs yet)."""
    prepared = prepare(spec, host, artifacts_root)
    seed = spec.seed if spec.seed is not None else secrets.randbelow(2**31)
    frozen = replace(spec, seed=seed)
    cdir = store.CampaignDir(_new_id(ensure_writable_dir(root), spec.name))
    ensure_writable_dir(cdir.path)
    atomic_write_text(cdir.spec, dump_spec(frozen))
    atomic_write_text(cdir.info, campaign_info(frozen, cdir.campaign_id, seed).to_json())
    env = environment(frozen, host, prepared, artifacts_root)
    atomic_write_text(cdir.environment, json.dumps(env, indent=2, sort_keys=True) + "\n")
    atomic_write_text(cdir.plan, plan_to_json(plan_runs(frozen, seed), seed, frozen.order))
    return cdir, prepared


def load_campaign(directory: Path) -> tuple[store.CampaignDir, CampaignSpec]:
    cdir = store.CampaignDir(directory)
    cdir.require_existing()
    return cdir, load_spec(cdir.spec)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runner_pid(cdir: store.CampaignDir) -> int | None:
    """The pid of a live runner of this campaign, if any."""
    try:
        pid = int(cdir.pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


@contextlib.contextmanager
def _runner_lock(cdir: store.CampaignDir) -> Iterator[None]:
    other = runner_pid(cdir)
    if other is not None and other != os.getpid():
        raise CampaignError(
            f"campaign {cdir.path} is already running (pid {other})",
            hint=f"watch it with `snpapp campaign status {cdir.path}`",
        )
    atomic_write_text(cdir.pid_file, f"{os.getpid()}\n")
    try:
        yield
    finally:
        cdir.pid_file.unlink(missing_ok=True)


def _host_work(host: Host, cdir: store.CampaignDir) -> str:
    if host.is_local:
        return str(cdir.work.resolve())
    remote = f"/var/tmp/snpapp/{cdir.campaign_id}"
    host.run(["mkdir", "-p", remote])
    return remote


def execute_campaign(
    cdir: store.CampaignDir,
    spec: CampaignSpec,
    host: Host,
    prepared: Prepared,
    *,
    max_failures: int | None = None,
) -> list[RunOutcome]:
    """Run every uncommitted run of the plan in order; return what this invocation ran."""
    plan = plan_from_json(cdir.plan.read_text(encoding="utf-8"), str(cdir.plan))
    limit = max_failures if max_failures is not None else spec.max_failures
    outcomes: list[RunOutcome] = []
    start = time.monotonic()
    with _runner_lock(cdir):
        if host.is_local and (orphan := store.reap_orphan_guest(cdir)) is not None:
            console.print(f"stopped QEMU (pid {orphan}) left running by the interrupted runner")
        store.prune_uncommitted(cdir)
        records = store.read_records(cdir.attempts)
        committed = store.committed_runs(records)
        todo = store.missing_runs(plan, committed)
        failures = sum(1 for status in committed.values() if status != "ok")
        ctx = RunContext(spec, host, cdir, prepared, _host_work(host, cdir))
        if spec.label:
            console.print(f"[bold yellow]{spec.label}[/bold yellow]")
        try:
            with LiveProgress(len(plan), len(plan) - len(todo), failures) as progress:
                for run in todo:
                    first = store.next_attempt(records, run.run_id)
                    outcome = execute_run(ctx, run, first, partial(progress.attempt, run))
                    outcomes.append(outcome)
                    progress.finished(outcome)
                    failures += outcome.status != "ok"
                    if limit is not None and failures >= limit:
                        raise CampaignError(
                            f"campaign aborted: {failures} run(s) failed (--max-failures {limit})",
                            hint=f"see {cdir.attempts} and {cdir.logs}/; fix the cause, then "
                            f"`snpapp campaign --resume {cdir.path}`",
                        )
        except KeyboardInterrupt:
            raise InterruptedByUser(
                f"campaign {cdir.campaign_id} stopped: {len(plan) - len(todo) + len(outcomes)} "
                f"of {len(plan)} runs are saved; the guest in flight was killed",
                hint=f"resume with: snpapp campaign --resume {cdir.path}",
            ) from None
        except TransportError as exc:  # the host is gone: say how to continue
            raise CampaignError(
                f"campaign {cdir.campaign_id} stopped: {exc.message}; "
                f"{len(plan) - len(todo) + len(outcomes)} of {len(plan)} runs are saved",
                detail=exc.detail,
                hint=f"once `ssh {host.name} true` works again, resume with: "
                f"snpapp campaign --resume {cdir.path}",
            ) from exc
    print_summary(cdir.path, outcomes, time.monotonic() - start, spec.label)
    return outcomes
