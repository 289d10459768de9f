"""Campaigns on several hosts: the plan, per-host bookkeeping, resume and status (pure)."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign import store
from snpappliance.campaign.attempt import RunOutcome
from snpappliance.campaign.plan import (
    PlannedRun,
    check_hosts,
    plan_from_json,
    plan_hosts,
    plan_runs,
    plan_to_json,
)
from snpappliance.campaign.profiles import profile_path
from snpappliance.campaign.runner import campaign_hosts, campaign_info, resume_changes
from snpappliance.campaign.spec import Order, load_spec
from snpappliance.campaign.status import campaign_status, render_status
from snpappliance.campaign.workers import Shared
from snpappliance.errors import CampaignError
from snpappliance.formats.campaigndir import CampaignDir
from snpappliance.formats.names import host_slug
from snpappliance.formats.results import append_rows
from snpappliance.report.load import load_results

if TYPE_CHECKING:
    from pathlib import Path

_LOCAL = load_spec(profile_path("local"))
#: The local profile with its two sysbench workloads only (the counts below).
SPEC = replace(_LOCAL, repetitions=3, workloads=_LOCAL.workloads[:2])
HOSTS = ("genoa01", "user@genoa02")


def test_every_host_gets_the_same_runs_in_the_same_order() -> None:
    plan = plan_runs(SPEC, seed=7, hosts=HOSTS)
    single = plan_runs(SPEC, seed=7)
    assert len(plan) == 2 * len(single) == 24
    for host in HOSTS:
        mine = [r for r in plan if r.host == host]
        assert [(r.index, r.scenario, r.workload, r.rep) for r in mine] == [
            (r.index, r.scenario, r.workload, r.rep) for r in single
        ]
    assert len({r.run_id for r in plan}) == len(plan)
    assert plan[0].run_id == f"{single[0].run_id}@genoa01"
    assert plan[-1].run_id == f"{single[-1].run_id}@user_genoa02"
    assert plan_hosts(plan) == list(HOSTS)


def test_one_host_plan_is_unchanged() -> None:
    plan = plan_runs(SPEC, seed=7, hosts=("genoa01",))
    assert plan == plan_runs(SPEC, seed=7)
    assert all(r.host == "" and "@" not in r.run_id for r in plan)
    assert plan_hosts(plan) == []
    data = json.loads(plan_to_json(plan, 7, Order.INTERLEAVED))
    assert "host" not in data["runs"][0]


def test_multi_host_plan_round_trips_through_json() -> None:
    plan = plan_runs(SPEC, seed=3, hosts=HOSTS)
    text = plan_to_json(plan, 3, Order.INTERLEAVED)
    assert json.loads(text)["runs"][-1]["host"] == "user@genoa02"
    assert plan_from_json(text, "plan.json") == plan


def test_repeated_or_colliding_hosts_are_refused() -> None:
    with pytest.raises(CampaignError, match="more than once") as info:
        check_hosts(["genoa01", "genoa01"])
    assert info.value.hint is not None
    with pytest.raises(CampaignError, match="a@b, a_b"):
        plan_runs(SPEC, seed=1, hosts=("a@b", "a_b"))
    check_hosts(["local", "genoa01"])
    assert host_slug("me@host:22/x") == "me_host_22_x"


def _records(plan: tuple[PlannedRun, ...], done: dict[int, str]) -> list[dict[str, object]]:
    return [
        {"record": store.RECORD_RUN, "run_id": plan[i].run_id, "status": status}
        for i, status in done.items()
    ]


def test_missing_runs_and_counts_per_host() -> None:
    plan = plan_runs(SPEC, seed=5, hosts=HOSTS)
    # genoa01 finished 3 runs (one failed), genoa02 lost its connection after one.
    committed = store.committed_runs(_records(plan, {0: "ok", 1: "failed", 2: "ok", 12: "ok"}))
    first = store.missing_runs(plan, committed, "genoa01")
    second = store.missing_runs(plan, committed, "user@genoa02")
    assert [r.index for r in first] == list(range(4, 13))
    assert [r.index for r in second] == list(range(2, 13))
    assert store.missing_runs(plan, committed) == first + second
    counts = store.host_counts(plan, committed)
    assert counts["genoa01"] == {"planned": 12, "ok": 2, "failed": 1}
    assert counts["user@genoa02"] == {"planned": 12, "ok": 1}
    assert store.host_counts(plan_runs(SPEC, seed=5), committed) == {}


def _campaign_dir(tmp_path: Path, plan: tuple[PlannedRun, ...]) -> CampaignDir:
    cdir = CampaignDir(tmp_path / "c")
    cdir.path.mkdir()
    cdir.plan.write_text(plan_to_json(plan, 5, Order.INTERLEAVED), encoding="utf-8")
    cdir.spec.write_text("# frozen spec\n", encoding="utf-8")
    info = campaign_info(SPEC, cdir.campaign_id, 5, HOSTS)
    cdir.info.write_text(info.to_json(), encoding="utf-8")
    return cdir


def test_status_and_resume_know_each_host(tmp_path: Path) -> None:
    plan = plan_runs(SPEC, seed=5, hosts=HOSTS)
    cdir = _campaign_dir(tmp_path, plan)
    for record in _records(plan, {0: "ok", 1: "failed", 12: "ok"}):
        store.append_record(cdir.attempts, record)
    status = campaign_status(cdir.path)
    assert status.state == "incomplete"
    assert (status.done, status.planned) == (3, 24)
    assert status.next_run == plan[2].run_id
    lines = render_status(status)
    assert "  host genoa01: 2/12 committed (failed 1, ok 1)" in lines
    assert "  host user@genoa02: 1/12 committed (ok 1)" in lines
    assert campaign_hosts(cdir, SPEC) == list(HOSTS)
    info = json.loads(cdir.info.read_text(encoding="utf-8"))
    assert info["hosts"] == list(HOSTS)
    assert info["runs_planned"] == 24


def test_one_host_campaign_resumes_on_the_spec_host(tmp_path: Path) -> None:
    cdir = _campaign_dir(tmp_path, plan_runs(SPEC, seed=5))
    assert campaign_hosts(cdir, replace(SPEC, host="genoa07")) == ["genoa07"]
    assert not any(line.startswith("  host ") for line in render_status(campaign_status(cdir.path)))
    assert "hosts" not in json.loads(campaign_info(SPEC, "x", 1, ["genoa07"]).to_json())


def test_resume_checks_each_hosts_recorded_artefacts() -> None:
    one = {"guest": {"manifest_digest": "abc"}}
    many = {"hosts": {"a": {"guest": {"manifest_digest": "d1"}}, "b": one}}
    assert resume_changes(one, "local", digest="abc", pinning=None) == []
    assert resume_changes(many, "a", digest="d1", pinning=None) == []
    assert resume_changes(many, "b", digest="abc", pinning=None) == []
    assert resume_changes(many, "a", digest="abc", pinning=None) == [
        "guest artefacts: manifest digest abc, recorded d1"
    ]


def test_resume_checks_the_recorded_pinning() -> None:
    pinned = {"request": "auto", "node": 0, "vcpu_cpus": [2, 3], "emulator_cpus": [1],
              "warnings": []}  # fmt: skip
    env = {"guest": {"manifest_digest": "abc"}, "pinning": pinned}
    # The plan made again on resume (no "request" key) equals the recorded one.
    same = {k: v for k, v in pinned.items() if k != "request"}
    assert resume_changes(env, "h", digest="abc", pinning=same) == []
    moved = {**same, "vcpu_cpus": [4, 5]}
    assert resume_changes(env, "h", digest="abc", pinning=moved) == [
        "CPU pinning: node 0, vCPUs on CPUs 4,5, QEMU on 1, "
        "recorded node 0, vCPUs on CPUs 2,3, QEMU on 1"
    ]
    assert resume_changes(env, "h", digest="abc", pinning=None) == [
        "CPU pinning: off, recorded node 0, vCPUs on CPUs 2,3, QEMU on 1"
    ]
    unpinned = {"guest": {"manifest_digest": "abc"}, "pinning": None}
    assert resume_changes(unpinned, "h", digest="abc", pinning=moved) == [
        "CPU pinning: node 0, vCPUs on CPUs 4,5, QEMU on 1, recorded off"
    ]
    # A campaign from before pinning was recorded: its artefacts only.
    assert resume_changes({"guest": {"manifest_digest": "abc"}}, "h", digest="abc",
                          pinning=moved) == []  # fmt: skip


def test_commits_from_several_threads_never_interleave(tmp_path: Path) -> None:
    cdir = CampaignDir(tmp_path)
    plan = plan_runs(replace(SPEC, repetitions=10), seed=2, hosts=HOSTS)
    start = threading.Barrier(len(HOSTS))

    def commit(host: str) -> None:
        start.wait()
        for run in (r for r in plan if r.host == host):
            with store.WRITE_LOCK:
                rows = [
                    {
                        "scenario": run.scenario,
                        "metric": m,
                        "value": 1.0,
                        "host": host,
                        "run_id": run.run_id,
                        "status": "ok",
                    }
                    for m in ("cpu_perf", "wall_s")
                ]
                append_rows(cdir.results, rows)
                store.append_record(
                    cdir.attempts, {"record": store.RECORD_RUN, "run_id": run.run_id}
                )

    threads = [threading.Thread(target=commit, args=(h,)) for h in HOSTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    frame = load_results(tmp_path).frame
    assert len(frame) == 2 * len(plan)
    assert frame.groupby("host")["run_id"].nunique().to_dict() == dict.fromkeys(HOSTS, 40)
    committed = store.committed_runs(store.read_records(cdir.attempts))
    assert set(committed) == {r.run_id for r in plan}
    assert store.missing_runs(plan, committed) == []


def test_max_failures_counts_over_all_hosts_and_stops_them() -> None:
    plan = plan_runs(SPEC, seed=5, hosts=HOSTS)
    shared = Shared(limit=3, failures=1)
    shared.count(RunOutcome(plan[0], "failed", 2, "boot timeout"))
    shared.count(RunOutcome(plan[12], "ok", 1, ""))
    assert not shared.stop.is_set()
    shared.count(RunOutcome(plan[13], "invalid", 1, "no output"))
    assert shared.stop.is_set()
    assert shared.aborted
    assert shared.failures == 3
    assert not Shared(limit=None, failures=50).aborted
