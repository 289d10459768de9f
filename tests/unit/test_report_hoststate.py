"""Host settings that changed during a campaign and the load at run start, as the report shows them.

The per-run host states are made by the campaign's own code on this machine:
:func:`snpappliance.campaign.hoststate.run_state` reads the host now and compares
it with a recorded state, here the real state with one setting set otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest

from snpappliance.campaign.hoststate import run_state
from snpappliance.hosts.local import LocalHost
from snpappliance.report.attempts import FinalAttempt
from snpappliance.report.hoststate import (
    changes_note,
    host_changes,
    load_rows,
    load_sentence,
    split_change,
)
from snpappliance.tuning.state import read_host_state


@pytest.fixture(scope="module")
def states() -> tuple[dict[str, Any], dict[str, Any]]:
    """(unchanged, changed): two real run states; the second sees thp.enabled changed."""
    host = LocalHost()
    recorded = read_host_state(host)
    unchanged = run_state(host, recorded)
    before = dict(recorded)
    before["thp.enabled"] = "snpapp-test-value"
    changed = run_state(host, before)
    return unchanged, changed


def run(run_id: str, scenario: str, state: dict[str, Any] | None, load: str = "") -> FinalAttempt:
    record: dict[str, Any] = {"record": "attempt", "run_id": run_id, "attempt": 1}
    if state is not None:
        record["host_state"] = {**state, "load": {**state["load"], "load.avg1": load}}
    return FinalAttempt(run_id, scenario, "h1", "ok", record)


def test_a_real_change_is_flagged_from_its_first_run(
    states: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    unchanged, changed = states
    assert unchanged["changes"] == []
    runs = [
        run("r1", "baseline", unchanged, "0.50"),
        run("r2", "snp", changed, "1.00"),
        run("r3", "baseline", changed, "3.00"),
    ]
    (change,) = host_changes(runs)
    assert (change.host, change.key, change.before) == ("h1", "thp.enabled", "snpapp-test-value")
    assert change.after == read_host_state(LocalHost())["thp.enabled"]
    assert (change.first_run, change.runs) == ("r2", 2)
    assert "from run r2 on" in change.text
    note = changes_note(runs)
    assert note.startswith("2 committed run(s) ran after a host setting had changed")
    assert "snp 1, baseline 1" in note


def test_load_per_scenario(states: tuple[dict[str, Any], dict[str, Any]]) -> None:
    unchanged, _ = states
    runs = [
        run("r1", "baseline", unchanged, "0.5"),
        run("r2", "baseline", unchanged, "2.25"),
        run("r3", "baseline", unchanged, "1"),
        run("r4", "snp", unchanged, "0.1"),
    ]
    assert load_rows(runs) == [
        {"scenario": "baseline", "n": "3", "median": "1.00", "max": "2.25"},
        {"scenario": "snp", "n": "1", "median": "0.10", "max": "0.10"},
    ]
    assert "baseline median 1.00, max 2.25 (3 runs)" in load_sentence(runs)


def test_campaigns_without_host_state_show_nothing() -> None:
    runs = [run("r1", "baseline", None)]
    assert host_changes(runs) == []
    assert load_sentence(runs) == ""
    assert changes_note(runs) == ""


def test_a_change_text_splits_into_setting_and_values() -> None:
    assert split_change("kernel.cmdline: a b: c → a b") == ("kernel.cmdline", "a b: c", "a b")
