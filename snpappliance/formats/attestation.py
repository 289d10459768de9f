"""What one run's attestation proved, as stored beside its logs, and the per-scenario summary.

The campaign writes one :class:`AttestationRecord` per run (``attestation.json``
in the run's log directory, see :func:`write_record`); the report reads them back
with :func:`read_record` and condenses them with :func:`summarise_evidence` into
the "Confidentiality evidence" section. Standard library only: the report may
import this module and nothing of ``snpappliance.attestation``.

A run is ``attested`` when an SNP scenario's guest returned a report whose
REPORT_DATA, policy, VMPL and MEASUREMENT match what the run expected (and whose
signature, when checked, verified); ``no-snp`` when a baseline guest showed no
SNP report interface (or one that refused); ``invalid`` otherwise, with reasons.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from snpappliance.errors import InputError
from snpappliance.fsutil import atomic_write_text

if TYPE_CHECKING:
    from pathlib import Path

#: The record's file name in a run's log directory.
ATTESTATION_FILE = "attestation.json"
#: Bumped when a field changes meaning; readers refuse versions they do not know.
RECORD_VERSION = 1
_HINT = "attestation.json is written by `snpapp campaign`; re-run the run to recreate it."


class AttestationStatus(StrEnum):
    """What a run's attestation step proved."""

    #: An SNP report matched the run's nonce, policy, VMPL and launch digest.
    ATTESTED = "attested"
    #: A baseline guest had no SNP report interface, or one that refused.
    NO_SNP = "no-snp"
    #: Anything else; the run does not count, see the reasons.
    INVALID = "invalid"


class GuestStatus(StrEnum):
    """What the guest's attestation step printed (``SNPGUEST-ATTEST status=…``)."""

    REPORT = "report"
    NO_INTERFACE = "no-interface"
    REFUSED = "refused"
    ERROR = "error"
    #: Not printed by the guest: its console had no SNPGUEST-ATTEST line.
    MISSING = "missing"


class SignatureStatus(StrEnum):
    """Whether the report's signature was checked against AMD's certificate chain."""

    #: ARK self-signed, ASK by ARK, VCEK by ASK, report by VCEK: all verified.
    VERIFIED = "verified"
    #: Not checked: not requested, offline, or no certificate for this report.
    NOT_VERIFIED = "not-verified"
    #: Checked and wrong: the run is invalid.
    FAILED = "failed"
    #: There is no report to check.
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of a signature check and why (a URL that failed, a certificate)."""

    status: SignatureStatus
    detail: str


@dataclass(frozen=True)
class Tcb:
    """A TCB_VERSION's security version numbers (``fmc`` on Turin only)."""

    raw: int
    bootloader: int
    tee: int
    snp: int
    microcode: int
    fmc: int | None = None

    @property
    def label(self) -> str:
        """Short text such as ``bl=3 tee=0 snp=8 ucode=115``."""
        fmc = f"fmc={self.fmc} " if self.fmc is not None else ""
        return f"{fmc}bl={self.bootloader} tee={self.tee} snp={self.snp} ucode={self.microcode}"

    def to_json(self) -> dict[str, Any]:
        return {
            "raw": f"{self.raw:#018x}",
            "bootloader": self.bootloader,
            "tee": self.tee,
            "snp": self.snp,
            "microcode": self.microcode,
            "fmc": self.fmc,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tcb:
        return cls(
            raw=int(data["raw"], 16),
            bootloader=int(data["bootloader"]),
            tee=int(data["tee"]),
            snp=int(data["snp"]),
            microcode=int(data["microcode"]),
            fmc=None if data.get("fmc") is None else int(data["fmc"]),
        )


@dataclass(frozen=True)
class AttestationRecord:
    """What one run's attestation proved; hex strings for byte fields."""

    status: AttestationStatus
    #: Why the run is invalid (empty unless status is INVALID).
    reasons: tuple[str, ...]
    #: Whether the scenario expects an SNP guest (False for the baseline).
    snp_expected: bool
    guest_status: GuestStatus
    #: The interface the guest used: configfs-tsm, sev-guest or none.
    source: str
    #: The guest's own detail text ("" when it gave none).
    guest_detail: str
    #: The run's REPORT_DATA and the fresh random part it was derived from.
    nonce: str
    nonce_randomness: str
    expected_measurement: str | None
    expected_policy: int | None
    expected_vmpl: int | None
    signature: SignatureCheck
    #: The fields below come from the report and are None without one.
    report_version: int | None = None
    measurement: str | None = None
    policy: int | None = None
    vmpl: int | None = None
    nonce_ok: bool | None = None
    measurement_ok: bool | None = None
    policy_ok: bool | None = None
    vmpl_ok: bool | None = None
    chip_id: str | None = None
    current_tcb: Tcb | None = None
    reported_tcb: Tcb | None = None
    committed_tcb: Tcb | None = None
    launch_tcb: Tcb | None = None
    #: Firmware version "major.minor.build" the report states.
    firmware: str | None = None
    report_sha256: str | None = None

    @property
    def valid(self) -> bool:
        return self.status is not AttestationStatus.INVALID

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def to_json(self) -> dict[str, Any]:
        def tcb(value: Tcb | None) -> dict[str, Any] | None:
            return None if value is None else value.to_json()

        return {
            "version": RECORD_VERSION,
            "status": self.status.value,
            "reasons": list(self.reasons),
            "snp_expected": self.snp_expected,
            "guest_status": self.guest_status.value,
            "source": self.source,
            "guest_detail": self.guest_detail,
            "nonce": self.nonce,
            "nonce_randomness": self.nonce_randomness,
            "expected_measurement": self.expected_measurement,
            "expected_policy": self.expected_policy,
            "expected_vmpl": self.expected_vmpl,
            "signature": {"status": self.signature.status.value, "detail": self.signature.detail},
            "report_version": self.report_version,
            "measurement": self.measurement,
            "policy": self.policy,
            "vmpl": self.vmpl,
            "nonce_ok": self.nonce_ok,
            "measurement_ok": self.measurement_ok,
            "policy_ok": self.policy_ok,
            "vmpl_ok": self.vmpl_ok,
            "chip_id": self.chip_id,
            "current_tcb": tcb(self.current_tcb),
            "reported_tcb": tcb(self.reported_tcb),
            "committed_tcb": tcb(self.committed_tcb),
            "launch_tcb": tcb(self.launch_tcb),
            "firmware": self.firmware,
            "report_sha256": self.report_sha256,
        }

    @classmethod
    def from_json(cls, data: object, where: str = "attestation record") -> AttestationRecord:
        """Read a record written by :meth:`to_json`; InputError when it is not one."""
        if not isinstance(data, Mapping):
            msg = f"{where}: not an attestation record (a JSON object was expected)"
            raise InputError(msg, hint=_HINT)
        version = data.get("version")
        if version != RECORD_VERSION:
            msg = f"{where}: attestation record version {version!r}, expected {RECORD_VERSION}"
            raise InputError(msg, hint=_HINT)

        def tcb(key: str) -> Tcb | None:
            value = data.get(key)
            return None if value is None else Tcb.from_json(value)

        def optional_int(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else int(value)

        try:
            signature = data["signature"]
            return cls(
                status=AttestationStatus(data["status"]),
                reasons=tuple(str(r) for r in data["reasons"]),
                snp_expected=bool(data["snp_expected"]),
                guest_status=GuestStatus(data["guest_status"]),
                source=str(data["source"]),
                guest_detail=str(data["guest_detail"]),
                nonce=str(data["nonce"]),
                nonce_randomness=str(data["nonce_randomness"]),
                expected_measurement=data.get("expected_measurement"),
                expected_policy=optional_int("expected_policy"),
                expected_vmpl=optional_int("expected_vmpl"),
                signature=SignatureCheck(
                    SignatureStatus(signature["status"]), str(signature["detail"])
                ),
                report_version=optional_int("report_version"),
                measurement=data.get("measurement"),
                policy=optional_int("policy"),
                vmpl=optional_int("vmpl"),
                nonce_ok=data.get("nonce_ok"),
                measurement_ok=data.get("measurement_ok"),
                policy_ok=data.get("policy_ok"),
                vmpl_ok=data.get("vmpl_ok"),
                chip_id=data.get("chip_id"),
                current_tcb=tcb("current_tcb"),
                reported_tcb=tcb("reported_tcb"),
                committed_tcb=tcb("committed_tcb"),
                launch_tcb=tcb("launch_tcb"),
                firmware=data.get("firmware"),
                report_sha256=data.get("report_sha256"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = f"{where}: malformed attestation record ({type(exc).__name__}: {exc})"
            raise InputError(msg, hint=_HINT) from exc


def write_record(path: Path, record: AttestationRecord) -> None:
    """Write ``record`` to ``path`` atomically (pretty JSON)."""
    text = json.dumps(record.to_json(), indent=2, sort_keys=True, allow_nan=False) + "\n"
    atomic_write_text(path, text)


def read_record(path: Path) -> AttestationRecord:
    """Read a record written by :func:`write_record`; InputError when unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"cannot read the attestation record {path}: {exc}"
        raise InputError(msg, hint=_HINT) from exc
    return AttestationRecord.from_json(data, str(path))


@dataclass(frozen=True)
class EvidenceSummary:
    """The confidentiality evidence of one scenario on one host."""

    scenario: str
    host: str
    runs: int
    attested: int
    no_snp: int
    invalid: int
    measurement_ok: int
    policy_ok: int
    signature_verified: int
    #: The expected launch digests the runs were judged against (normally one).
    expected_digests: tuple[str, ...]
    #: The distinct reported TCBs, as :attr:`Tcb.label` texts.
    tcbs_seen: tuple[str, ...]


def summarise_evidence(
    entries: Iterable[tuple[str, str, AttestationRecord]],
) -> tuple[EvidenceSummary, ...]:
    """Per (scenario, host), in first-seen order: counts, digests and TCBs of the records."""
    groups: dict[tuple[str, str], list[AttestationRecord]] = {}
    for scenario, host, record in entries:
        groups.setdefault((scenario, host), []).append(record)
    return tuple(_summary(scenario, host, records) for (scenario, host), records in groups.items())


def _summary(scenario: str, host: str, records: list[AttestationRecord]) -> EvidenceSummary:
    def count(predicate: Iterable[bool]) -> int:
        return sum(1 for ok in predicate if ok)

    digests = dict.fromkeys(r.expected_measurement for r in records if r.expected_measurement)
    tcbs = dict.fromkeys(r.reported_tcb.label for r in records if r.reported_tcb is not None)
    return EvidenceSummary(
        scenario=scenario,
        host=host,
        runs=len(records),
        attested=count(r.status is AttestationStatus.ATTESTED for r in records),
        no_snp=count(r.status is AttestationStatus.NO_SNP for r in records),
        invalid=count(r.status is AttestationStatus.INVALID for r in records),
        measurement_ok=count(r.measurement_ok is True for r in records),
        policy_ok=count(r.policy_ok is True for r in records),
        signature_verified=count(r.signature.status is SignatureStatus.VERIFIED for r in records),
        expected_digests=tuple(digests),
        tcbs_seen=tuple(tcbs),
    )
