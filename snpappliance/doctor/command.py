"""What ``snpapp doctor`` does, as a plain function the CLI calls."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from snpappliance.doctor.capture import read_capture
from snpappliance.doctor.checks import Status
from snpappliance.doctor.collect import collect
from snpappliance.doctor.report import DoctorReport, causes_table, summary, table
from snpappliance.doctor.run import evaluate, run_doctor
from snpappliance.hosts.connect import connect
from snpappliance.log import console, out

if TYPE_CHECKING:
    from pathlib import Path


def doctor(
    *,
    host: str,
    ssh_config: Path | None,
    prefix: str,
    as_json: bool,
    source: Path | None = None,
    collect_to: Path | None = None,
) -> DoctorReport | None:
    """Check ``host`` (or the captured output at ``source``) and show the verdict on stdout.

    With ``collect_to``, only write ``host``'s facts to that bundle. Raises
    :class:`~snpappliance.errors.PreflightError` when a required check fails
    (exit status 12, JSON ``ok`` false).
    """
    if collect_to is not None:
        with connect(host, ssh_config=ssh_config) as target:
            written = collect(target, prefix, collect_to)
        console.print(f"wrote {written}: send it along, or run `snpapp doctor --from {written}`")
        return None
    if source is not None:
        capture = read_capture(source)
        report = evaluate(capture.host, capture.facts)
        for skipped in capture.skipped:
            console.print(f"[yellow]skipped[/] {skipped}")
    else:
        with connect(host, ssh_config=ssh_config) as target:
            report = run_doctor(target, prefix=prefix)
    show(report, as_json=as_json)
    report.raise_for_failures()
    return report


def show(report: DoctorReport, *, as_json: bool) -> None:
    """JSON, or the causes then the checks on stdout: tables on a terminal, else lines."""
    if as_json:
        sys.stdout.write(report.to_json())
        return
    if not out.is_terminal:
        for line in plain_lines(report):
            out.print(line, markup=False, highlight=False, soft_wrap=True)
        return
    causes = causes_table(report)
    if causes is not None:
        out.print(causes)
    out.print(table(report))
    out.print(summary(report))


def plain_lines(report: DoctorReport) -> list[str]:
    """The verdict for a pipe or a log: one whole line per cause and per check (grep-able)."""
    lines = []
    if report.diagnosis:
        lines.append(f"Why SEV-SNP is not up on {report.host}:")
        lines += [f"  {d.cause}: {d.evidence} — fix: {d.fix}" for d in report.diagnosis]
    lines.append(f"SEV-SNP preflight of {report.host}:")
    for c in report.checks:
        status = c.status.value.upper()
        if c.status is Status.FAIL and not c.required:
            status += " (optional)"
        hint = f" — {c.hint}" if c.hint else ""
        lines.append(f"  {status:<7} {c.title}: {c.evidence}{hint}")
    lines.append(summary(report))
    return lines
