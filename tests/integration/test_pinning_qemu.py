"""Pinning a real QEMU: the affinities read back from /proc are the plan's.

QEMU runs under TCG with one thread per vCPU (``-accel tcg,thread=multi``),
stopped before the guest starts (``-S``): no guest is needed for its threads
to exist. Guest RAM is bound to the plan's NUMA node with the plan's memory
backend properties, so QEMU also checks that they are valid.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from snpappliance.campaign.pinning import (
    PinningPlan,
    apply_pinning,
    memory_binding,
    plan_pinning,
    thread_affinities,
)
from snpappliance.campaign.qmp import Qmp
from snpappliance.errors import ConfigError
from snpappliance.hosts.local import LocalHost
from snpappliance.tuning.cpulist import parse_cpulist
from snpappliance.tuning.state import read_host_state
from snpappliance.tuning.topology import Topology, topology_from_state
from tests.conftest import require_program, unavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.integration, pytest.mark.qemu]


@pytest.fixture
def topology() -> Topology:
    found = topology_from_state(read_host_state(LocalHost()))
    if len(found.cpus) < 2:
        unavailable("pinning a guest needs at least 2 online CPUs")
    return found


@contextlib.contextmanager
def stopped_qemu(tmp_path: Path, vcpus: int, plan: PinningPlan) -> Iterator[tuple[int, Qmp]]:
    """A QEMU with ``vcpus`` vCPU threads and one I/O thread, stopped; its pid and QMP."""
    qemu = require_program("qemu-system-x86_64")
    socket_path = tmp_path / "qmp.sock"
    argv = [
        qemu, "-accel", "tcg,thread=multi", "-smp", str(vcpus), "-m", "64M",
        "-machine", "q35,memory-backend=ram0",
        "-object", f"memory-backend-ram,id=ram0,size=64M,{memory_binding(plan)}",
        "-object", "iothread,id=io0",
        "-nodefaults", "-display", "none", "-S",
        "-qmp", f"unix:{socket_path},server=on,wait=off",
    ]  # fmt: skip
    with (
        (tmp_path / "qemu.log").open("wb") as log,
        proc.spawn(argv, stdout=log) as child,
        Qmp.connect(socket_path, alive=lambda: child.poll() is None) as qmp,
    ):
        yield child.pid, qmp


def allowed_cpus(pid: int, tid: int) -> tuple[int, ...]:
    """Cpus_allowed_list of one thread, read here from /proc (not through snpapp)."""
    status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("Cpus_allowed_list:"))
    return parse_cpulist(line.split(":", 1)[1])


def pin_and_check(tmp_path: Path, vcpus: int, plan: PinningPlan) -> None:
    host = LocalHost()
    with stopped_qemu(tmp_path, vcpus, plan) as (pid, qmp):
        vcpu_tids = qmp.vcpu_thread_ids()
        io_tids = qmp.iothread_ids()
        assert len(vcpu_tids) == vcpus
        assert len(io_tids) == 1
        apply_pinning(host, pid, vcpu_tids, plan, iothread_tids=io_tids)
        threads = sorted(int(t.name) for t in Path(f"/proc/{pid}/task").iterdir())
        seen = {tid: allowed_cpus(pid, tid) for tid in threads}
        assert thread_affinities(host, pid) == seen
    for tid, cpu in zip(vcpu_tids, plan.vcpu_cpus, strict=True):
        assert seen[tid] == (cpu,)
    others = [tid for tid in threads if tid not in vcpu_tids]
    assert pid in others
    assert set(io_tids) <= set(others)
    for tid in others:
        assert seen[tid] == plan.emulator_cpus, f"thread {tid}"


def test_one_vcpu_auto_pinning_is_applied(tmp_path: Path, topology: Topology) -> None:
    plan = plan_pinning(topology, 1)
    if topology.cpus == (0, 1):  # this machine: the vCPU on CPU 1, QEMU's threads on CPU 0
        assert (plan.vcpu_cpus, plan.emulator_cpus) == ((1,), (0,))
    pin_and_check(tmp_path, 1, plan)


def test_two_vcpus_on_an_explicit_list_are_applied(tmp_path: Path, topology: Topology) -> None:
    cpus = topology.nodes[min(topology.nodes)]
    if len(cpus) < 3:  # too few for auto: two vCPUs share the last CPU, as the user asked
        with pytest.raises(ConfigError, match="3 online CPUs on one NUMA node"):
            plan_pinning(topology, 2)
        plan = plan_pinning(topology, 2, [cpus[-1], cpus[-1], cpus[0]])
        assert f"vCPUs 0 and 1 share host CPU {cpus[-1]}" in plan.warnings
    else:
        plan = plan_pinning(topology, 2, [cpus[1], cpus[2], cpus[0]])
    pin_and_check(tmp_path, 2, plan)
