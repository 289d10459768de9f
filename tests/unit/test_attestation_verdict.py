"""Judging real reports, and variants made by changing a real report's bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from snpappliance.attestation.nonce import RunNonce
from snpappliance.attestation.report import AttestationReport, parse_report
from snpappliance.attestation.verdict import Expectations, judge

FIXTURES = Path(__file__).parent.parent / "fixtures" / "attestation"
RAW = bytes.fromhex((FIXTURES / "virtee-sev-report_milan.hex").read_text().strip())


def real() -> AttestationReport:
    return parse_report(RAW)


def matching() -> Expectations:
    report = real()
    return Expectations(nonce=report.report_data, measurement=report.measurement)


def patched(offset: int, new: bytes) -> AttestationReport:
    data = bytearray(RAW)
    data[offset : offset + len(new)] = new
    return parse_report(bytes(data))


def test_real_report_matching_expectations_is_valid() -> None:
    verdict = judge(real(), matching())
    assert verdict.valid
    assert verdict.reason == ""
    assert [c.name for c in verdict.checks] == ["report_data", "policy", "vmpl", "measurement"]


@pytest.mark.parametrize(
    ("offset", "new", "failed", "reason"),
    [
        (0x50, bytes(64), "report_data", "REPORT_DATA (nonce) mismatch"),
        (0x08, (0xB0000).to_bytes(8, "little"), "policy", "expected 0x30000"),
        (0x30, (2).to_bytes(4, "little"), "vmpl", "VMPL mismatch: report has 2, expected 0"),
        (0x90, b"\x00", "measurement", "MEASUREMENT mismatch"),
    ],
)
def test_modified_report_is_invalid_with_reason(
    offset: int, new: bytes, failed: str, reason: str
) -> None:
    verdict = judge(patched(offset, new), matching())
    assert not verdict.valid
    assert [c.name for c in verdict.failures] == [failed]
    assert reason in verdict.reason


def test_other_runs_nonce_is_refused() -> None:
    expected = Expectations(nonce=RunNonce.fresh("c1", "r1").value, measurement=real().measurement)
    verdict = judge(real(), expected)
    assert [c.name for c in verdict.failures] == ["report_data"]


def test_other_chips_report_fails_measurement_and_policy() -> None:
    other = parse_report((FIXTURES / "go-sev-guest-attestation.bin").read_bytes())
    verdict = judge(other, matching())
    assert {c.name for c in verdict.failures} == {"report_data", "policy", "measurement"}
