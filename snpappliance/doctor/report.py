"""The doctor's verdict: a :class:`DoctorReport`, shown as a table or as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.table import Table

from snpappliance.doctor.checks import Check, Status
from snpappliance.doctor.diagnosis import Cause
from snpappliance.doctor.facts import DeployedRelease
from snpappliance.errors import PreflightError

_STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "red", Status.UNKNOWN: "dim"}


@dataclass(frozen=True)
class DoctorReport:
    """Every check run on one host."""

    host: str
    checks: tuple[Check, ...]
    #: The deployed release the checks looked at (None: none under the prefix).
    release: DeployedRelease | None = None
    #: Why SNP is not up, each cause once (empty on a working host).
    diagnosis: tuple[Cause, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no required check failed (the campaign and deploy refuse a host otherwise)."""
        return not self.blocking

    @property
    def verdict(self) -> bool | None:
        """JSON ``ok``: True when every required check passed, False when one failed, else None."""
        if self.blocking:
            return False
        required = [c for c in self.checks if c.required]
        return True if all(c.status is Status.PASS for c in required) else None

    @property
    def blocking(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.blocking)

    def check(self, id: str) -> Check:
        return next(c for c in self.checks if c.id == id)

    def to_json(self) -> str:
        data = {
            "host": self.host,
            "ok": self.verdict,
            "checks": [
                {
                    "id": c.id,
                    "title": c.title,
                    "status": c.status.value,
                    "required": c.required,
                    "evidence": c.evidence,
                    "hint": c.hint,
                }
                for c in self.checks
            ],
            "diagnosis": [
                {"cause": d.cause, "evidence": d.evidence, "fix": d.fix} for d in self.diagnosis
            ],
        }
        return json.dumps(data, indent=2) + "\n"

    def raise_for_failures(self) -> None:
        """Raise :class:`PreflightError` naming the failed required checks, if any."""
        if self.ok:
            return
        failed = self.blocking
        msg = (
            f"{self.host} is not ready for SEV-SNP: {len(failed)} required check(s) failed "
            f"({', '.join(c.id for c in failed)})"
        )
        raise PreflightError(
            msg,
            detail="\n".join(f"{c.title}: {c.evidence}" for c in failed),
            hint=failed[0].hint or f"run `snpapp doctor --host {self.host}` for details",
        )


def causes_table(report: DoctorReport) -> Table | None:
    """The diagnosis as a table (``None`` when there is no cause)."""
    if not report.diagnosis:
        return None
    out = Table(title=f"Why SEV-SNP is not up on {report.host}", title_justify="left")
    for column in ("cause", "evidence", "fix"):
        out.add_column(column, overflow="fold")
    for d in report.diagnosis:
        out.add_row(f"[red]{d.cause}[/]", d.evidence, d.fix)
    return out


def table(report: DoctorReport) -> Table:
    """A rich table: one row per check with status, evidence and hint."""
    out = Table(title=f"SEV-SNP preflight of {report.host}", title_justify="left")
    for column in ("check", "status", "evidence", "what to do"):
        out.add_column(column, overflow="fold")
    for c in report.checks:
        status = f"[{_STYLE[c.status]}]{c.status.value.upper()}[/]"
        if c.status is Status.FAIL and not c.required:
            status += " (optional)"
        out.add_row(c.title, status, c.evidence, c.hint)
    return out


def summary(report: DoctorReport) -> str:
    counts = {s: sum(1 for c in report.checks if c.status is s) for s in Status}
    shown = {True: "ready", False: "NOT ready", None: "readiness unproven from these facts"}
    return (
        f"{report.host}: {shown[report.verdict]} ("
        + ", ".join(f"{n} {s.value}" for s, n in counts.items())
        + ")"
    )
