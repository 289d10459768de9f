"""The campaign plan: every run in the order it will be executed (a pure function).

``interleaved`` (default) builds blocks: one block per repetition and
workload, holding one run of every scenario in a seeded random order; the
blocks of a repetition are shuffled too. Scenarios therefore alternate
throughout the campaign, so slow drift of the machine cannot pass for an
effect, and the same seed always gives the same order. ``sequential`` runs
every repetition of one scenario (workload by workload) before the next, as
the case study did.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from snpappliance.campaign.spec import CampaignSpec, Order
from snpappliance.errors import CampaignError

PLAN_VERSION = 1


@dataclass(frozen=True)
class PlannedRun:
    """One fresh guest boot running one workload once."""

    index: int
    scenario: str
    workload: str
    rep: int

    @property
    def run_id(self) -> str:
        return f"r{self.index:04d}-{self.scenario}-{self.workload}-{self.rep}"


def _interleaved(
    scenarios: Sequence[str], workloads: Sequence[str], reps: int, seed: int
) -> list[tuple[str, str, int]]:
    rng = random.Random(seed)
    order: list[tuple[str, str, int]] = []
    for rep in range(1, reps + 1):
        block_workloads = list(workloads)
        rng.shuffle(block_workloads)
        for workload in block_workloads:
            block = list(scenarios)
            rng.shuffle(block)
            order += [(scenario, workload, rep) for scenario in block]
    return order


def _sequential(
    scenarios: Sequence[str], workloads: Sequence[str], reps: int
) -> list[tuple[str, str, int]]:
    return [(s, w, rep) for s in scenarios for w in workloads for rep in range(1, reps + 1)]


def plan_runs(spec: CampaignSpec, seed: int) -> tuple[PlannedRun, ...]:
    """Every run of ``spec`` in execution order; ``seed`` drives the interleaved order."""
    scenarios = [s.name for s in spec.scenarios]
    workloads = [w.name for w in spec.statistical_workloads]
    if spec.order is Order.INTERLEAVED:
        order = _interleaved(scenarios, workloads, spec.repetitions, seed)
    else:
        order = _sequential(scenarios, workloads, spec.repetitions)
    return tuple(
        PlannedRun(index=i, scenario=s, workload=w, rep=rep)
        for i, (s, w, rep) in enumerate(order, start=1)
    )


def plan_to_json(plan: Sequence[PlannedRun], seed: int, order: Order) -> str:
    data = {
        "format_version": PLAN_VERSION,
        "order": order.value,
        "seed": seed,
        "runs": [{"run_id": r.run_id, **asdict(r)} for r in plan],
    }
    return json.dumps(data, indent=1) + "\n"


def plan_from_json(text: str, source: str) -> tuple[PlannedRun, ...]:
    try:
        data = json.loads(text)
        runs = tuple(
            PlannedRun(
                index=int(r["index"]),
                scenario=str(r["scenario"]),
                workload=str(r["workload"]),
                rep=int(r["rep"]),
            )
            for r in data["runs"]
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise CampaignError(
            f"{source} is not a valid campaign plan: {exc}",
            hint="the campaign directory is damaged; start a new campaign",
        ) from exc
    return runs
