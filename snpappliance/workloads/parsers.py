"""Parsers for raw benchmark output: sysbench cpu/memory (1.0.x and 1.1.x) and GNU time ``%e``.

They fail closed: a log that lacks the line a measurement comes from raises
:class:`~snpappliance.errors.ParseError` naming the log (``source``) and the
missing line. They never return a zero or skip a value silently. The same
functions serve ``snpapp import`` (logs on disk) and the campaign runner
(guest serial-console output), so they accept ``\\r\\n`` line ends and ANSI
escape sequences.

The line formats are those printed by sysbench's ``cpu_report_cumulative``,
``memory_report_cumulative`` and ``sb_report_cumulative`` and by GNU time 1.9.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from snpappliance.errors import ParseError

if TYPE_CHECKING:
    from collections.abc import Sequence

SysbenchTest = Literal["cpu", "memory"]

METRIC_CPU = "cpu_perf"
METRIC_RAM_BW = "ram_bw_mib_s"
METRIC_WALL = "wall_s"
WORKLOAD_CPU = "sysbench-cpu"
WORKLOAD_MEMORY = "sysbench-memory"
WORKLOAD_TIME = "time"
#: A wall time is named for what it timed: the statistics compare one metric per
#: arm, and a cpu run's seconds must never pool with a memory run's.
WALL_METRICS = {WORKLOAD_CPU: "cpu_wall_s", WORKLOAD_MEMORY: "ram_wall_s"}


def wall_metric(workload: str) -> str:
    """The wall-time metric of ``workload`` (``wall_s`` for a bare GNU time log)."""
    return WALL_METRICS.get(workload, METRIC_WALL)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_VERSION = re.compile(r"^sysbench (\d+\.\d+\.\d+(?:-\w+)?)")
_CPU_MARKERS = (re.compile(r"^Prime numbers limit:"), re.compile(r"^CPU speed:"))
_MEMORY_MARKERS = (
    re.compile(r"^Running memory speed test"),
    re.compile(r"^Total operations:"),
    re.compile(r"MiB transferred"),
)
_CPU_EPS = re.compile(r"^\s*events per second:\s*([0-9]+(?:\.[0-9]+)?)\s*$")
_EPS_11 = re.compile(r"^\s*events/s \(eps\):\s*([0-9]+(?:\.[0-9]+)?)\s*$")
_MEM_MIB = re.compile(
    r"^([0-9]+(?:\.[0-9]+)?) MiB transferred \(([0-9]+(?:\.[0-9]+)?) MiB/sec\)\s*$"
)
_MEM_OPER_NONE = re.compile(r"^\s*operation:\s*none\s*$")
_ELAPSED = re.compile(r"^\s*(?:total time|time elapsed):\s*([0-9]+(?:\.[0-9]+)?)s\s*$")
_EVENTS = re.compile(r"^\s*total number of events:\s*(\d+)\s*$")
_THREADS = re.compile(r"^Number of threads:\s*(\d+)\s*$")
_TIME_E = re.compile(r"^\d+\.\d{2}$")
_TIME_FAILED = re.compile(
    r"^Command (exited with non-zero status (\d+)|terminated by signal (\d+))\s*$"
)

#: 1.1.x prints events/s with 4 decimals next to the 2-decimal "events per second:".
_EPS_REL_TOL = 1e-3
_EPS_ABS_TOL = 0.01


@dataclass(frozen=True)
class Measurement:
    """One value extracted from a log."""

    metric: str  # cpu_perf (events/s), ram_bw_mib_s (MiB/s), cpu_wall_s/ram_wall_s/wall_s (s)
    value: float
    unit: str
    workload: str  # "sysbench-cpu" | "sysbench-memory" | "time" (or what GNU time wrapped)


@dataclass(frozen=True)
class SysbenchOutput:
    """What one sysbench cpu or memory run reported."""

    version: str | None
    test: SysbenchTest
    measurement: Measurement
    total_time_s: float | None
    events: int | None
    threads: int | None


def _lines(text: str) -> list[str]:
    """Lines without ANSI escapes or trailing blanks; any of \\n, \\r\\n, \\r ends a line."""
    return [_ANSI.sub("", line).rstrip() for line in text.splitlines()]


def _matches(lines: Sequence[str], pattern: re.Pattern[str]) -> list[re.Match[str]]:
    return [m for line in lines if (m := pattern.search(line)) is not None]


def _one(
    lines: Sequence[str], pattern: re.Pattern[str], *, source: str, what: str
) -> re.Match[str] | None:
    """The single match of ``pattern``; more than one means several runs in one log."""
    found = _matches(lines, pattern)
    if len(found) > 1:
        msg = f"{source}: {len(found)} {what} lines; expected the output of exactly one run"
        raise ParseError(
            msg,
            hint="keep one sysbench run per log file",
        )
    return found[0] if found else None


def _require_text(text: str, *, source: str) -> list[str]:
    lines = _lines(text)
    if not any(lines):
        msg = f"{source} is empty"
        raise ParseError(
            msg,
            hint="the run produced no output; check how the log was captured and run it again",
        )
    return lines


def _positive(value: float, *, source: str, what: str) -> float:
    if not math.isfinite(value) or value <= 0:
        msg = f"{source}: {what} is {value:g}, which is not a measurement"
        raise ParseError(
            msg,
            hint="the run did no work in its time limit; give it more time and run it again",
        )
    return value


def _detect_test(lines: Sequence[str], *, source: str) -> SysbenchTest:
    is_cpu = any(p.search(line) for p in _CPU_MARKERS for line in lines)
    is_memory = any(p.search(line) for p in _MEMORY_MARKERS for line in lines)
    if is_cpu and is_memory:
        msg = f"{source} holds both sysbench cpu and memory output"
        raise ParseError(
            msg,
            hint="keep one sysbench run per log file",
        )
    if is_cpu:
        return "cpu"
    if is_memory:
        return "memory"
    msg = (
        f"{source} is not sysbench cpu or memory output: no 'Prime numbers limit:', "
        "'CPU speed:' or 'Running memory speed test' line"
    )
    raise ParseError(
        msg,
        hint="pass the stdout of `sysbench cpu run` or `sysbench memory run`",
    )


def _cpu_measurement(lines: Sequence[str], *, source: str) -> Measurement:
    eps = _one(lines, _CPU_EPS, source=source, what="'events per second:'")
    if eps is None:
        msg = f"{source}: sysbench cpu output has no 'events per second:' line (under 'CPU speed:')"
        raise ParseError(
            msg,
            hint="the run failed or its output was cut off; see the log and run it again",
        )
    value = _positive(float(eps.group(1)), source=source, what="events per second")
    eps11 = _one(lines, _EPS_11, source=source, what="'events/s (eps):'")
    if eps11 is not None and not math.isclose(
        value, float(eps11.group(1)), rel_tol=_EPS_REL_TOL, abs_tol=_EPS_ABS_TOL
    ):
        msg = (
            f"{source}: 'events per second: {eps.group(1)}' disagrees with "
            f"'events/s (eps): {eps11.group(1)}'"
        )
        raise ParseError(
            msg,
            hint="the log mixes the output of different runs; keep one run per log file",
        )
    return Measurement(METRIC_CPU, value, "events/s", WORKLOAD_CPU)


def _memory_measurement(lines: Sequence[str], *, source: str) -> Measurement:
    mib = _one(lines, _MEM_MIB, source=source, what="'MiB transferred'")
    if mib is not None:
        value = _positive(float(mib.group(2)), source=source, what="MiB/sec")
        return Measurement(METRIC_RAM_BW, value, "MiB/s", WORKLOAD_MEMORY)
    if _matches(lines, _MEM_OPER_NONE):
        msg = (
            f"{source}: sysbench memory ran with --memory-oper=none, which transfers no data "
            "and prints no 'MiB transferred (… MiB/sec)' line"
        )
        raise ParseError(
            msg,
            hint="measure bandwidth with --memory-oper=write or --memory-oper=read",
        )
    msg = f"{source}: sysbench memory output has no 'MiB transferred (… MiB/sec)' line"
    raise ParseError(
        msg,
        hint="the run failed or its output was cut off; see the log and run it again",
    )


def _optional_float(
    lines: Sequence[str], pattern: re.Pattern[str], *, source: str, what: str
) -> float | None:
    found = _one(lines, pattern, source=source, what=what)
    return float(found.group(1)) if found else None


def _optional_int(
    lines: Sequence[str], pattern: re.Pattern[str], *, source: str, what: str
) -> int | None:
    found = _one(lines, pattern, source=source, what=what)
    return int(found.group(1)) if found else None


def parse_sysbench(text: str, *, source: str) -> SysbenchOutput:
    """Parse the stdout of one ``sysbench cpu run`` or ``sysbench memory run`` (1.0.x or 1.1.x).

    The test is recognised from the content. cpu yields ``cpu_perf`` (events/s, from
    ``events per second:``, cross-checked against 1.1's ``events/s (eps):``); memory yields
    ``ram_bw_mib_s`` (MiB/s, from ``… MiB transferred (… MiB/sec)``).
    """
    lines = _require_text(text, source=source)
    test = _detect_test(lines, source=source)
    if test == "cpu":
        measurement = _cpu_measurement(lines, source=source)
    else:
        measurement = _memory_measurement(lines, source=source)
    version = _one(lines, _VERSION, source=source, what="sysbench version")
    return SysbenchOutput(
        version=version.group(1) if version else None,
        test=test,
        measurement=measurement,
        total_time_s=_optional_float(lines, _ELAPSED, source=source, what="'total time:'"),
        events=_optional_int(lines, _EVENTS, source=source, what="'total number of events:'"),
        threads=_optional_int(lines, _THREADS, source=source, what="'Number of threads:'"),
    )


def _failed_run(lines: Sequence[str], last: int | None) -> re.Match[str] | None:
    """The "Command exited/terminated" line of the last timed run, if that run failed."""
    failures = [(i, m) for i, line in enumerate(lines) if (m := _TIME_FAILED.match(line))]
    if not failures:
        return None
    index, match = failures[-1]
    if last is None or index > last or index == _previous_nonblank(lines, last):
        return match
    return None


def _previous_nonblank(lines: Sequence[str], index: int) -> int | None:
    return next((i for i in range(index - 1, -1, -1) if lines[i].strip()), None)


def parse_gnu_time(text: str, *, source: str, workload: str = WORKLOAD_TIME) -> Measurement:
    """Parse GNU time ``-f %e`` output: the last line matching ``^\\d+\\.\\d{2}$`` (seconds).

    GNU time prints "Command exited with non-zero status N" or "Command terminated by
    signal N" just before that line when the run failed: that is an error, not a value.
    ``workload`` names what was timed (``time`` when unknown).
    """
    lines = _require_text(text, source=source)
    last = max((i for i, line in enumerate(lines) if _TIME_E.match(line.strip())), default=None)
    failed = _failed_run(lines, last)
    if failed is not None:
        if failed.group(2) is not None:
            why = f"the timed command exited with non-zero status {failed.group(2)}"
        else:
            why = f"the timed command was terminated by signal {failed.group(3)}"
        msg = f"{source}: {why}; a failed run's time is not a measurement"
        raise ParseError(
            msg,
            hint="see the log for why the run failed, then run it again",
        )
    if last is None:
        msg = f"{source}: no GNU time '-f %e' line (elapsed seconds such as '12.34')"
        raise ParseError(
            msg,
            hint="wrap the run in `/usr/bin/time -f %e` and keep its stderr (or use -o FILE)",
        )
    return Measurement(wall_metric(workload), float(lines[last].strip()), "s", workload)


def _has_time_output(lines: Sequence[str]) -> bool:
    return any(_TIME_E.match(line.strip()) or _TIME_FAILED.match(line) for line in lines)


def _has_sysbench_output(lines: Sequence[str]) -> bool:
    markers = (_VERSION, *_CPU_MARKERS, *_MEMORY_MARKERS)
    return any(p.search(line) for p in markers for line in lines)


def parse_log(text: str, *, source: str) -> list[Measurement]:
    """Every measurement a log holds: a sysbench result, a GNU time line, or both.

    In a combined log (``/usr/bin/time -f %e sysbench … 2>&1``) the wall time belongs
    to the sysbench run, so it gets the sysbench workload; a failed run reported by
    GNU time is an error even when sysbench printed a result. A log with neither is a
    :class:`ParseError`.
    """
    lines = _require_text(text, source=source)
    wall = parse_gnu_time(text, source=source) if _has_time_output(lines) else None
    if not _has_sysbench_output(lines):
        if wall is None:
            msg = (
                f"{source} holds no output snpapp reads: no sysbench cpu/memory result, no "
                "GNU time '-f %e' line, no fio JSON and no iperf3 summary"
            )
            raise ParseError(
                msg,
                hint="pass raw sysbench and/or `/usr/bin/time -f %e` output, "
                "`fio --output-format=json` (or json+) output, or iperf3 output (text or -J)",
            )
        return [wall]
    sysbench = parse_sysbench(text, source=source).measurement
    if wall is None:
        return [sysbench]
    return [
        sysbench,
        replace(wall, metric=wall_metric(sysbench.workload), workload=sysbench.workload),
    ]
