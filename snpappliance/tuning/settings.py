"""The settings ``snpapp host tune`` recommends, described once as data.

Each :class:`Setting` names the files it writes (a glob below the root), the
value it writes, the host-state key that shows it and why it matters. IRQ
affinity is computed per host (away from the pinned CPUs) and C-states are
advice only (:data:`CSTATE_NOTE`); both are handled by :mod:`.plan`.
"""

from __future__ import annotations

from dataclasses import dataclass

from snpappliance.tuning.state import CPU, IRQ_AFFINITY, THP


@dataclass(frozen=True)
class Setting:
    """One recommended setting: write ``value`` to every file matching ``pattern``."""

    name: str
    pattern: str
    value: str
    state_key: str
    why: str


_CLOCK = (
    "boost/turbo clocks depend on temperature, power and how many cores are busy, so the "
    "same run gets a different frequency from one boot to the next"
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "governor", f"{CPU}/cpu[0-9]*/cpufreq/scaling_governor", "performance",
        "cpufreq.governor",
        "the CPUs stay at their highest non-boost frequency instead of ramping up with load, "
        "which a short benchmark run would otherwise partly measure",
    ),
    Setting("boost", f"{CPU}/cpufreq/boost", "0", "cpufreq.boost", _CLOCK),
    Setting("cpu-boost", f"{CPU}/cpu[0-9]*/cpufreq/boost", "0", "cpufreq.cpu_boost", _CLOCK),
    Setting("no-turbo", f"{CPU}/intel_pstate/no_turbo", "1", "intel_pstate.no_turbo", _CLOCK),
    Setting(
        "thp", f"{THP}/enabled", "madvise", "thp.enabled",
        "QEMU asks for huge pages for guest RAM (MADV_HUGEPAGE), so every scenario's guest "
        "keeps 2 MiB pages, while khugepaged and compaction leave the host's other processes "
        "alone ('always' adds that background work; 'never' would take the huge pages from "
        "the baseline's guest RAM and inflate the SNP difference)",
    ),
)  # fmt: skip

IRQ_SETTING = "irq-affinity"
IRQ_WHY = (
    "an interrupt handled on a CPU that runs a vCPU steals its time; irqbalance, when it "
    "runs, moves interrupts back (stop it for the campaign: systemctl stop irqbalance)"
)
#: Where tune looks for interrupts to move.
IRQ_PATTERN = IRQ_AFFINITY

CSTATE_NOTE = (
    "C-states are left as they are: a deep C-state's wake-up latency adds noise, but "
    "intel_idle.max_cstate / processor.max_cstate only take effect on the kernel command "
    "line (reboot). At runtime, write 1 to /sys/devices/system/cpu/cpuN/cpuidle/stateK/disable "
    "for the deep states of the pinned CPUs, or hold /dev/cpu_dma_latency open with a low "
    "value (tuned's latency-performance profile does); both stop when undone or closed"
)
