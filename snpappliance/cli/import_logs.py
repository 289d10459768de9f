"""``snpapp import``: turn raw sysbench / GNU time logs into rows of a results file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from snpappliance.cli.app import app

HELP = """\
Import raw benchmark logs (runs made by hand or by other scripts) into a results file.

Each FILE is parsed for:

  • sysbench cpu output (1.0.x or 1.1.x)     → metric cpu_perf, events/s

  • sysbench memory output (1.0.x or 1.1.x)  → metric ram_bw_mib_s, MiB/s

  • GNU time `-f %e` output                  → metric wall_s, seconds
    (cpu_wall_s / ram_wall_s when it timed a sysbench run)

A log may hold sysbench output followed by the time line
(`/usr/bin/time -f %e sysbench … 2>&1`). A DIRECTORY means all its *.log and
*.txt files, in natural order (run-2 before run-10).

Rows are APPENDED to the --out CSV (created with the header if missing). rep numbers
continue from the rows already there for the same scenario and metric; run_id is
the file name and the first 12 hex digits of its SHA-256 (cpu-1.log@3f2a…);
started_at is the file's modification time (UTC). Every file is
parsed first: if one lacks its result line, or GNU time reports a failed run,
nothing is appended. A log whose content was already imported for the scenario
(under any path or name) is refused.

stdout carries only the results path; the summary goes to stderr.

Examples:

  snpapp import logs/off/*.log --scenario sev_off --out results.csv

  snpapp import logs/on/ --scenario sev_on --host genoa01 --out results.csv

  snpapp report results.csv --baseline sev_off
"""


@app.command("import", help=HELP)
def import_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            help="Log files, or directories of *.log/*.txt files.",
            show_default=False,
        ),
    ],
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            "-s",
            help="Scenario the runs belong to, e.g. sev_off.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Results CSV to append to (created if missing).", show_default=False
        ),
    ],
    workload: Annotated[
        str | None,
        typer.Option(
            "--workload",
            "-w",
            help="Workload label for every row (default: the parsed one: "
            "sysbench-cpu, sysbench-memory or time).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option("--host", help="Host the runs ran on (default: empty).", show_default=False),
    ] = None,
) -> None:
    from snpappliance.importer.logs import import_logs  # parsers and results only when used

    summary = import_logs(paths=files, scenario=scenario, out=out, workload=workload, host=host)
    typer.echo(str(summary.out))
