"""The host state: parsing the read script's output, summaries, and what changed."""

from __future__ import annotations

import json
from pathlib import Path

from snpappliance.tuning.cpulist import format_cpulist, parse_cpulist
from snpappliance.tuning.files import UNREADABLE, parse_files, root_prefix
from snpappliance.tuning.state import (
    ABSENT,
    Change,
    absent,
    selected,
    state_changes,
    state_from_files,
    summarise,
)
from snpappliance.tuning.topology import topology_from_state

FIXTURES = Path(__file__).parent.parent / "fixtures" / "host-state"


def captured_vm() -> dict[str, str]:
    return parse_files((FIXTURES / "firecracker-vm-2cpu.txt").read_text())


def test_the_captured_vm_says_what_it_lacks() -> None:
    state = state_from_files(captured_vm())
    assert state["thp.enabled"] == "madvise"
    assert state["thp.defrag"] == "madvise"
    assert state["smt.control"] == "notsupported"
    assert state["vulnerability.spec_rstack_overflow"] == "Mitigation: Safe RET"
    assert state["cpus.siblings"] == "0 1"
    assert state["numa.node0.cpus"] == "0-1"
    assert state["load.tasks"].isdigit()
    assert set(absent(state)) == {
        "amd_pstate.status", "cpufreq.boost", "cpufreq.cpu_boost", "cpufreq.driver",
        "cpufreq.governor", "cpuidle.states", "intel_pstate.no_turbo", "intel_pstate.status",
        "kvm.gmem_2m_enabled", "kvm_amd",
    }  # fmt: skip
    assert json.loads(json.dumps(state)) == state


def test_topology_of_the_captured_vm() -> None:
    topology = topology_from_state(state_from_files(captured_vm()))
    assert topology.cpus == (0, 1)
    assert topology.cores == ((0,), (1,))
    assert dict(topology.nodes) == {0: (0, 1)}


def test_parse_files_strips_the_root_and_marks_unreadable_files() -> None:
    text = (
        "@@snpapp-exists /tmp/r/proc/cmdline\n/tmp/r/proc/cmdline\0quiet\n"
        "@@snpapp-exists /tmp/r/empty\n"
        "@@snpapp-unreadable /tmp/r/secret\n"
    )
    assert parse_files(text, "/tmp/r") == {
        "/proc/cmdline": "quiet",
        "/empty": "",
        "/secret": UNREADABLE,
    }
    assert root_prefix("/") == ""


def test_summaries_group_cpus_by_value() -> None:
    assert summarise({}) == ABSENT
    assert summarise({0: "performance", 1: "performance"}) == "performance"
    mixed = summarise({0: "performance", 1: "powersave", 2: "powersave", 3: "performance"})
    assert mixed == "performance (cpus 0,3); powersave (cpus 1-2)"
    assert selected("always defer defer+madvise [madvise] never") == "madvise"
    assert selected("madvise") == "madvise"


def test_cpulists_round_trip() -> None:
    assert parse_cpulist("0-2,5,7-8\n") == (0, 1, 2, 5, 7, 8)
    assert format_cpulist([8, 7, 5, 2, 1, 0]) == "0-2,5,7-8"
    assert format_cpulist(parse_cpulist("0-95,192-287")) == "0-95,192-287"


def test_changes_ignore_the_load_and_name_the_rest() -> None:
    before = state_from_files(captured_vm())
    after = {**before, "load.avg1": "9.99", "thp.enabled": "always", "kvm_amd.sev_snp": "Y"}
    del after["smt.active"]
    assert state_changes(before, after) == [
        Change("kvm_amd.sev_snp", ABSENT, "Y"),
        Change("smt.active", "0", ABSENT),
        Change("thp.enabled", "madvise", "always"),
    ]
    assert str(Change("thp.enabled", "madvise", "always")) == "thp.enabled: madvise → always"
    assert state_changes(before, dict(before)) == []
