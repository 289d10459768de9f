"""``snpapp campaign status``: where a running or finished campaign stands."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from snpappliance.campaign import store
from snpappliance.campaign.lock import runner_pid
from snpappliance.campaign.plan import plan_from_json
from snpappliance.errors import CampaignError
from snpappliance.formats.campaigndir import ATTEMPTS_FILE, CAMPAIGNS_DIR, PLAN_FILE, CampaignDir
from snpappliance.formats.results import CampaignInfo


@dataclass(frozen=True)
class CampaignStatus:
    path: Path
    state: str  # running | finished | incomplete
    planned: int
    committed: dict[str, int]
    attempts: int
    failed_attempts: int
    pid: int | None
    label: str | None
    next_run: str | None
    #: Per host of a multi-host campaign: ``planned`` and committed runs by status.
    hosts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return sum(self.committed.values())


def latest_campaign_dir(root: Path = CAMPAIGNS_DIR) -> Path:
    """The most recently active campaign directory under ``root`` (running or not)."""
    found = [d for d in root.iterdir() if (d / PLAN_FILE).is_file()] if root.is_dir() else []
    if not found:
        msg = f"no campaign under {root}/"
        raise CampaignError(
            msg,
            hint="start one with `snpapp campaign`, or pass a campaign directory",
        )

    def activity(d: Path) -> float:
        files = [d / ATTEMPTS_FILE, d / PLAN_FILE]
        return max(f.stat().st_mtime for f in files if f.is_file())

    return max(found, key=activity)


def campaign_status(directory: Path) -> CampaignStatus:
    cdir = CampaignDir(directory)
    cdir.require_existing()
    plan = plan_from_json(cdir.plan.read_text(encoding="utf-8"), str(cdir.plan))
    records = store.read_records(cdir.attempts)
    committed = store.committed_runs(records)
    attempts = [r for r in records if r.get("record") == store.RECORD_ATTEMPT]
    missing = store.missing_runs(plan, committed)
    pid = runner_pid(cdir)
    state = "running" if pid is not None else ("finished" if not missing else "incomplete")
    info = CampaignInfo.load(directory)
    return CampaignStatus(
        path=directory,
        state=state,
        planned=len(plan),
        committed=dict(Counter(committed.values())),
        attempts=len(attempts),
        failed_attempts=sum(1 for a in attempts if a.get("status") != "ok"),
        pid=pid,
        label=info.label if info else None,
        next_run=missing[0].run_id if missing else None,
        hosts={h: dict(c) for h, c in store.host_counts(plan, committed).items()},
    )


def render_status(status: CampaignStatus) -> list[str]:
    """Lines for the terminal."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(status.committed.items())) or "none yet"
    lines = [f"campaign {status.path}"]
    if status.label:
        lines.append(status.label)
    running = f" (pid {status.pid})" if status.pid else ""
    lines.append(f"state: {status.state}{running}")
    lines.append(f"runs: {status.done}/{status.planned} committed ({counts})")
    lines.extend(_host_lines(status.hosts))
    lines.append(f"attempts: {status.attempts} ({status.failed_attempts} not ok)")
    if status.next_run and status.state != "running":
        lines.append(
            f"next run: {status.next_run}; resume with `snpapp campaign --resume {status.path}`"
        )
    elif status.next_run:
        lines.append(f"next run: {status.next_run}")
    else:
        lines.append(f"report: snpapp report {status.path}")
    return lines


def _host_lines(hosts: dict[str, dict[str, int]]) -> list[str]:
    """``  host genoa01: 12/40 committed (ok 11, failed 1)`` for every host."""
    lines = []
    for host, counts in hosts.items():
        statuses = {k: v for k, v in counts.items() if k != "planned"}
        shown = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none yet"
        done = sum(statuses.values())
        lines.append(f"  host {host}: {done}/{counts.get('planned', 0)} committed ({shown})")
    return lines
