"""The host state recorded with every campaign: a flat ``{key: value}`` of strings.

:func:`read_host_state` reads it from any host (one command); :func:`state_from_files`
builds it from the files read (pure, so captures and tests take the same path).
Per-CPU values are summarised: one value when every CPU agrees, else
``"performance (cpus 0-3); powersave (cpus 4-7)"``. A setting the host does not
have is recorded as :data:`ABSENT`, never left out, so that a reader sees that it
was looked for. :func:`state_changes` names what differs between two states,
ignoring the volatile ``load.*`` keys.

Keys (``<name>`` stands for each file of a directory):

- ``cpufreq.driver``, ``cpufreq.governor``, ``cpufreq.boost`` (global switch),
  ``cpufreq.cpu_boost`` (per-CPU switch, amd-pstate on Linux >= 6.11),
  ``intel_pstate.no_turbo``, ``intel_pstate.status``, ``amd_pstate.status``;
- ``smt.control``, ``smt.active``;
- ``cpuidle.driver``, ``cpuidle.governor``, ``cpuidle.max_cstate.intel_idle``,
  ``cpuidle.max_cstate.processor`` (boot parameters), ``cpuidle.state.<name>.disable``
  (per-state switch, summarised over CPUs; ``cpuidle.states`` is ABSENT when the
  CPUs have no idle states);
- ``thp.enabled``, ``thp.defrag``, ``thp.shmem_enabled`` (the selected word of
  ``always [madvise] never``; shmem_enabled governs memfd-backed guest RAM);
- ``kvm_amd.<name>`` for every kvm_amd parameter (``kvm_amd`` is ABSENT without
  the module), ``kvm.gmem_2m_enabled`` (guest_memfd 2 MiB pages, AMD's SNP kernels);
- ``vulnerability.<name>`` for every file in /sys/devices/system/cpu/vulnerabilities;
- ``kernel.release``, ``kernel.cmdline``;
- ``load.avg1``, ``load.avg5``, ``load.avg15``, ``load.running``, ``load.tasks``
  (volatile: at the time of reading);
- ``cpus.online``, ``cpus.siblings`` (SMT sibling groups, space-separated CPU lists),
  ``numa.nodes``, ``numa.node<N>.cpus``;
- ``irq.affinity``: the distinct ``smp_affinity_list`` values of /proc/irq/*, ``; ``-separated.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from snpappliance.tuning.cpulist import format_cpulist, parse_cpulist
from snpappliance.tuning.files import UNREADABLE, read_files

if TYPE_CHECKING:
    from collections.abc import Mapping

    from snpappliance.hosts.base import Host

#: The host state: JSON-ready, one string per key.
HostState = dict[str, str]

#: The value of a key whose file the host does not have.
ABSENT = "(absent)"
#: Keys that change from one moment to the next; :func:`state_changes` ignores them.
VOLATILE_PREFIXES = ("load.",)

CPU = "/sys/devices/system/cpu"
THP = "/sys/kernel/mm/transparent_hugepage"
KVM_AMD = "/sys/module/kvm_amd/parameters"
VULNERABILITIES = f"{CPU}/vulnerabilities"
GMEM_2M = "/sys/module/kvm/parameters/gmem_2m_enabled"
IRQ_AFFINITY = "/proc/irq/[0-9]*/smp_affinity_list"

#: Single files: state key → path.
SINGLE: dict[str, str] = {
    "cpufreq.boost": f"{CPU}/cpufreq/boost",
    "intel_pstate.no_turbo": f"{CPU}/intel_pstate/no_turbo",
    "intel_pstate.status": f"{CPU}/intel_pstate/status",
    "amd_pstate.status": f"{CPU}/amd_pstate/status",
    "smt.control": f"{CPU}/smt/control",
    "smt.active": f"{CPU}/smt/active",
    "cpuidle.driver": f"{CPU}/cpuidle/current_driver",
    "cpuidle.max_cstate.intel_idle": "/sys/module/intel_idle/parameters/max_cstate",
    "cpuidle.max_cstate.processor": "/sys/module/processor/parameters/max_cstate",
    "thp.enabled": f"{THP}/enabled",
    "thp.defrag": f"{THP}/defrag",
    "thp.shmem_enabled": f"{THP}/shmem_enabled",
    "kvm.gmem_2m_enabled": GMEM_2M,
    "kernel.release": "/proc/sys/kernel/osrelease",
    "kernel.cmdline": "/proc/cmdline",
    "cpus.online": f"{CPU}/online",
    "numa.nodes": "/sys/devices/system/node/online",
}
#: Per-CPU files: state key → file below /sys/devices/system/cpu/cpuN/.
PER_CPU: dict[str, str] = {
    "cpufreq.driver": "cpufreq/scaling_driver",
    "cpufreq.governor": "cpufreq/scaling_governor",
    "cpufreq.cpu_boost": "cpufreq/boost",
}
GOVERNOR_FILES = (f"{CPU}/cpuidle/current_governor_ro", f"{CPU}/cpuidle/current_governor")
SIBLINGS = "topology/thread_siblings_list"
IDLE_STATE = "cpuidle/state[0-9]*"

PATTERNS: tuple[str, ...] = (
    *SINGLE.values(),
    *GOVERNOR_FILES,
    *(f"{CPU}/cpu[0-9]*/{name}" for name in (*PER_CPU.values(), SIBLINGS)),
    f"{CPU}/cpu[0-9]*/{IDLE_STATE}/name",
    f"{CPU}/cpu[0-9]*/{IDLE_STATE}/disable",
    f"{KVM_AMD}/*",
    f"{VULNERABILITIES}/*",
    "/proc/loadavg",
    "/sys/devices/system/node/node[0-9]*/cpulist",
    IRQ_AFFINITY,
)

_CPU_FILE = re.compile(rf"{CPU}/cpu(\d+)/(.+)")
_IDLE_FILE = re.compile(r"cpuidle/state(\d+)/(name|disable)")
_NODE_FILE = re.compile(r"/sys/devices/system/node/node(\d+)/cpulist")
_SELECTED = re.compile(r"\[([^\]]+)\]")


@dataclass(frozen=True)
class Change:
    """One key whose value differs between two states (ABSENT when a side lacks it)."""

    key: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.key}: {self.before} → {self.after}"


def selected(value: str) -> str:
    """The bracketed choice of a sysfs multiple-choice file (``always [madvise] never``)."""
    found = _SELECTED.search(value)
    return found.group(1) if found else value.strip()


def summarise(per_cpu: Mapping[int, str]) -> str:
    """One value if every CPU agrees, else ``"a (cpus 0-3); b (cpus 4-7)"``; ABSENT if none."""
    if not per_cpu:
        return ABSENT
    groups: dict[str, list[int]] = defaultdict(list)
    for cpu in sorted(per_cpu):
        groups[per_cpu[cpu]].append(cpu)
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{value} (cpus {format_cpulist(cpus)})" for value, cpus in groups.items())


def _per_cpu_files(files: Mapping[str, str]) -> dict[str, dict[int, str]]:
    """``{file below cpuN/: {N: contents}}``."""
    found: dict[str, dict[int, str]] = defaultdict(dict)
    for path, value in files.items():
        match = _CPU_FILE.fullmatch(path)
        if match:
            found[match.group(2)][int(match.group(1))] = value
    return found


def _idle_states(per_cpu: Mapping[str, Mapping[int, str]]) -> HostState:
    """``cpuidle.state.<name>.disable`` summarised over CPUs, from cpuN/cpuidle/stateK files."""
    disabled: dict[str, dict[int, str]] = defaultdict(dict)
    for relative, by_cpu in per_cpu.items():
        match = _IDLE_FILE.fullmatch(relative)
        if not match or match.group(2) != "name":
            continue
        for cpu, name in by_cpu.items():
            disable = per_cpu.get(f"cpuidle/state{match.group(1)}/disable", {}).get(cpu, ABSENT)
            disabled[name][cpu] = disable
    if not disabled:
        return {"cpuidle.states": ABSENT}
    return {f"cpuidle.state.{name}.disable": summarise(v) for name, v in sorted(disabled.items())}


def _directory(files: Mapping[str, str], directory: str, prefix: str) -> HostState:
    found = {
        f"{prefix}.{path.rsplit('/', 1)[1]}": value
        for path, value in sorted(files.items())
        if path.rsplit("/", 1)[0] == directory
    }
    return found or {prefix: ABSENT}


def _load(files: Mapping[str, str]) -> HostState:
    fields = files.get("/proc/loadavg", "").split()
    if len(fields) < 4:
        return {"load": ABSENT}
    running, _, tasks = fields[3].partition("/")
    return {
        "load.avg1": fields[0], "load.avg5": fields[1], "load.avg15": fields[2],
        "load.running": running, "load.tasks": tasks,
    }  # fmt: skip


def _topology(files: Mapping[str, str], per_cpu: Mapping[str, Mapping[int, str]]) -> HostState:
    state: HostState = {}
    groups = {
        format_cpulist(parse_cpulist(v))
        for v in per_cpu.get(SIBLINGS, {}).values()
        if v != UNREADABLE
    }
    state["cpus.siblings"] = (
        " ".join(sorted(groups, key=lambda g: parse_cpulist(g)[0])) if groups else ABSENT
    )
    for path, value in sorted(files.items()):
        match = _NODE_FILE.fullmatch(path)
        if match:
            state[f"numa.node{match.group(1)}.cpus"] = value
    return state


def _irqs(files: Mapping[str, str]) -> HostState:
    pattern = re.compile(r"/proc/irq/\d+/smp_affinity_list")
    lists = {v for path, v in files.items() if pattern.fullmatch(path) and v != UNREADABLE}
    return {"irq.affinity": "; ".join(sorted(lists)) if lists else ABSENT}


def state_from_files(files: Mapping[str, str]) -> HostState:
    """The host state from the files :data:`PATTERNS` matched (pure)."""
    per_cpu = _per_cpu_files(files)
    state: HostState = {key: files.get(path, ABSENT) for key, path in SINGLE.items()}
    for key in ("thp.enabled", "thp.defrag", "thp.shmem_enabled"):
        state[key] = selected(state[key]) if state[key] != ABSENT else ABSENT
    governor = next((files[p] for p in GOVERNOR_FILES if p in files), ABSENT)
    state["cpuidle.governor"] = governor
    state.update({key: summarise(per_cpu.get(name, {})) for key, name in PER_CPU.items()})
    state.update(_idle_states(per_cpu))
    state.update(_directory(files, KVM_AMD, "kvm_amd"))
    state.update(_directory(files, VULNERABILITIES, "vulnerability"))
    state.update(_load(files))
    state.update(_topology(files, per_cpu))
    state.update(_irqs(files))
    return dict(sorted(state.items()))


def read_host_state(host: Host, *, root: str = "/") -> HostState:
    """The state of ``host`` now (one command; ``root`` is ``/`` except in tests)."""
    return state_from_files(read_files(host, PATTERNS, root=root))


def absent(state: Mapping[str, str]) -> list[str]:
    """The keys the host does not have (recorded as :data:`ABSENT`)."""
    return [key for key, value in state.items() if value == ABSENT]


def is_volatile(key: str) -> bool:
    return key.startswith(VOLATILE_PREFIXES)


def state_changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[Change]:
    """What changed from ``before`` to ``after``, by key, ignoring volatile keys (pure)."""
    keys = sorted(set(before) | set(after))
    return [
        Change(key, before.get(key, ABSENT), after.get(key, ABSENT))
        for key in keys
        if not is_volatile(key) and before.get(key, ABSENT) != after.get(key, ABSENT)
    ]
