"""Run order planning (pure): interleaved blocks, seeds, sequential order, stable run ids."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from snpappliance.campaign.plan import plan_from_json, plan_runs, plan_to_json
from snpappliance.campaign.profiles import profile_path
from snpappliance.campaign.spec import Order, load_spec

_LOCAL = load_spec(profile_path("local"))
#: The local profile with its two sysbench workloads only (the plan's arithmetic below).
SPEC = replace(_LOCAL, repetitions=6, workloads=_LOCAL.workloads[:2])


def test_interleaved_blocks_hold_every_scenario_once() -> None:
    plan = plan_runs(SPEC, seed=42)
    assert len(plan) == 2 * 2 * 6
    for start in range(0, len(plan), 2):
        block = plan[start : start + 2]
        assert {r.scenario for r in block} == {"baseline", "snp-layout"}
        assert len({(r.workload, r.rep) for r in block}) == 1


def test_interleaved_never_runs_a_scenario_three_times_in_a_row() -> None:
    plan = plan_runs(replace(SPEC, repetitions=20), seed=3)
    scenarios = [r.scenario for r in plan]
    assert all(len(set(scenarios[i : i + 3])) == 2 for i in range(len(scenarios) - 2))


def test_interleaved_is_seeded_and_reproducible() -> None:
    assert plan_runs(SPEC, seed=1) == plan_runs(SPEC, seed=1)
    assert plan_runs(SPEC, seed=1) != plan_runs(SPEC, seed=2)
    assert [r.scenario for r in plan_runs(SPEC, seed=1)] != ["baseline", "snp-layout"] * 12


def test_every_cell_is_planned_exactly_once() -> None:
    for order in Order:
        plan = plan_runs(replace(SPEC, order=order), seed=5)
        cells = Counter((r.scenario, r.workload, r.rep) for r in plan)
        assert len(cells) == 24
        assert set(cells.values()) == {1}


def test_sequential_is_the_case_study_order() -> None:
    plan = plan_runs(replace(SPEC, order=Order.SEQUENTIAL, repetitions=2), seed=0)
    assert [(r.scenario, r.workload, r.rep) for r in plan] == [
        ("baseline", "sysbench-cpu", 1),
        ("baseline", "sysbench-cpu", 2),
        ("baseline", "sysbench-memory", 1),
        ("baseline", "sysbench-memory", 2),
        ("snp-layout", "sysbench-cpu", 1),
        ("snp-layout", "sysbench-cpu", 2),
        ("snp-layout", "sysbench-memory", 1),
        ("snp-layout", "sysbench-memory", 2),
    ]


def test_run_ids_are_stable_and_json_round_trips() -> None:
    plan = plan_runs(replace(SPEC, order=Order.SEQUENTIAL), seed=0)
    assert plan[6].run_id == "r0007-baseline-sysbench-memory-1"
    assert len({r.run_id for r in plan}) == len(plan)
    assert plan_from_json(plan_to_json(plan, 9, Order.SEQUENTIAL), "plan.json") == plan
