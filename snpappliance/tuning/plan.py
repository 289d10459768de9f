"""What ``snpapp host tune`` would change, and what a campaign warns about (pure).

:func:`plan_tune` turns the current contents of the settings' files into
writes, skipping settings the host lacks (and saying so); :func:`tuning_advice`
turns a recorded host state into warnings that name the setting and how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from snpappliance.tuning.cpulist import format_cpulist, parse_cpulist
from snpappliance.tuning.settings import (
    CSTATE_NOTE,
    IRQ_PATTERN,
    IRQ_SETTING,
    IRQ_WHY,
    SETTINGS,
    Setting,
)
from snpappliance.tuning.state import ABSENT, CPU, selected

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

ONLINE = f"{CPU}/online"
#: Every file tune reads to plan.
TUNE_PATTERNS: tuple[str, ...] = (*(s.pattern for s in SETTINGS), IRQ_PATTERN, ONLINE)
#: A busy host: a one-minute load average at or above this is warned about.
BUSY_LOAD = 1.0


@dataclass(frozen=True)
class Write:
    """Write ``value`` to ``path`` (below the root); ``previous`` is what it holds now."""

    setting: str
    path: str
    value: str
    previous: str


@dataclass(frozen=True)
class TunePlan:
    writes: tuple[Write, ...] = ()
    #: Settings already at the recommended value.
    already: tuple[str, ...] = ()
    #: Settings not applied, each with the reason.
    skipped: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=(CSTATE_NOTE,))


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """The files a sysfs glob (``*``, ``[0-9]``) matches, as a regex."""
    text = re.escape(pattern).replace(r"\*", "[^/]*").replace(r"\[0\-9\]", "[0-9]")
    return re.compile(text)


def _matching(files: Mapping[str, str], pattern: str) -> dict[str, str]:
    regex = _glob_regex(pattern)
    return {path: value for path, value in sorted(files.items()) if regex.fullmatch(path)}


def _plan_setting(files: Mapping[str, str], setting: Setting) -> list[Write] | str:
    """The writes for one setting, or why there are none."""
    found = _matching(files, setting.pattern)
    if not found:
        return f"{setting.name}: skipped, the host has no {setting.pattern}"
    return [
        Write(setting.name, path, setting.value, selected(value))
        for path, value in found.items()
        if selected(value) != setting.value
    ]


def _plan_irqs(files: Mapping[str, str], isolate: Collection[int]) -> list[Write] | str:
    if not isolate:
        return f"{IRQ_SETTING}: skipped, no pinned CPUs given (--cpus) to keep interrupts from"
    online = parse_cpulist(files.get(ONLINE, ""))
    rest = [cpu for cpu in online if cpu not in isolate]
    if not rest:
        return (
            f"{IRQ_SETTING}: skipped, the pinned CPUs {format_cpulist(isolate)} are every "
            "online CPU: none is left for interrupts"
        )
    writes = []
    for path, value in _matching(files, IRQ_PATTERN).items():
        current = parse_cpulist(value)
        wanted = [cpu for cpu in current if cpu not in isolate] or rest
        if wanted != list(current):
            writes.append(Write(IRQ_SETTING, path, format_cpulist(wanted), value))
    return writes


def plan_tune(files: Mapping[str, str], *, isolate: Collection[int] = ()) -> TunePlan:
    """The writes that tune the host whose :data:`TUNE_PATTERNS` files hold ``files``.

    ``isolate``: the CPUs the campaign pins vCPUs to; interrupts are moved off them.
    """
    writes: list[Write] = []
    already: list[str] = []
    skipped: list[str] = []
    planned: list[tuple[str, list[Write] | str]] = [
        *((s.name, _plan_setting(files, s)) for s in SETTINGS),
        (IRQ_SETTING, _plan_irqs(files, isolate)),
    ]
    for name, outcome in planned:
        if isinstance(outcome, str):
            skipped.append(outcome)
        elif outcome:
            writes += outcome
        else:
            already.append(name)
    return TunePlan(tuple(writes), tuple(already), tuple(skipped))


def _setting_advice(state: Mapping[str, str], setting: Setting, tune: str) -> str | None:
    current = state.get(setting.state_key, ABSENT)
    if current in (ABSENT, setting.value):
        return None
    return (
        f"{setting.state_key} is {current}, not {setting.value}: {setting.why}. "
        f"`{tune}` sets it (or write {setting.value} to {setting.pattern})"
    )


def _irq_advice(state: Mapping[str, str], isolated: Collection[int], tune: str) -> str | None:
    lists = state.get("irq.affinity", ABSENT)
    if not isolated or lists == ABSENT:
        return None
    hit = {cpu for value in lists.split("; ") for cpu in parse_cpulist(value) if cpu in isolated}
    if not hit:
        return None
    cpus = format_cpulist(isolated)
    return (
        f"interrupts may be handled on the pinned CPUs {format_cpulist(hit)} "
        f"(smp_affinity_list: {lists}): {IRQ_WHY}. `{tune} --cpus {cpus}` moves them"
    )


def _load_advice(state: Mapping[str, str]) -> str | None:
    try:
        load = float(state.get("load.avg1", ""))
    except ValueError:
        return None
    if load < BUSY_LOAD:
        return None
    running = state.get("load.running", "?")
    return (
        f"the host was busy: load average {load:g} over the last minute, {running} tasks "
        "running; stop other work on it for the campaign"
    )


def tuning_advice(
    state: Mapping[str, str], *, host: str = "local", isolated: Collection[int] = ()
) -> list[str]:
    """Warnings for a host that is not tuned, each naming the setting and how to fix it.

    ``isolated``: the CPUs the campaign pins vCPUs to (interrupts should avoid them).
    """
    tune = f"snpapp host tune --host {host}"
    found = [_setting_advice(state, setting, tune) for setting in SETTINGS]
    found += [_irq_advice(state, isolated, tune), _load_advice(state)]
    return [advice for advice in found if advice is not None]
