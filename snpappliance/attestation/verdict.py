"""Judging a parsed report against what a run expects: nonce, policy, VMPL, measurement.

Pure: no I/O. A run whose report fails any check is invalid, with the reasons.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snpappliance.attestation.report import AttestationReport

#: QEMU's, COCONUT's and AMDSEV's default SNP guest policy (SMT allowed, bit 17 set).
DEFAULT_POLICY = 0x30000


@dataclass(frozen=True)
class Expectations:
    """What a run's report must show."""

    nonce: bytes
    measurement: bytes
    policy: int = DEFAULT_POLICY
    vmpl: int = 0


@dataclass(frozen=True)
class Check:
    """One judged property of a report."""

    name: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class Verdict:
    """All checks of one report; the run is valid only if every check passed."""

    checks: tuple[Check, ...]

    @property
    def valid(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    @property
    def reason(self) -> str:
        """One line naming every failed check, or "" when the report is valid."""
        return "; ".join(c.reason for c in self.failures)


def _equal(name: str, label: str, seen: bytes, want: bytes) -> Check:
    if secrets.compare_digest(seen, want):
        return Check(name, True, f"{label} matches")
    return Check(name, False, f"{label} mismatch: report has {seen.hex()}, expected {want.hex()}")


def judge(report: AttestationReport, expected: Expectations) -> Verdict:
    """Judge ``report`` against ``expected``: nonce, policy, VMPL and measurement."""
    policy = report.policy.raw
    vmpl = report.vmpl
    checks = (
        _equal("report_data", "REPORT_DATA (nonce)", report.report_data, expected.nonce),
        Check("policy", True, f"policy {policy:#x} as expected")
        if policy == expected.policy
        else Check(
            "policy",
            False,
            f"policy mismatch: report has {policy:#x}, expected {expected.policy:#x}",
        ),
        Check("vmpl", True, f"VMPL {vmpl} as expected")
        if vmpl == expected.vmpl
        else Check("vmpl", False, f"VMPL mismatch: report has {vmpl}, expected {expected.vmpl}"),
        _equal("measurement", "MEASUREMENT", report.measurement, expected.measurement),
    )
    return Verdict(checks)
