"""`snpapp host tune`'s plan and the campaign's warnings (pure)."""

from __future__ import annotations

from pathlib import Path

from snpappliance.tuning.files import parse_files
from snpappliance.tuning.plan import plan_tune, tuning_advice
from snpappliance.tuning.state import state_from_files

FIXTURES = Path(__file__).parent.parent / "fixtures" / "host-state"
THP = "/sys/kernel/mm/transparent_hugepage/enabled"
GOV = "/sys/devices/system/cpu/cpu{}/cpufreq/scaling_governor"


def captured_vm() -> dict[str, str]:
    return parse_files((FIXTURES / "firecracker-vm-2cpu.txt").read_text())


def test_the_captured_vm_only_gets_interrupts_moved() -> None:
    plan = plan_tune(captured_vm(), isolate={1})
    assert {w.setting for w in plan.writes} == {"irq-affinity"}
    assert all(w.value == "0" for w in plan.writes)
    assert plan.already == ("thp",)
    assert [s.split(":")[0] for s in plan.skipped] == ["governor", "boost", "cpu-boost", "no-turbo"]
    assert "cpu_dma_latency" in plan.notes[0]


def test_interrupts_stay_when_no_cpu_would_be_left_or_none_is_pinned() -> None:
    files = captured_vm()
    assert "every online CPU" in plan_tune(files, isolate={0, 1}).skipped[-1]
    assert "--cpus" in plan_tune(files).skipped[-1]
    assert not [w for w in plan_tune(files).writes if w.setting == "irq-affinity"]


def test_untuned_settings_become_writes_with_their_previous_values() -> None:
    files = {
        **captured_vm(),
        THP: "[always] madvise never",
        GOV.format(0): "powersave",
        GOV.format(1): "performance",
        "/sys/devices/system/cpu/cpufreq/boost": "1",
    }
    plan = plan_tune(files)
    writes = {(w.path, w.previous, w.value) for w in plan.writes}
    assert writes == {
        (THP, "always", "madvise"),
        (GOV.format(0), "powersave", "performance"),
        ("/sys/devices/system/cpu/cpufreq/boost", "1", "0"),
    }


def test_advice_names_the_setting_and_how() -> None:
    state = state_from_files(
        {**captured_vm(), THP: "[always] madvise never", GOV.format(0): "powersave",
         GOV.format(1): "performance", "/proc/loadavg": "0.00 0.00 0.00 1/100 42"}
    )  # fmt: skip
    advice = tuning_advice(state, host="genoa01", isolated={1})
    assert len(advice) == 3
    governor, thp, irqs = advice
    assert governor.startswith("cpufreq.governor is powersave (cpus 0); performance (cpus 1)")
    assert "snpapp host tune --host genoa01" in governor
    assert thp.startswith("thp.enabled is always, not madvise")
    assert "--cpus 1" in irqs
    busy = {**state, "load.avg1": "2.5", "load.running": "3"}
    assert "load average 2.5" in tuning_advice(busy)[-1]
    tuned = {**state, "thp.enabled": "madvise", "cpufreq.governor": "performance"}
    assert tuning_advice(tuned) == []
