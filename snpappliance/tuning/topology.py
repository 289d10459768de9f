"""The CPUs, SMT sibling groups and NUMA nodes of a host, from its recorded state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from snpappliance.errors import HostError
from snpappliance.tuning.cpulist import parse_cpulist
from snpappliance.tuning.state import ABSENT


@dataclass(frozen=True)
class Topology:
    """Online CPUs, each CPU's SMT siblings (itself included) and the CPUs of each NUMA node."""

    cpus: tuple[int, ...]
    #: One tuple per physical core: the CPUs that share it (one CPU without SMT).
    cores: tuple[tuple[int, ...], ...]
    #: NUMA node → its online CPUs (one node 0 with every CPU when the host shows none).
    nodes: Mapping[int, tuple[int, ...]]

    def core_of(self, cpu: int) -> tuple[int, ...]:
        """The CPUs sharing ``cpu``'s core (``(cpu,)`` when the host shows no siblings)."""
        return next((core for core in self.cores if cpu in core), (cpu,))

    def node_of(self, cpu: int) -> int | None:
        return next((node for node, cpus in self.nodes.items() if cpu in cpus), None)


def topology_from_state(state: Mapping[str, str]) -> Topology:
    """The topology recorded in a host state (``cpus.*`` and ``numa.*`` keys)."""
    online = state.get("cpus.online", ABSENT)
    if online == ABSENT:
        msg = "the host state does not say which CPUs are online"
        raise HostError(msg, hint="read the state again with snpapp host show")
    cpus = parse_cpulist(online)
    siblings = state.get("cpus.siblings", ABSENT)
    groups = [] if siblings == ABSENT else [parse_cpulist(g) for g in siblings.split()]
    cores = [tuple(c for c in group if c in cpus) for group in groups]
    covered = {c for core in cores for c in core}
    cores += [(cpu,) for cpu in cpus if cpu not in covered]
    nodes: dict[int, tuple[int, ...]] = {}
    for key, value in state.items():
        if key.startswith("numa.node") and key.endswith(".cpus"):
            node = int(key.removeprefix("numa.node").removesuffix(".cpus"))
            nodes[node] = tuple(c for c in parse_cpulist(value) if c in cpus)
    return Topology(
        cpus=cpus,
        cores=tuple(sorted((core for core in cores if core), key=lambda core: core[0])),
        nodes=dict(sorted(nodes.items())) or {0: cpus},
    )
