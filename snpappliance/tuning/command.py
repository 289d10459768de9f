"""What ``snpapp host show|tune|reset`` do, as plain functions the CLI calls.

Results go to stdout as plain lines (``show --json``: the state as one JSON object).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from snpappliance.hosts.connect import connect
from snpappliance.tuning import execute
from snpappliance.tuning.plan import TunePlan, tuning_advice
from snpappliance.tuning.state import absent, read_host_state

if TYPE_CHECKING:
    from collections.abc import Collection
    from pathlib import Path

    from snpappliance.tuning.execute import Outcome


def _out(lines: list[str]) -> None:
    sys.stdout.write("".join(f"{line}\n" for line in lines))


def show(
    *, host: str, ssh_config: Path | None, isolate: Collection[int] = (), as_json: bool = False
) -> dict[str, str]:
    """Print the state of ``host``, what it lacks, and the advice for a campaign."""
    with connect(host, ssh_config=ssh_config) as target:
        state = read_host_state(target)
    if as_json:
        sys.stdout.write(json.dumps(state, indent=2) + "\n")
        return state
    width = max(map(len, state))
    lines = [f"{key:<{width}}  {value}" for key, value in state.items()]
    lines += ["", f"absent on {host}: {', '.join(absent(state)) or 'nothing'}"]
    advice = tuning_advice(state, host=host, isolated=isolate)
    lines += [f"warning: {a}" for a in advice] or ["tuned: nothing to warn about"]
    _out(lines)
    return state


def _plan_lines(plan: TunePlan) -> list[str]:
    lines = [f"{w.setting}: {w.path}: {w.previous} -> {w.value}" for w in plan.writes]
    lines += [f"{name}: already as recommended" for name in plan.already]
    lines += [*plan.skipped, *(f"note: {note}" for note in plan.notes)]
    return lines


def _outcome_lines(outcome: Outcome, verb: str) -> list[str]:
    lines = [f"{w.setting}: {w.path}: kernel refused ({error})" for w, error in outcome.refused]
    return [*lines, f"{verb} {len(outcome.done)} file(s); previous values: {outcome.saved_path}"]


def tune(
    *, host: str, ssh_config: Path | None, isolate: Collection[int] = (), dry_run: bool = False
) -> TunePlan:
    """Apply the recommended settings on ``host`` (``dry_run``: only print the plan)."""
    with connect(host, ssh_config=ssh_config) as target:
        if dry_run:
            plan = execute.plan_host(target, isolate=isolate)
            _out([*_plan_lines(plan), "dry run: nothing was changed"])
            return plan
        plan, outcome = execute.tune(target, isolate=isolate)
    _out([*_plan_lines(plan), *_outcome_lines(outcome, "changed")])
    _out([f"undo with: snpapp host reset --host {host}"] if outcome.done else [])
    return plan


def reset(*, host: str, ssh_config: Path | None) -> None:
    """Restore the settings ``snpapp host tune`` changed on ``host``."""
    with connect(host, ssh_config=ssh_config) as target:
        outcome = execute.reset(target)
    if outcome is None:
        _out([f"nothing to restore on {host}: it was never tuned, or is already reset"])
        return
    _out(_outcome_lines(outcome, "restored"))
