"""Judging a run's attestation, on real reports and variants made from their bytes."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest

from snpappliance.attestation.guest import GuestAttestation, parse_attest_line
from snpappliance.attestation.judge import RunExpectations, judge_run
from snpappliance.attestation.nonce import RunNonce
from snpappliance.formats.attestation import (
    AttestationRecord,
    AttestationStatus,
    GuestStatus,
    SignatureCheck,
    SignatureStatus,
    read_record,
    summarise_evidence,
    write_record,
)
from tests.factories import MILAN_NONCE as NONCE
from tests.factories import MILAN_REPORT as REPORT
from tests.factories import MILAN_REPORT_RAW as RAW

if TYPE_CHECKING:
    from pathlib import Path


def snp(**changes: object) -> RunExpectations:
    fields: dict[str, object] = {"snp": True, "nonce": NONCE, "measurement": REPORT.measurement}
    fields.update(changes)
    return RunExpectations(**fields)  # type: ignore[arg-type]


def guest(report: bytes | None = RAW, status: GuestStatus = GuestStatus.REPORT) -> GuestAttestation:
    return GuestAttestation(status, "configfs-tsm" if report else "none", "", report)


def patched(offset: int, new: bytes) -> bytes:
    data = bytearray(RAW)
    data[offset : offset + len(new)] = new
    return bytes(data)


def test_matching_report_is_attested_with_its_tcbs() -> None:
    record = judge_run(snp(), guest())
    assert record.status is AttestationStatus.ATTESTED
    assert record.reasons == ()
    assert (record.nonce_ok, record.policy_ok, record.vmpl_ok, record.measurement_ok) == (
        True,
        True,
        True,
        True,
    )
    assert record.reported_tcb is not None
    assert record.reported_tcb.label == "bl=3 tee=0 snp=8 ucode=115"
    assert record.chip_id == REPORT.chip_id.hex()
    assert record.policy == 0x30000
    assert record.firmware == "1.52.4"
    assert record.signature.status is SignatureStatus.NOT_VERIFIED
    assert "--verify-signature" in record.signature.detail


@pytest.mark.parametrize(
    ("report", "expect", "reason"),
    [
        (RAW, snp(nonce=RunNonce.fresh("c", "r")), "REPORT_DATA (nonce) mismatch"),
        (patched(0x08, (0xB0000).to_bytes(8, "little")), snp(), "policy mismatch"),
        (patched(0x30, (1).to_bytes(4, "little")), snp(), "VMPL mismatch"),
        (RAW, snp(measurement=bytes(48)), "MEASUREMENT mismatch"),
        (RAW, snp(measurement=None), "no expected launch digest"),
        (RAW[:-1], snp(), "malformed report"),
        (None, snp(), "missing report: guest attestation status no-interface"),
        (RAW, RunExpectations(snp=False, nonce=NONCE), "an SNP report where none should be"),
    ],
)
def test_mismatch_makes_the_run_invalid(
    report: bytes | None, expect: RunExpectations, reason: str
) -> None:
    status = GuestStatus.REPORT if report else GuestStatus.NO_INTERFACE
    record = judge_run(expect, guest(report, status))
    assert record.status is AttestationStatus.INVALID
    assert reason in record.reason


def test_failed_signature_makes_the_run_invalid() -> None:
    record = judge_run(snp(), guest(), SignatureCheck(SignatureStatus.FAILED, "bad VCEK"))
    assert record.status is AttestationStatus.INVALID
    assert record.reasons == ("signature check failed: bad VCEK",)


@pytest.mark.parametrize("status", [GuestStatus.NO_INTERFACE, GuestStatus.REFUSED])
def test_baseline_without_snp_is_recorded_as_no_snp(status: GuestStatus) -> None:
    record = judge_run(RunExpectations(snp=False, nonce=NONCE), guest(None, status))
    assert record.status is AttestationStatus.NO_SNP
    assert record.signature.status is SignatureStatus.NOT_APPLICABLE
    assert record.expected_measurement is None


@pytest.mark.parametrize("status", [GuestStatus.ERROR, GuestStatus.MISSING])
def test_baseline_that_proves_nothing_is_invalid(status: GuestStatus) -> None:
    record = judge_run(RunExpectations(snp=False, nonce=NONCE), guest(None, status))
    assert record.status is AttestationStatus.INVALID
    assert "absence of SNP not shown" in record.reason


def test_report_travels_through_the_console_line() -> None:
    line = (
        f"SNPGUEST-ATTEST status=report src=sev-guest detail= data={base64.b64encode(RAW).decode()}"
    )
    parsed = parse_attest_line(f"boot noise\r\n{line}\r\n===SNP-END id=1 rc=0===\r\n")
    assert parsed == GuestAttestation(GuestStatus.REPORT, "sev-guest", "", RAW)
    assert judge_run(snp(), parsed).status is AttestationStatus.ATTESTED


def test_record_round_trips_through_json(tmp_path: Path) -> None:
    record = judge_run(snp(), guest())
    write_record(tmp_path / "attestation.json", record)
    assert read_record(tmp_path / "attestation.json") == record
    baseline = judge_run(RunExpectations(snp=False, nonce=NONCE), guest(None, GuestStatus.ERROR))
    assert AttestationRecord.from_json(baseline.to_json()) == baseline


def test_summary_counts_per_scenario_and_host() -> None:
    good = judge_run(snp(), guest())
    bad = judge_run(snp(measurement=bytes(48)), guest())
    verified = judge_run(snp(), guest(), SignatureCheck(SignatureStatus.VERIFIED, "chain ok"))
    base = judge_run(RunExpectations(snp=False, nonce=NONCE), guest(None, GuestStatus.NO_INTERFACE))
    summary = summarise_evidence(
        [("snp", "h1", good), ("snp", "h1", bad), ("snp", "h1", verified), ("baseline", "h1", base)]
    )
    assert [(s.scenario, s.host) for s in summary] == [("snp", "h1"), ("baseline", "h1")]
    snp_row, base_row = summary
    assert (snp_row.runs, snp_row.attested, snp_row.invalid) == (3, 2, 1)
    assert (snp_row.measurement_ok, snp_row.policy_ok, snp_row.signature_verified) == (2, 3, 1)
    assert snp_row.expected_digests == (REPORT.measurement.hex(), "00" * 48)
    assert snp_row.tcbs_seen == ("bl=3 tee=0 snp=8 ucode=115",)
    assert (base_row.runs, base_row.no_snp, base_row.tcbs_seen) == (1, 1, ())
