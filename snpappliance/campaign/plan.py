"""The campaign plan: every run in the order it will be executed (a pure function).

``interleaved`` (default) builds blocks: one block per repetition and
workload, holding one run of every scenario in a seeded random order; the
blocks of a repetition are shuffled too. Scenarios therefore alternate
throughout the campaign, so slow drift of the machine cannot pass for an
effect, and the same seed always gives the same order. ``sequential`` runs
every repetition of one scenario (workload by workload) before the next, as
the case study did.

Macro smoke tests (``[workloads.pts]``, cloud guest only) are not repeated and
never enter the statistics: each scenario gets exactly one smoke run (rep 1),
placed right after that scenario's last sysbench run, so that it never
disturbs the sysbench series it follows. With ``sequential`` that is the end
of the scenario's block; with ``interleaved`` it is wherever the seeded order
put the scenario's last run.

A campaign on several hosts runs the same order on every host: each run then
carries its host, and its run id ends in ``@<host>`` so that ids stay unique.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from snpappliance.campaign.spec import CampaignSpec, Order, PtsSmoke
from snpappliance.errors import CampaignError
from snpappliance.formats.names import host_slug

if TYPE_CHECKING:
    from collections.abc import Sequence

PLAN_VERSION = 1


@dataclass(frozen=True)
class PlannedRun:
    """One fresh guest boot running one workload once."""

    index: int
    scenario: str
    workload: str
    rep: int
    #: The host of a multi-host campaign ("" when the campaign has one host).
    host: str = ""

    @property
    def run_id(self) -> str:
        base = f"r{self.index:04d}-{self.scenario}-{self.workload}-{self.rep}"
        return f"{base}@{host_slug(self.host)}" if self.host else base


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


def with_smoke(order: Sequence[tuple[str, str, int]], smoke: str) -> list[tuple[str, str, int]]:
    """``order`` plus one ``smoke`` run per scenario right after that scenario's last run."""
    last = {scenario: i for i, (scenario, _, _) in enumerate(order)}
    placed: list[tuple[str, str, int]] = []
    for i, item in enumerate(order):
        placed.append(item)
        if last[item[0]] == i:
            placed.append((item[0], smoke, 1))
    return placed


def check_hosts(hosts: Sequence[str]) -> None:
    """Refuse a host list whose names repeat (or collide once made file-name safe)."""
    slugs = [host_slug(h) for h in hosts]
    repeated = sorted({h for h, s in zip(hosts, slugs, strict=True) if slugs.count(s) > 1})
    if repeated:
        msg = f"host {', '.join(repeated)} is given more than once"
        raise CampaignError(
            msg,
            hint="name every host once with --host (use different ssh aliases for one machine)",
        )


def plan_runs(spec: CampaignSpec, seed: int, hosts: Sequence[str] = ()) -> tuple[PlannedRun, ...]:
    """Every run of ``spec`` in execution order; ``seed`` drives the interleaved order.

    With two or more ``hosts`` the plan holds the same runs for every host, host by host;
    a declared smoke workload adds one run per scenario (see the module docstring).
    """
    scenarios = [s.name for s in spec.scenarios]
    workloads = list(spec.run_workloads)
    if spec.order is Order.INTERLEAVED:
        order = _interleaved(scenarios, workloads, spec.repetitions, seed)
    else:
        order = _sequential(scenarios, workloads, spec.repetitions)
    smoke = next((w.name for w in spec.workloads if isinstance(w, PtsSmoke)), None)
    if smoke is not None:
        order = with_smoke(order, smoke)
    check_hosts(hosts)
    tags = list(hosts) if len(hosts) > 1 else [""]
    return tuple(
        PlannedRun(index=i, scenario=s, workload=w, rep=rep, host=host)
        for host in tags
        for i, (s, w, rep) in enumerate(order, start=1)
    )


def plan_hosts(plan: Sequence[PlannedRun]) -> list[str]:
    """The hosts of a multi-host plan in planned order ([] for a one-host plan)."""
    return list(dict.fromkeys(r.host for r in plan if r.host))


def plan_to_json(plan: Sequence[PlannedRun], seed: int, order: Order) -> str:
    data = {
        "format_version": PLAN_VERSION,
        "order": order.value,
        "seed": seed,
        "runs": [_run_json(r) for r in plan],
    }
    return json.dumps(data, indent=1) + "\n"


def _run_json(run: PlannedRun) -> dict[str, object]:
    data: dict[str, object] = {"run_id": run.run_id, **asdict(run)}
    if not run.host:
        del data["host"]  # one-host plans keep their original form
    return data


def plan_from_json(text: str, source: str) -> tuple[PlannedRun, ...]:
    try:
        data = json.loads(text)
        runs = tuple(
            PlannedRun(
                index=int(r["index"]),
                scenario=str(r["scenario"]),
                workload=str(r["workload"]),
                rep=int(r["rep"]),
                host=str(r.get("host", "")),
            )
            for r in data["runs"]
        )
    except (ValueError, KeyError, TypeError) as exc:
        msg = f"{source} is not a valid campaign plan: {exc}"
        raise CampaignError(
            msg,
            hint="the campaign directory is damaged; start a new campaign",
        ) from exc
    return runs
