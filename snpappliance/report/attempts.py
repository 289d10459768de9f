"""The final attempt of every committed run of a campaign directory, with its scenario and host.

``attempts.jsonl`` holds one ``attempt`` record per boot and one ``run``
record when a run is committed (:mod:`snpappliance.formats.campaigndir`). The
report reads what a run *proved* and the host state it ran in from the last
attempt of each committed run, in commit order. Attempt records name only
their run: the scenario comes from ``plan.json``, the host from the plan (a
multi-host campaign) or from the run's result rows (a one-host campaign).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from snpappliance.formats.campaigndir import ATTEMPTS_FILE, PLAN_FILE, parse_attempts

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

RECORD_ATTEMPT = "attempt"
RECORD_RUN = "run"


@dataclass(frozen=True)
class FinalAttempt:
    """The last attempt record of one committed run."""

    run_id: str
    scenario: str
    host: str
    #: The run's final status (its ``run`` record).
    status: str
    record: Mapping[str, Any]


def _read_attempts(path: Path) -> list[dict[str, Any]]:
    try:
        return parse_attempts(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


def planned_runs(campaign_dir: Path) -> dict[str, tuple[str, str]]:
    """run_id → (scenario, host) from ``plan.json`` ({} when it is missing or unreadable)."""
    try:
        data = json.loads((campaign_dir / PLAN_FILE).read_text(encoding="utf-8"))
        return {
            str(r["run_id"]): (str(r["scenario"]), str(r.get("host", "")))
            for r in data["runs"]
            if "run_id" in r
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def result_places(frame: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """run_id → (scenario, host) as the result rows name them."""
    identified = frame.loc[(frame["run_id"] != "").to_numpy(), ["run_id", "scenario", "host"]]
    unique = identified.drop_duplicates("run_id")
    return {
        str(r): (str(s), str(h))
        for r, s, h in zip(unique["run_id"], unique["scenario"], unique["host"], strict=True)
    }


def final_attempts(
    campaign_dir: Path, places: Mapping[str, tuple[str, str]] | None = None
) -> list[FinalAttempt]:
    """The last attempt of each committed run, in commit order.

    ``places`` (see :func:`result_places`) supplies the host of one-host plans
    and the scenario of runs the plan does not name.
    """
    records = _read_attempts(campaign_dir / ATTEMPTS_FILE)
    if not records:
        return []
    planned = planned_runs(campaign_dir)
    places = places or {}
    last: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.get("record") != RECORD_ATTEMPT or "run_id" not in record:
            continue
        run_id = str(record["run_id"])
        previous = last.get(run_id)
        if previous is None or _number(record) >= _number(previous):
            last[run_id] = record
    found = []
    for record in records:
        if record.get("record") != RECORD_RUN or "run_id" not in record:
            continue
        run_id = str(record["run_id"])
        attempt = last.get(run_id)
        if attempt is None:
            continue
        scenario, host = planned.get(run_id, ("", ""))
        from_rows = places.get(run_id, ("", ""))
        found.append(
            FinalAttempt(
                run_id=run_id,
                scenario=scenario or from_rows[0] or "?",
                host=host or from_rows[1],
                status=str(record.get("status", "")),
                record=attempt,
            )
        )
    return found


def _number(record: Mapping[str, Any]) -> int:
    try:
        return int(record.get("attempt", 0))
    except (TypeError, ValueError):
        return 0
