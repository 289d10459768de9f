"""What ``snpapp doctor`` does, as a plain function the CLI calls."""

from __future__ import annotations

import sys
from pathlib import Path

from snpappliance.doctor.report import DoctorReport, summary, table
from snpappliance.doctor.run import run_doctor
from snpappliance.hosts import connect
from snpappliance.log import console


def doctor(*, host: str, ssh_config: Path | None, prefix: str, as_json: bool) -> DoctorReport:
    """Check ``host``, show the result (table on stderr or JSON on stdout), fail if needed.

    Raises :class:`~snpappliance.errors.PreflightError` when a required check fails.
    """
    with connect(host, ssh_config=ssh_config) as target:
        report = run_doctor(target, prefix=prefix)
    if as_json:
        sys.stdout.write(report.to_json())
    else:
        console.print(table(report))
        console.print(f"{summary(report.checks)}")
    report.raise_for_failures()
    return report
