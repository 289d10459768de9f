"""``snpapp import``: turn raw sysbench, GNU time, fio and iperf3 output into result rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from snpappliance.cli.app import app

HELP = """\
Import raw benchmark logs (runs made by hand or by other scripts) into a results file.

Each FILE is recognised by its content:

  • sysbench cpu output (1.0.x or 1.1.x)     → metric cpu_perf, events/s

  • sysbench memory output (1.0.x or 1.1.x)  → metric ram_bw_mib_s, MiB/s

  • GNU time `-f %e` output                  → metric wall_s, seconds
    (cpu_wall_s / ram_wall_s when it timed a sysbench run)

  • fio 3.x `--output-format=json` or `json+` → per job (workload = job name) and
    direction that did I/O: fio_read_bw_kib_s / fio_write_bw_kib_s (KiB/s),
    fio_read_iops / fio_write_iops, fio_read_lat_mean_us / fio_write_lat_mean_us
    and fio_read_clat_p99_us / fio_write_clat_p99_us (µs). Jobs repeated by
    numjobs are summed; their p99 needs `--group_reporting` or `json+`.

  • iperf3 output, text or `-J` JSON, client or server side (workload
    iperf3-tcp, iperf3-udp, iperf3-tcp-reverse, iperf3-udp-reverse):
    TCP → iperf3_sender_mbit_s, iperf3_receiver_mbit_s, iperf3_retransmits;
    UDP → iperf3_receiver_mbit_s, iperf3_jitter_ms, iperf3_loss_pct.
    With -P the [SUM] lines count. Mbit/s are SI (1 Gbit = 1000 Mbit); -J
    keeps full precision where the text prints three digits. A server only
    reports its own side (the receiver, or the sender under -R).

A log may hold sysbench output followed by the time line
(`/usr/bin/time -f %e sysbench … 2>&1`). A DIRECTORY means all its *.log,
*.txt and *.json files, in natural order (run-2 before run-10).

Rows are APPENDED to the --out CSV (created with the header if missing). rep numbers
continue from the rows already there for the same scenario, workload and metric; run_id is
the file name and the first 12 hex digits of its SHA-256 (cpu-1.log@3f2a…);
started_at is the file's modification time (UTC). Every file is parsed first:
if one lacks its result, GNU time reports a failed run, a fio job reports an
error or iperf3 reports one, nothing is appended. A log whose content was
already imported for the scenario (under any path or name) is refused.

stdout carries only the results path; the summary goes to stderr.

Examples:

  snpapp import logs/off/*.log --scenario sev_off --out results.csv

  snpapp import logs/on/ --scenario sev_on --host genoa01 --out results.csv

  snpapp import fio-*.json iperf3-tcp-*.json --scenario sev_on --out results.csv

  snpapp report results.csv --baseline sev_off
"""


@app.command("import", help=HELP)
def import_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            help="Log or report files, or directories of *.log/*.txt/*.json files.",
            show_default=False,
        ),
    ],
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            "-s",
            metavar="NAME",
            help="Scenario the runs belong to, e.g. sev_off.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Results CSV to append to (created if missing).",
            show_default=False,
        ),
    ],
    workload: Annotated[
        str | None,
        typer.Option(
            "--workload",
            "-w",
            metavar="NAME",
            help="Workload label for every row (default: the parsed one: "
            "sysbench-cpu, sysbench-memory, time, the fio job name or iperf3-tcp/udp[-reverse]).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            metavar="HOST",
            help="Host the runs ran on (default: empty).",
            show_default=False,
        ),
    ] = None,
) -> None:
    from snpappliance.importer.logs import import_logs  # parsers and results only when used

    summary = import_logs(paths=files, scenario=scenario, out=out, workload=workload, host=host)
    typer.echo(str(summary.out))
