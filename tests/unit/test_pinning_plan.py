"""The pinning plan (pure): one CPU per vCPU, one for QEMU, one NUMA node, SMT-aware."""

from __future__ import annotations

import json

import pytest

from snpappliance.campaign.pinning import memory_binding, parse_request, plan_pinning
from snpappliance.campaign.runner import resume_changes
from snpappliance.errors import ConfigError
from snpappliance.tuning.topology import Topology


def two_socket(cores_per_node: int, smt: bool = True) -> Topology:
    """Linux's numbering on a 2-socket EPYC: cores 0..2n-1, their SMT siblings +2n."""
    total = 2 * cores_per_node
    cores = tuple((c, c + total) if smt else (c,) for c in range(total))
    nodes = {
        n: tuple(sorted(cpu for core in cores[n * cores_per_node : (n + 1) * cores_per_node]
                        for cpu in core))
        for n in (0, 1)
    }  # fmt: skip
    return Topology(tuple(sorted(c for core in cores for c in core)), cores, nodes)


THIS_VM = Topology((0, 1), ((0,), (1,)), {0: (0, 1)})


def test_auto_on_this_two_cpu_vm() -> None:
    plan = plan_pinning(THIS_VM, 1)
    assert (plan.node, plan.vcpu_cpus, plan.emulator_cpus, plan.warnings) == (0, (1,), (0,), ())
    with pytest.raises(ConfigError, match="3 online CPUs on one NUMA node; the host has node 0: 2"):
        plan_pinning(THIS_VM, 2)


def test_auto_leaves_the_first_core_to_the_host_and_avoids_siblings() -> None:
    genoa = two_socket(96)
    plan = plan_pinning(genoa, 4)
    assert plan.node == 0
    assert plan.emulator_cpus == (1,)
    assert plan.vcpu_cpus == (2, 3, 4, 5)
    assert not plan.warnings
    assert plan.to_json() == {
        "node": 0, "vcpu_cpus": [2, 3, 4, 5], "emulator_cpus": [1], "warnings": []
    }  # fmt: skip
    assert memory_binding(plan) == "host-nodes=0,policy=bind"


def test_auto_uses_siblings_only_when_the_node_lacks_cores() -> None:
    small = two_socket(2)  # node 0: cores (0,4) and (1,5)
    plan = plan_pinning(small, 3)
    assert plan.vcpu_cpus == (0, 1, 4)
    assert plan.emulator_cpus == (5,)
    assert "vCPUs 0 and 2 run on SMT siblings 0 and 4" in plan.warnings
    with pytest.raises(ConfigError, match="5 online CPUs"):
        plan_pinning(small, 4)


def test_auto_takes_a_node_without_sharing_when_there_is_one() -> None:
    # Node 0 has one core with two threads: QEMU would share it with the vCPU.
    uneven = Topology((0, 1, 2, 3, 4), ((0, 1), (2,), (3,), (4,)), {0: (0, 1), 1: (2, 3, 4)})
    plan = plan_pinning(uneven, 1)
    assert (plan.node, plan.vcpu_cpus, plan.emulator_cpus, plan.warnings) == (1, (4,), (3,), ())
    plan = plan_pinning(uneven, 2)
    assert (plan.node, plan.vcpu_cpus, plan.emulator_cpus) == (1, (3, 4), (2,))


def test_an_explicit_list_is_kept_and_its_sharing_recorded() -> None:
    plan = plan_pinning(THIS_VM, 2, [1, 1, 0])
    assert (plan.vcpu_cpus, plan.emulator_cpus) == ((1, 1), (0,))
    assert plan.warnings == ("vCPUs 0 and 1 share host CPU 1",)
    assert plan_pinning(THIS_VM, 1, "1,0").vcpu_cpus == (1,)
    with pytest.raises(ConfigError, match="needs one per vCPU"):
        plan_pinning(THIS_VM, 2, [1, 0])
    with pytest.raises(ConfigError, match="not online"):
        plan_pinning(THIS_VM, 1, [1, 7])
    with pytest.raises(ConfigError, match="NUMA nodes"):
        plan_pinning(two_socket(4), 1, [1, 5])


def test_requests_are_auto_or_cpu_lists() -> None:
    assert parse_request("auto") == "auto"
    assert parse_request([2, 3, 1]) == [2, 3, 1]
    with pytest.raises(ConfigError, match="'auto' or a list"):
        parse_request("fast")
    with pytest.raises(ConfigError):
        plan_pinning(THIS_VM, 0)


def test_a_plan_made_again_matches_its_record_in_environment_json() -> None:
    genoa = two_socket(8)
    recorded = json.loads(json.dumps({"request": "auto", **plan_pinning(genoa, 4).to_json()}))
    env = {"guest": {"manifest_digest": "d"}, "pinning": recorded}
    again = plan_pinning(genoa, 4).to_json()
    assert resume_changes(env, "h", digest="d", pinning=again) == []
    assert resume_changes(env, "h", digest="d", pinning=plan_pinning(genoa, 2).to_json())
