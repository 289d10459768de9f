"""The campaign directory: the one description of its layout (campaign → report hand-off).

``campaigns/<id>/`` holds::

    campaign.toml      the frozen spec (seed included)
    campaign.json      CampaignInfo: id, baseline, profile, emulated, label, ssh client config
    environment.json   host, QEMU, firmware, artefact manifests, SNP state, snpapp version
    plan.json          every run in execution order
    attempts.jsonl     one record per attempt, then one "run" record when a run is committed
    results.csv        the long results format (`snpapp report` reads it)
    smoke.csv          PTS macro smoke results, kept out of the statistics (when declared)
    runner.lock        locked by the live runner for its whole life (its pid inside)
    guest.pid          the local QEMU of the run in flight
    logs/<run_id>.a<attempt>.log   the raw console of every attempt
    logs/<run_id>.a<attempt>.<fio|iperf3>.json   that tool's own JSON (`snpapp import` reads it)
    work/              scripts, keys and seeds the guests use (private to the user)

``snpapp campaign`` writes it, ``campaign status`` and ``snpapp report`` read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snpappliance.errors import CampaignError

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Where campaigns are created unless ``--campaigns`` says otherwise.
CAMPAIGNS_DIR = Path("campaigns")
SPEC_FILE = "campaign.toml"
INFO_FILE = "campaign.json"
ENVIRONMENT_FILE = "environment.json"
PLAN_FILE = "plan.json"
ATTEMPTS_FILE = "attempts.jsonl"
RESULTS_FILE = "results.csv"
SMOKE_FILE = "smoke.csv"
LOCK_FILE = "runner.lock"
GUEST_PID_FILE = "guest.pid"
LOGS_DIR = "logs"
WORK_DIR = "work"


@dataclass(frozen=True)
class CampaignDir:
    """Paths inside one campaign directory."""

    path: Path

    @property
    def campaign_id(self) -> str:
        return self.path.name

    @property
    def spec(self) -> Path:
        return self.path / SPEC_FILE

    @property
    def info(self) -> Path:
        return self.path / INFO_FILE

    @property
    def environment(self) -> Path:
        return self.path / ENVIRONMENT_FILE

    @property
    def plan(self) -> Path:
        return self.path / PLAN_FILE

    @property
    def attempts(self) -> Path:
        return self.path / ATTEMPTS_FILE

    @property
    def results(self) -> Path:
        return self.path / RESULTS_FILE

    @property
    def smoke(self) -> Path:
        return self.path / SMOKE_FILE

    @property
    def lock_file(self) -> Path:
        return self.path / LOCK_FILE

    @property
    def guest_pid_file(self) -> Path:
        return self.path / GUEST_PID_FILE

    @property
    def logs(self) -> Path:
        return self.path / LOGS_DIR

    @property
    def work(self) -> Path:
        return self.path / WORK_DIR

    def log_for(self, run_id: str, attempt: int) -> Path:
        """The raw log of one attempt (attempt numbers go on across resumes)."""
        return self.logs / f"{run_id}.a{attempt}.log"

    def tool_json_for(self, run_id: str, attempt: int, tool: str) -> Path:
        """fio's or iperf3's own JSON of one attempt, beside its raw log."""
        return self.logs / f"{run_id}.a{attempt}.{tool}.json"

    def require_existing(self) -> None:
        if not self.plan.is_file() or not self.spec.is_file():
            msg = f"{self.path} is not a campaign directory (no {PLAN_FILE} or {SPEC_FILE})"
            raise CampaignError(
                msg,
                hint="pass a directory under campaigns/ that `snpapp campaign` created",
            )


def parse_attempts(text: str) -> list[dict[str, Any]]:
    """The complete JSON-object lines of an ``attempts.jsonl`` text.

    A torn last line (a writer killed mid-line) ends the list; a line that is
    not a JSON object is skipped.
    """
    records = []
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            records.append(obj)
    return records


def host_environment(environment_json: Mapping[str, Any], host: str) -> Mapping[str, Any]:
    """What ``environment.json`` recorded for ``host``: a one-host campaign's whole file,
    else its entry under ``hosts``."""
    env: Mapping[str, Any] = (
        environment_json["hosts"][host] if "hosts" in environment_json else environment_json
    )
    return env
