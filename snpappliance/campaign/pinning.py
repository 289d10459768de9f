"""Pin a guest to dedicated host CPUs on one NUMA node: the plan (pure) and its application.

:func:`plan_pinning` maps a spec's request (``"auto"`` or an explicit CPU list)
onto the host topology (:class:`~snpappliance.tuning.topology.Topology`, from the
recorded host state): one host CPU per vCPU, at least one more for QEMU's main
loop, I/O and helper threads (the *emulator* CPUs), all on one node. ``auto``
never puts two vCPUs on SMT siblings of one core when the node has enough cores,
leaves the node's first core to the host when there is room, and refuses with
the numbers when the node has too few CPUs. An explicit list is the user's
choice: it must name online CPUs on one node, and what it shares (two vCPUs on
one CPU or on siblings) is recorded as a warning.

:func:`memory_binding` gives the memory backend properties that bind guest RAM
to the node. :func:`apply_pinning` sets the affinities of a running QEMU with
``taskset`` through ``host.run`` (every thread to the emulator CPUs, then each
vCPU thread, whose ids come from QMP: :mod:`.qmp`), best while QEMU is stopped
(``-S``) before ``cont``; :func:`thread_affinities` reads them back from /proc.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from snpappliance.errors import CampaignError, CommandError, ConfigError
from snpappliance.tuning.cpulist import format_cpulist, parse_cpulist

if TYPE_CHECKING:
    from collections.abc import Sequence

    from snpappliance.hosts.base import Host
    from snpappliance.tuning.topology import Topology

AUTO = "auto"
#: A spec's ``[guest] pin`` that leaves QEMU's threads to the host scheduler.
OFF = "off"

#: Pins every thread of QEMU ($2) to the emulator CPUs ($1), then each (tid, cpu) pair after.
PIN_SCRIPT = r"""
taskset -a -p -c "$1" "$2" >/dev/null || exit
shift 2
while [ $# -gt 1 ]; do taskset -p -c "$2" "$1" >/dev/null || exit; shift 2; done
"""
#: Prints ``<tid> Cpus_allowed_list:<TAB><cpus>`` for every thread of process $1.
AFFINITY_SCRIPT = r"""
for t in /proc/$1/task/*; do
  printf '%s ' "${t##*/}"; grep '^Cpus_allowed_list:' "$t/status" || echo
done
"""


@dataclass(frozen=True)
class PinningPlan:
    """Where a guest's threads run: ``vcpu_cpus[i]`` is vCPU i's host CPU."""

    node: int
    vcpu_cpus: tuple[int, ...]
    #: QEMU's main loop, I/O threads and helper threads.
    emulator_cpus: tuple[int, ...]
    warnings: tuple[str, ...] = ()

    @property
    def cpus(self) -> tuple[int, ...]:
        """Every host CPU the guest uses."""
        return tuple(sorted({*self.vcpu_cpus, *self.emulator_cpus}))

    def to_json(self) -> dict[str, object]:
        """For campaign.json / environment.json."""
        return {
            "node": self.node,
            "vcpu_cpus": list(self.vcpu_cpus),
            "emulator_cpus": list(self.emulator_cpus),
            "warnings": list(self.warnings),
        }


def _too_few(topology: Topology, vcpus: int) -> ConfigError:
    sizes = ", ".join(f"node {n}: {len(c)}" for n, c in topology.nodes.items())
    msg = (
        f"cannot pin {vcpus} vCPU(s): each needs its own host CPU and QEMU's main loop one "
        f"more, {vcpus + 1} online CPUs on one NUMA node; the host has {sizes}"
    )
    return ConfigError(
        msg,
        hint="give the guest fewer vCPUs ([guest] vcpus), name the CPUs yourself ([guest] pin = "
        "'<vCPU CPUs>,<QEMU CPU>'; sharing is allowed and recorded) or set pin = 'off'",
    )


def _node_cores(topology: Topology, node: int) -> list[tuple[int, ...]]:
    on_node = set(topology.nodes[node])
    cores = (tuple(c for c in core if c in on_node) for core in topology.cores)
    return sorted((core for core in cores if core), key=lambda core: core[0])


def _auto_on_node(topology: Topology, node: int, vcpus: int) -> PinningPlan | None:
    cores = _node_cores(topology, node)
    if sum(len(core) for core in cores) < vcpus + 1:
        return None
    usable = cores[1:] if len(cores) >= vcpus + 2 else cores  # the first core stays the host's
    if len(usable) >= vcpus + 1:
        vcpu_cpus = tuple(core[0] for core in usable[1 : vcpus + 1])
        return PinningPlan(node, vcpu_cpus, (usable[0][0],))
    order = [core[0] for core in usable] + [cpu for core in usable for cpu in core[1:]]
    vcpu_cpus, emulator = tuple(order[:vcpus]), (order[vcpus],)
    return PinningPlan(node, vcpu_cpus, emulator, _sharing(topology, vcpu_cpus, emulator))


def _sharing(
    topology: Topology, vcpu_cpus: Sequence[int], emulator: Sequence[int]
) -> tuple[str, ...]:
    """What the plan shares: vCPUs on one CPU or on SMT siblings, vCPUs with the emulator."""
    warnings = []
    for i, cpu in enumerate(vcpu_cpus):
        for j in range(i + 1, len(vcpu_cpus)):
            other = vcpu_cpus[j]
            if other == cpu:
                warnings.append(f"vCPUs {i} and {j} share host CPU {cpu}")
            elif other in topology.core_of(cpu):
                warnings.append(f"vCPUs {i} and {j} run on SMT siblings {cpu} and {other}")
    shared = sorted(set(vcpu_cpus) & set(emulator))
    if shared:
        warnings.append(f"QEMU's main loop shares host CPU(s) {format_cpulist(shared)} with vCPUs")
    for i, cpu in enumerate(vcpu_cpus):
        siblings = sorted(set(topology.core_of(cpu)) & set(emulator) - {cpu})
        if siblings:
            where = format_cpulist(siblings)
            warnings.append(
                f"QEMU's main loop runs on {where}, SMT sibling of vCPU {i}'s CPU {cpu}"
            )
    return tuple(warnings)


def _explicit(topology: Topology, vcpus: int, cpus: Sequence[int]) -> PinningPlan:
    if len(cpus) < vcpus + 1:
        msg = (
            f"pinning names {len(cpus)} CPU(s) for {vcpus} vCPU(s): it needs one per vCPU, "
            "then at least one for QEMU's main loop and I/O threads"
        )
        raise ConfigError(msg, hint=f"list {vcpus + 1} or more CPUs, or use pin = 'auto'")
    offline = sorted(set(cpus) - set(topology.cpus))
    if offline:
        msg = f"pinning names CPU(s) {format_cpulist(offline)}, not online on the host"
        raise ConfigError(msg, hint=f"the host's online CPUs are {format_cpulist(topology.cpus)}")
    nodes = {topology.node_of(cpu) for cpu in cpus}
    if len(nodes) != 1 or None in nodes:
        msg = f"pinning names CPUs on NUMA nodes {sorted(n for n in nodes if n is not None)}"
        raise ConfigError(msg, hint="name CPUs of one node: guest memory is bound to it")
    vcpu_cpus, emulator = tuple(cpus[:vcpus]), tuple(sorted(set(cpus[vcpus:])))
    node = nodes.pop()
    assert node is not None  # checked above
    return PinningPlan(node, vcpu_cpus, emulator, _sharing(topology, vcpu_cpus, emulator))


def parse_request(value: object) -> str | list[int]:
    """A pinning request: ``"auto"``, a list of CPUs or a string ``"2,3,0"`` (ordered)."""
    if value == AUTO:
        return AUTO
    if isinstance(value, str):
        try:
            cpus = [int(part) for part in value.split(",")]
        except ValueError:
            pass
        else:
            if all(cpu >= 0 for cpu in cpus):
                return cpus
    elif isinstance(value, list | tuple) and all(isinstance(v, int) and v >= 0 for v in value):
        return [int(v) for v in value]
    msg = f"pin must be 'auto' or a list of host CPUs, not {value!r}"
    raise ConfigError(msg, hint="e.g. pin = 'auto' or pin = '2,3,1' (vCPU CPUs, then QEMU's)")


def spec_request(value: str) -> str | list[int] | None:
    """``[guest] pin`` of a spec as a request for :func:`plan_pinning`; None for ``"off"``."""
    return None if value == OFF else parse_request(value)


def check_pin(value: str) -> str | None:
    """Why ``value`` is no valid ``[guest] pin`` (for the spec's field check), or None."""
    try:
        spec_request(value)
    except ConfigError:
        return "must be 'off', 'auto' or host CPUs such as '2,3,0' (vCPU CPUs, then QEMU's)"
    return None


def plan_pinning(
    topology: Topology, vcpus: int, request: str | Sequence[int] = AUTO
) -> PinningPlan:
    """The pinning of a ``vcpus``-vCPU guest on a host with ``topology`` (pure)."""
    if vcpus < 1:
        msg = f"a guest needs at least one vCPU, not {vcpus}"
        raise ConfigError(msg, hint="set vcpus to 1 or more")
    wanted = parse_request(request) if isinstance(request, str) else request
    if not isinstance(wanted, str):
        return _explicit(topology, vcpus, wanted)
    plans = [p for n in topology.nodes if (p := _auto_on_node(topology, n, vcpus)) is not None]
    if not plans:
        raise _too_few(topology, vcpus)
    return next((p for p in plans if not p.warnings), plans[0])


def memory_binding(plan: PinningPlan) -> str:
    """Properties for a ``-object memory-backend-*`` that bind guest RAM to the plan's node."""
    return f"host-nodes={plan.node},policy=bind"


def apply_pinning(
    host: Host, qemu_pid: int, vcpu_tids: Sequence[int], plan: PinningPlan,
    *, iothread_tids: Sequence[int] = (),
) -> None:  # fmt: skip
    """Pin QEMU ``qemu_pid``: all its threads to the emulator CPUs, each vCPU thread to its CPU.

    ``vcpu_tids[i]`` is vCPU i's thread (QMP ``query-cpus-fast``); I/O threads
    (``query-iothreads``) get the emulator CPUs, as do threads QEMU starts later.
    """
    if len(vcpu_tids) != len(plan.vcpu_cpus):
        msg = f"QEMU has {len(vcpu_tids)} vCPU thread(s), the pinning plan {len(plan.vcpu_cpus)}"
        raise ConfigError(msg, hint="plan the pinning for the guest's vcpus")
    emulator = format_cpulist(plan.emulator_cpus)
    pairs = [str(v) for tid, cpu in zip(vcpu_tids, plan.vcpu_cpus, strict=True) for v in (tid, cpu)]
    pairs += [str(v) for tid in iothread_tids for v in (tid, emulator)]
    argv = ["sh", "-c", PIN_SCRIPT, "sh", emulator, str(qemu_pid), *pairs]
    try:
        host.run(argv, idempotent=True, timeout=60)
    except CommandError as exc:
        msg = f"cannot pin QEMU (pid {qemu_pid}) on {host.name}: {exc.stderr_tail or exc}"
        raise CampaignError(
            msg, hint=f"install taskset (util-linux) on {host.name}, or set [guest] pin = 'off'"
        ) from exc


def thread_affinities(host: Host, pid: int) -> dict[int, tuple[int, ...]]:
    """``{thread id: CPUs it may run on}`` for every thread of ``pid``, from /proc."""
    out = host.run(["sh", "-c", AFFINITY_SCRIPT, "sh", str(pid)], idempotent=True).stdout
    found: dict[int, tuple[int, ...]] = {}
    for line in out.splitlines():
        tid, _, rest = line.partition(" ")
        _, _, cpus = rest.partition(":")
        if tid.isdigit() and cpus.strip():
            found[int(tid)] = parse_cpulist(cpus.strip())
    return found


def thread_group(host: Host, tid: int) -> int:
    """The process a thread belongs to (its ``Tgid`` in /proc): QEMU's pid from a vCPU thread."""
    out = host.run(["grep", "^Tgid:", f"/proc/{tid}/status"], idempotent=True).stdout
    _, _, pid = out.partition(":")
    if not pid.strip().isdigit():
        msg = f"cannot tell which process thread {tid} on {host.name} belongs to: {out!r}"
        raise CampaignError(msg, hint="QEMU may have exited; see the run's log")
    return int(pid)
