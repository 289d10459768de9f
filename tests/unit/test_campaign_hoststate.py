"""The host's state across a campaign: recorded once, re-read before each run (this machine)."""

from __future__ import annotations

from snpappliance.campaign.hoststate import ENV_KEY, recorded_state, run_state
from snpappliance.hosts.local import LocalHost
from snpappliance.tuning.state import read_host_state


def test_an_unchanged_host_reports_its_load_and_no_change() -> None:
    host = LocalHost()
    before = read_host_state(host)
    state = run_state(host, before)
    assert state["changes"] == []
    assert set(state["load"]) == {k for k in before if k.startswith("load.")}
    assert float(state["load"]["load.avg1"]) >= 0


def test_a_changed_setting_is_named_with_both_values() -> None:
    host = LocalHost()
    before = {**read_host_state(host), "thp.enabled": "never"}
    now = read_host_state(host)["thp.enabled"]
    assert run_state(host, before)["changes"] == [f"thp.enabled: never → {now}"]


def test_the_recorded_state_is_found_for_one_host_or_several() -> None:
    state = {"smt.active": "1"}
    assert recorded_state({ENV_KEY: state}, "local") == state
    assert recorded_state({"hosts": {"a": {ENV_KEY: state}, "b": {}}}, "a") == state
    assert recorded_state({"hosts": {"a": {ENV_KEY: state}, "b": {}}}, "b") is None
