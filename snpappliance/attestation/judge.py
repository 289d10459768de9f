"""Judging one run's attestation: from the guest's output to an :class:`AttestationRecord`.

Pure: no I/O. An SNP scenario's run is ``attested`` only with a report whose
REPORT_DATA, policy, VMPL and MEASUREMENT match (and whose signature did not
fail a check); a baseline's run is ``no-snp`` only when the guest found no SNP
report interface or one that refused. Everything else is ``invalid``, with the
reasons.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from snpappliance.attestation.nonce import RunNonce
from snpappliance.attestation.report import parse_report
from snpappliance.attestation.verdict import DEFAULT_POLICY, Expectations, judge
from snpappliance.errors import ParseError
from snpappliance.formats.attestation import (
    AttestationRecord,
    AttestationStatus,
    GuestStatus,
    SignatureCheck,
    SignatureStatus,
    Tcb,
)

if TYPE_CHECKING:
    from snpappliance.attestation.guest import GuestAttestation
    from snpappliance.attestation.report import AttestationReport, TcbVersion

NOT_REQUESTED = SignatureCheck(
    SignatureStatus.NOT_VERIFIED, "not requested (run the campaign with --verify-signature)"
)
_NO_REPORT = SignatureCheck(SignatureStatus.NOT_APPLICABLE, "no report")
#: The guest statuses that show a baseline guest had no usable SNP report interface.
_NO_SNP = (GuestStatus.NO_INTERFACE, GuestStatus.REFUSED)


@dataclass(frozen=True)
class RunExpectations:
    """What one run's attestation must show.

    ``measurement`` is the expected launch digest (sev-snp-measure); an SNP
    run without one cannot be attested. ``policy`` and ``vmpl`` are the spec's.
    For a baseline (``snp`` False) only the absence of SNP is judged.
    """

    snp: bool
    nonce: RunNonce
    measurement: bytes | None = None
    policy: int = DEFAULT_POLICY
    vmpl: int = 0


@dataclass(frozen=True)
class _Checks:
    nonce_ok: bool | None = None
    policy_ok: bool | None = None
    vmpl_ok: bool | None = None
    measurement_ok: bool | None = None


def _tcb(value: TcbVersion) -> Tcb:
    return Tcb(
        raw=value.raw,
        bootloader=value.bootloader,
        tee=value.tee,
        snp=value.snp,
        microcode=value.microcode,
        fmc=value.fmc,
    )


def _guest_said(guest: GuestAttestation) -> str:
    detail = f", {guest.detail}" if guest.detail else ""
    return f"guest attestation status {guest.status} ({guest.source}{detail})"


def _check_report(
    expected: RunExpectations, report: AttestationReport, reasons: list[str]
) -> _Checks:
    verdict = judge(
        report,
        Expectations(
            nonce=expected.nonce.value,
            measurement=expected.measurement or b"",
            policy=expected.policy,
            vmpl=expected.vmpl,
        ),
    )
    failed = {c.name for c in verdict.failures}
    for check in verdict.failures:
        if check.name != "measurement" or expected.measurement is not None:
            reasons.append(check.reason)
    return _Checks(
        nonce_ok="report_data" not in failed,
        policy_ok="policy" not in failed,
        vmpl_ok="vmpl" not in failed,
        measurement_ok=expected.measurement is not None and "measurement" not in failed,
    )


def judge_run(
    expected: RunExpectations,
    guest: GuestAttestation,
    signature: SignatureCheck = NOT_REQUESTED,
) -> AttestationRecord:
    """The record of one run: its status, the reasons, and what the report showed.

    ``signature`` is the outcome of
    :func:`snpappliance.attestation.signature.verify_signature` when the
    campaign checks signatures; a FAILED one makes the run invalid.
    """
    reasons: list[str] = []
    report: AttestationReport | None = None
    if guest.report is not None:
        try:
            report = parse_report(guest.report)
        except ParseError as exc:
            reasons.append(f"malformed report: {exc.message}")
    checks = _Checks()
    if expected.snp:
        if expected.measurement is None:
            reasons.append("no expected launch digest to compare the MEASUREMENT with")
        if report is not None:
            checks = _check_report(expected, report, reasons)
        elif guest.report is None:
            reasons.append(f"missing report: {_guest_said(guest)}")
        status = AttestationStatus.ATTESTED
    else:
        if guest.status is GuestStatus.REPORT:
            reasons.insert(0, "an SNP report where none should be (baseline scenario)")
        elif guest.status not in _NO_SNP:
            reasons.append(f"absence of SNP not shown: {_guest_said(guest)}")
        status = AttestationStatus.NO_SNP
    if report is None:
        signature = _NO_REPORT
    elif signature.status is SignatureStatus.FAILED:
        reasons.append(f"signature check failed: {signature.detail}")
    return AttestationRecord(
        status=AttestationStatus.INVALID if reasons else status,
        reasons=tuple(reasons),
        snp_expected=expected.snp,
        guest_status=guest.status,
        source=guest.source,
        guest_detail=guest.detail,
        nonce=expected.nonce.value.hex(),
        nonce_randomness=expected.nonce.randomness.hex(),
        expected_measurement=(
            expected.measurement.hex() if expected.snp and expected.measurement else None
        ),
        expected_policy=expected.policy if expected.snp else None,
        expected_vmpl=expected.vmpl if expected.snp else None,
        signature=signature,
        report_version=None if report is None else report.version,
        measurement=None if report is None else report.measurement.hex(),
        policy=None if report is None else report.policy.raw,
        vmpl=None if report is None else report.vmpl,
        nonce_ok=checks.nonce_ok,
        measurement_ok=checks.measurement_ok,
        policy_ok=checks.policy_ok,
        vmpl_ok=checks.vmpl_ok,
        chip_id=None if report is None else report.chip_id.hex(),
        current_tcb=None if report is None else _tcb(report.current_tcb),
        reported_tcb=None if report is None else _tcb(report.reported_tcb),
        committed_tcb=None if report is None else _tcb(report.committed_tcb),
        launch_tcb=None if report is None else _tcb(report.launch_tcb),
        firmware=None if report is None else ".".join(map(str, report.current_firmware)),
        report_sha256=None if guest.report is None else hashlib.sha256(guest.report).hexdigest(),
    )
