"""The "Confidentiality evidence" section: what each committed run's attestation proved.

Every attempt record of a campaign that attests carries its
:class:`~snpappliance.formats.attestation.AttestationRecord`; the report reads
the final attempt of each committed run (:mod:`snpappliance.report.attempts`)
and counts, per scenario and host, the runs that were attested, showed no SNP
(a baseline), or were invalid (with the reasons counted), and how many matched
the measurement and policy and had a verified signature. A signature that was
not checked is counted as "not verified", never as verified.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from snpappliance.errors import InputError
from snpappliance.formats.attestation import (
    AttestationRecord,
    EvidenceSummary,
    SignatureStatus,
    summarise_evidence,
)
from snpappliance.fsutil import atomic_write_text, ensure_writable_dir
from snpappliance.report.text import DASH

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.report.attempts import FinalAttempt

#: ``campaign.json``'s key of what the runs were attested against.
INFO_KEY = "attestation"
CSV_NAME = "attestation.csv"
CSV_COLUMNS = (
    "scenario",
    "host",
    "runs",
    "attested",
    "no_snp",
    "invalid",
    "invalid_reasons",
    "measurement_ok",
    "policy_ok",
    "signature_verified",
    "signature_not_verified",
    "signature_failed",
    "expected_measurement",
    "tcbs_seen",
)
NOT_RECORDED = "no attestation recorded"

Row = dict[str, str]


@dataclass(frozen=True)
class ScenarioEvidence:
    """One scenario on one host: the summary and what the summary does not count."""

    summary: EvidenceSummary
    snp_expected: bool
    reasons: tuple[tuple[str, int], ...]
    signatures: Mapping[SignatureStatus, int]


@dataclass(frozen=True)
class Evidence:
    """The section's content; ``groups`` is empty when nothing was attested."""

    groups: tuple[ScenarioEvidence, ...]
    #: Committed runs whose final attempt carries no attestation record.
    unrecorded: int
    #: What campaign.json says the runs were judged against (None: not recorded).
    expected: Mapping[str, Any] | None
    #: Final attempts whose record could not be read, with why.
    unreadable: tuple[str, ...] = field(default_factory=tuple)


def collect(attempts: Sequence[FinalAttempt], expected: Mapping[str, Any] | None) -> Evidence:
    """The evidence of the final attempts (runs without an attestation record are counted)."""
    entries: list[tuple[str, str, AttestationRecord]] = []
    unreadable: list[str] = []
    unrecorded = 0
    for attempt in attempts:
        data = attempt.record.get("attestation")
        if data is None:
            unrecorded += 1
            continue
        try:
            record = AttestationRecord.from_json(data, f"run {attempt.run_id}")
        except InputError as exc:
            unreadable.append(exc.message)
            continue
        entries.append((attempt.scenario, attempt.host, record))
    groups = []
    for summary in summarise_evidence(entries):
        mine = [r for s, h, r in entries if (s, h) == (summary.scenario, summary.host)]
        reasons = Counter(reason for r in mine for reason in r.reasons)
        groups.append(
            ScenarioEvidence(
                summary=summary,
                snp_expected=any(r.snp_expected for r in mine),
                reasons=tuple(reasons.most_common()),
                signatures=Counter(r.signature.status for r in mine),
            )
        )
    return Evidence(tuple(groups), unrecorded, expected, tuple(unreadable))


#: A hex run this long (a digest, a nonce) is shortened in the PDF's reasons.
_LONG_HEX = re.compile(r"\b([0-9a-f]{16})[0-9a-f]{16,}\b")


def short_hex(text: str) -> str:
    """``text`` with each long hex identifier cut to its first 16 digits and "…"."""
    return _LONG_HEX.sub(lambda m: f"{m.group(1)}…", text)


def reason_lines(evidence: Evidence) -> list[str]:
    """Why runs were invalid, per scenario and host, each reason with its count
    (long digests shortened; stats/attestation.csv has them whole)."""
    lines = []
    for g in evidence.groups:
        if not g.reasons:
            continue
        where = (
            f"{g.summary.scenario} on {g.summary.host}" if g.summary.host else g.summary.scenario
        )
        reasons = "; ".join(f"{short_hex(reason)} (×{n})" for reason, n in g.reasons)
        lines.append(f"{where}: {reasons}")
    return lines


def signature_text(group: ScenarioEvidence) -> str:
    """Verified, not verified and failed checks in words; no report means nothing to check."""
    counts = group.signatures
    parts = [
        f"{counts[status]} {words}"
        for status, words in (
            (SignatureStatus.VERIFIED, "verified"),
            (SignatureStatus.NOT_VERIFIED, "not verified"),
            (SignatureStatus.FAILED, "failed"),
        )
        if counts.get(status)
    ]
    if counts.get(SignatureStatus.NOT_APPLICABLE):
        parts.append(f"{counts[SignatureStatus.NOT_APPLICABLE]} without a report")
    return ", ".join(parts) or DASH


def _of(count: int, group: ScenarioEvidence) -> str:
    return f"{count} / {group.summary.runs}" if group.snp_expected else DASH


def evidence_rows(evidence: Evidence) -> list[Row]:
    """One table row per scenario and host, in first-seen order (reasons: :func:`reason_lines`)."""
    return [
        {
            "scenario": g.summary.scenario,
            "host": g.summary.host or DASH,
            "expects": "SEV-SNP" if g.snp_expected else "no SNP",
            "runs": str(g.summary.runs),
            "attested": str(g.summary.attested),
            "no_snp": str(g.summary.no_snp),
            "invalid": str(g.summary.invalid),
            "measurement": _of(g.summary.measurement_ok, g),
            "policy": _of(g.summary.policy_ok, g),
            "signature": signature_text(g),
            "tcbs": ", ".join(g.summary.tcbs_seen) or DASH,
        }
        for g in evidence.groups
    ]


def expectation_lines(evidence: Evidence) -> list[tuple[str, str]]:
    """What the runs were judged against (campaign.json's ``attestation``), as sentences,
    each with an identifier to show whole after it ('' when it has none)."""
    expected = evidence.expected
    if expected is None:
        return []
    lines = []
    digest = expected.get("expected_measurement")
    if digest:
        how = f", computed with {expected['tool']}" if expected.get("tool") else ""
        inputs = expected.get("inputs")
        if isinstance(inputs, Mapping) and inputs:
            how += " from " + ", ".join(f"{k} {v}" for k, v in inputs.items())
        lines.append((f"Expected launch digest (MEASUREMENT){how}:", str(digest)))
    else:
        note = expected.get("note") or "no expected launch digest was recorded"
        lines.append((f"The campaign expects no SEV-SNP guest: {note}.", ""))
    policy = expected.get("policy")
    if isinstance(policy, int):
        vmpl = expected.get("vmpl", DASH)
        lines.append((f"Expected guest policy {policy:#x}, VMPL {vmpl}.", ""))
    if expected.get("verify_signature"):
        text = (
            "Report signatures were checked against AMD's VCEK chain (--verify-signature); "
            "a run whose chain could not be fetched counts as not verified."
        )
    else:
        text = (
            "Report signatures were not checked (no --verify-signature): every report counts "
            "as not verified."
        )
    lines.append((text, ""))
    return lines


def tcbs_seen(evidence: Evidence) -> list[str]:
    """Every reported TCB of the campaign, in first-seen order."""
    return list(dict.fromkeys(t for g in evidence.groups for t in g.summary.tcbs_seen))


def status_line(evidence: Evidence) -> str:
    """One sentence on what the section can show."""
    if not evidence.groups:
        return f"{NOT_RECORDED.capitalize()}: the campaign's runs carry no attestation records."
    runs = sum(g.summary.runs for g in evidence.groups)
    invalid = sum(g.summary.invalid for g in evidence.groups)
    text = f"{runs} committed run(s) carry an attestation record; {invalid} of them are invalid."
    if evidence.unrecorded:
        text += f" {evidence.unrecorded} committed run(s) have none ({NOT_RECORDED})."
    if evidence.unreadable:
        text += f" {len(evidence.unreadable)} record(s) could not be read: {evidence.unreadable[0]}"
    return text


def write_evidence_csv(evidence: Evidence, out_dir: Path) -> None:
    """``out_dir/stats/attestation.csv``: the section's counts, one row per scenario and host."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for g in evidence.groups:
        s = g.summary
        writer.writerow(
            [
                s.scenario,
                s.host,
                s.runs,
                s.attested,
                s.no_snp,
                s.invalid,
                "; ".join(f"{reason} (x{n})" for reason, n in g.reasons),
                s.measurement_ok,
                s.policy_ok,
                g.signatures.get(SignatureStatus.VERIFIED, 0),
                g.signatures.get(SignatureStatus.NOT_VERIFIED, 0),
                g.signatures.get(SignatureStatus.FAILED, 0),
                " ".join(s.expected_digests),
                "; ".join(s.tcbs_seen),
            ]
        )
    atomic_write_text(ensure_writable_dir(out_dir / "stats") / CSV_NAME, buffer.getvalue())
