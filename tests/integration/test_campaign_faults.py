"""Faults during real campaigns: SIGTERM, a resume after it, and a comma in the path.

The guest is the one `snpapp build guest` makes, booted under QEMU TCG.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign import store
from snpappliance.campaign.lock import runner_pid
from snpappliance.formats.campaigndir import CampaignDir
from tests.conftest import SnpappRunner, wait_for
from tests.integration.test_campaign_runs import REPO, no_qemu_left, run_campaign, spec_file

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.integration, pytest.mark.qemu, pytest.mark.docker, pytest.mark.slow]


def _workload_began(root: Path) -> bool:
    logs = list(root.glob("*/logs/*.log"))
    return bool(logs) and "===SNP-BEGIN " in logs[0].read_text(encoding="utf-8", errors="replace")


#: A workload that runs long enough (sysbench's 10 s) for the signal to land while the guest
#: runs, however slowly this test process is scheduled.
LONG_WORKLOAD = "[workloads.sysbench-cpu]\nmax_prime = 2000\n"


def test_sigterm_stops_like_ctrl_c_records_the_attempt_and_resume_keeps_its_log(
    snpapp: SnpappRunner, guest_artifacts: Path, tmp_path: Path
) -> None:
    root = tmp_path / "c"
    spec = spec_file(tmp_path, workloads=LONG_WORKLOAD)
    argv = [sys.executable, "-m", "snpappliance", "campaign", "--spec", str(spec)]
    argv += ["--campaigns", str(root), "--artifacts", str(guest_artifacts)]
    with subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        wait_for(lambda: _workload_began(root), "the first workload to begin", 180, 0.2)
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=60)
    assert child.returncode == 128 + signal.SIGTERM, err
    (cdir,) = root.iterdir()
    assert f"resumewith:snpappcampaign--resume{cdir}" in "".join(err.split())
    assert no_qemu_left(cdir)
    assert runner_pid(CampaignDir(cdir)) is None
    records = store.read_records(cdir / "attempts.jsonl")
    attempted = [r for r in records if r["record"] == "attempt"]
    (interrupted,) = [r for r in attempted if r["status"] == "interrupted"]
    assert all(r["status"] == "ok" for r in attempted if r is not interrupted)
    assert interrupted["status"] == "interrupted"
    first_log = cdir / str(interrupted["log"])
    console = first_log.read_text(encoding="utf-8")
    assert console.startswith("# qemu-system-x86_64")

    code, _out, err = snpapp("campaign", "--resume", str(cdir), "--artifacts", str(guest_artifacts))
    assert code == 0, err
    assert first_log.read_text(encoding="utf-8") == console
    attempts = [r for r in store.read_records(cdir / "attempts.jsonl") if r["record"] == "attempt"]
    resumed = [r for r in attempts if r["run_id"] == interrupted["run_id"]]
    assert [(r["attempt"], r["status"]) for r in resumed] == [(1, "interrupted"), (2, "ok")]


def test_a_campaign_under_a_path_with_a_comma_runs(
    snpapp: SnpappRunner, guest_artifacts: Path, tmp_path: Path
) -> None:
    code, cdir, output = run_campaign(
        snpapp, spec_file(tmp_path), tmp_path / "a,b" / "c", guest_artifacts
    )
    assert code == 0, output
    assert cdir is not None
    runs = store.committed_runs(store.read_records(cdir / "attempts.jsonl"))
    assert set(runs.values()) == {"ok"}
    info = json.loads((cdir / "campaign.json").read_text(encoding="utf-8"))
    assert info["runs_planned"] == len(runs)
