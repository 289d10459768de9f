"""The host's state across a campaign: recorded once, re-checked before every run.

The state that decides how noisy a measurement is (frequency scaling, boost,
SMT, C-states, THP, kvm_amd parameters, mitigations, the kernel command line,
the topology; :mod:`snpappliance.tuning.state`) is recorded per host in
``environment.json`` when the campaign is created. Before every run it is read
again: what changed since (never the load, which is recorded per run) goes
into the run's attempt records, for the report to flag, and is said once on
the console. Untuned settings are named with how to tune them when the
campaign starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from snpappliance.formats.campaigndir import host_environment
from snpappliance.log import console
from snpappliance.tuning.plan import tuning_advice
from snpappliance.tuning.state import HostState, read_host_state, state_changes

if TYPE_CHECKING:
    from snpappliance.hosts.base import Host

#: The ``environment.json`` key of a host's recorded state.
ENV_KEY = "host_state"


def record_state(host: Host) -> HostState:
    """The host's state now, after saying which settings are not tuned for benchmarking."""
    state = read_host_state(host)
    for advice in tuning_advice(state, host=host.name):
        console.print(f"[yellow]warning:[/yellow] {advice}")
    return state


def recorded_state(environment_json: Mapping[str, Any], host: str) -> HostState | None:
    """The state ``environment.json`` recorded for ``host`` (None for older campaigns)."""
    state = host_environment(environment_json, host).get(ENV_KEY)
    return {str(k): str(v) for k, v in state.items()} if isinstance(state, Mapping) else None


def run_state(host: Host, recorded: HostState | None) -> dict[str, Any]:
    """The host's load at the start of a run, and what changed since the campaign began."""
    now = read_host_state(host)
    load = {k: v for k, v in now.items() if k.startswith("load.")}
    changes = [str(c) for c in state_changes(recorded, now)] if recorded is not None else []
    return {"load": load, "changes": changes}
