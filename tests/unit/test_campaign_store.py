"""Bookkeeping (pure and on disk): committed and missing runs, attempts, torn lines."""

from __future__ import annotations

import json
from pathlib import Path

from snpappliance.campaign import store
from snpappliance.campaign.plan import PlannedRun
from snpappliance.formats.campaigndir import CampaignDir, parse_attempts
from snpappliance.formats.results import COLUMNS, append_rows
from snpappliance.report.load import load_results

PLAN = tuple(
    PlannedRun(i, s, "sysbench-cpu", rep)
    for i, (s, rep) in enumerate([("a", 1), ("b", 1), ("b", 2), ("a", 2)], start=1)
)


def _attempt(run: PlannedRun, n: int, status: str = "ok") -> dict[str, object]:
    return {"record": store.RECORD_ATTEMPT, "run_id": run.run_id, "attempt": n, "status": status}


def _run(run: PlannedRun, status: str = "ok") -> dict[str, object]:
    return {"record": store.RECORD_RUN, "run_id": run.run_id, "status": status}


def _rows(run: PlannedRun) -> list[dict[str, object]]:
    base = {
        "scenario": run.scenario,
        "workload": run.workload,
        "rep": run.rep,
        "run_id": run.run_id,
        "status": "ok",
    }
    return [
        {**base, "metric": "cpu_perf", "value": 100.0 + run.index},
        {**base, "metric": "wall_s", "value": 5.0},
    ]


def test_missing_runs_keep_the_planned_order() -> None:
    records = [
        _attempt(PLAN[0], 1),
        _run(PLAN[0]),
        _attempt(PLAN[2], 1, "error"),
        _attempt(PLAN[2], 2),
        _run(PLAN[2], "failed"),
        _attempt(PLAN[1], 1),
    ]
    committed = store.committed_runs(records)
    assert committed == {PLAN[0].run_id: "ok", PLAN[2].run_id: "failed"}
    assert store.missing_runs(PLAN, committed) == [PLAN[1], PLAN[3]]
    assert store.next_attempt(records, PLAN[1].run_id) == 2
    assert store.next_attempt(records, PLAN[2].run_id) == 3
    assert store.next_attempt(records, PLAN[3].run_id) == 1


def test_torn_record_line_is_ignored() -> None:
    text = json.dumps(_run(PLAN[0])) + "\n" + '{"record": "run", "run_id": "r0002'
    assert store.committed_runs(parse_attempts(text)) == {PLAN[0].run_id: "ok"}


def test_filter_results_drops_uncommitted_runs() -> None:
    header = ",".join(COLUMNS)
    text = (
        f"{header}\nx,w,m,1,u,1,h,{PLAN[0].run_id},1,ok,t\nx,w,m,2,u,1,h,{PLAN[1].run_id},1,ok,t\n"
    )
    kept, dropped = store.filter_results(text, {PLAN[0].run_id})
    assert dropped == 1
    assert kept == f"{header}\nx,w,m,1,u,1,h,{PLAN[0].run_id},1,ok,t\n"


def test_prune_after_a_crash_between_rows_and_commit(tmp_path: Path) -> None:
    cdir = CampaignDir(tmp_path)
    append_rows(cdir.results, _rows(PLAN[0]))
    store.append_record(cdir.attempts, _run(PLAN[0]))
    append_rows(cdir.results, _rows(PLAN[1]))  # crash before its run record
    with cdir.results.open("a", encoding="utf-8") as fh:
        fh.write("b,sysbench-cpu,cpu_perf,1")  # and a torn line from the next append
    with cdir.attempts.open("a", encoding="utf-8") as fh:
        fh.write('{"record": "attempt", "run_id"')
    assert store.prune_uncommitted(cdir) == 2
    frame = load_results(tmp_path).frame
    assert set(frame["run_id"]) == {PLAN[0].run_id}
    assert len(frame) == 2
    assert cdir.attempts.read_text(encoding="utf-8").endswith("}\n")
    assert store.missing_runs(PLAN, store.committed_runs(store.read_records(cdir.attempts))) == [
        PLAN[1],
        PLAN[2],
        PLAN[3],
    ]


def test_log_paths() -> None:
    cdir = CampaignDir(Path("campaigns/x"))
    assert cdir.log_for("r0001-a-sysbench-cpu-1", 2) == Path(
        "campaigns/x/logs/r0001-a-sysbench-cpu-1.a2.log"
    )
