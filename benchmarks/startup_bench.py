"""Start-up time of the installed `snpapp`: `--version`, `--help` and every `<command> --help`.

Each command line runs RUNS times (after one untimed warm-up run) in a fresh
interpreter through the installed console script (.venv/bin/snpapp), the way
a user or a script starts it. Printed per command: the median and the maximum
wall-clock time, and the median CPU time (user + system) of the child, which
depends less on what else the machine is doing. Two rows in brackets come
first, for context: the bare interpreter, and the typer and rich modules that
every help screen needs. Target: every snpapp median under 0.3 s; the exit
status is 1 when one is over.

    .venv/bin/python benchmarks/startup_bench.py [--runs 7] [--target 0.3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from snpappliance import proc  # noqa: E402

SNPAPP = REPO / ".venv" / "bin" / "snpapp"
PYTHON = REPO / ".venv" / "bin" / "python"
TARGET_S = 0.3


@dataclass(frozen=True)
class Timing:
    argv: tuple[str, ...]
    wall_s: list[float]
    cpu_s: list[float]

    @property
    def median_s(self) -> float:
        return statistics.median(self.wall_s)


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def command_lines() -> list[tuple[str, ...]]:
    """`--version`, `--help`, then `<command> --help` for every command and subcommand."""
    import typer

    from snpappliance.cli.edge import Command, build_command

    lines: list[tuple[str, ...]] = [("--version",), ("--help",)]

    def walk(command: Command, path: tuple[str, ...]) -> None:
        if not isinstance(command, typer.core.TyperGroup):
            return
        for name, sub in command.commands.items():
            if isinstance(sub, Command):
                lines.append((*path, name, "--help"))
                walk(sub, (*path, name))

    walk(build_command(), ())
    return lines


#: What this machine needs before snpapp's own code runs, for context (no target):
#: the interpreter, and the typer + rich modules that every help screen needs.
FLOOR = {
    "python -c pass": ("-c", "pass"),
    "python -c 'import typer, typer.rich_utils'": ("-c", "import typer.main, typer.rich_utils"),
}


def measure(argv: tuple[str, ...], runs: int) -> Timing:
    proc.run(argv)  # warm-up: bytecode caches, page cache
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        cpu_before = _children_cpu_s()
        start = time.perf_counter()
        proc.run(argv)
        wall.append(time.perf_counter() - start)
        cpu.append(_children_cpu_s() - cpu_before)
    return Timing(argv, wall, cpu)


def _row(label: str, timing: Timing) -> str:
    return (
        f"{label:<44} {timing.median_s:7.3f}s {max(timing.wall_s):7.3f}s "
        f"{statistics.median(timing.cpu_s):7.3f}s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command line")
    parser.add_argument("--target", type=float, default=TARGET_S, help="seconds (median)")
    args = parser.parse_args()
    print(f"{'command':<44} {'median':>8} {'max':>8} {'cpu':>8}   ({args.runs} runs)")
    for label, python_args in FLOOR.items():
        print(_row(f"({label})", measure((str(PYTHON), *python_args), args.runs)))
    over: list[Timing] = []
    for argv in command_lines():
        timing = measure((str(SNPAPP), *argv), args.runs)
        flag = "" if timing.median_s < args.target else "  over target"
        print(_row("snpapp " + " ".join(argv), timing) + flag)
        if flag:
            over.append(timing)
    if over:
        print(f"{len(over)} command line(s) over the {args.target:g} s target (median)")
        return 1
    print(f"every command line starts in under {args.target:g} s (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
