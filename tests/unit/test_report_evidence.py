"""The report's "Confidentiality evidence" on records the attestation code really produced.

The SNP records judge the real, published virtee/sev Milan report (see
tests/fixtures/attestation/README.md) wrapped in the guest's console line, as a
run's console carries it; a verified one checks its signature with that chip's
published VCEK under AMD's Milan chain. The no-SNP record comes from running
the guest's attestation step here, on a machine without SEV-SNP.
"""

from __future__ import annotations

import base64
import csv
import json
import shutil
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from snpappliance import proc
from snpappliance.attestation.guest import parse_attest_line
from snpappliance.attestation.judge import RunExpectations, judge_run
from snpappliance.attestation.kds import VcekChain, load_cert_chain, load_vcek
from snpappliance.attestation.signature import verify_report
from snpappliance.campaign.attest import AttestationPlan, judge_console, request_step
from snpappliance.formats.attestation import AttestationRecord, AttestationStatus
from snpappliance.report.attempts import FinalAttempt, final_attempts
from snpappliance.report.evidence import (
    collect,
    evidence_rows,
    expectation_lines,
    reason_lines,
    status_line,
    write_evidence_csv,
)
from snpappliance.report.text import DASH
from tests.factories import ATTESTATION_FIXTURES as FIXTURES
from tests.factories import MILAN_NONCE as NONCE
from tests.factories import MILAN_REPORT as REPORT
from tests.factories import MILAN_REPORT_RAW as RAW
from tests.factories import console_around as console

if TYPE_CHECKING:
    from pathlib import Path

SNP_PLAN = AttestationPlan(REPORT.measurement, REPORT.policy.raw)
NO_SNP_PLAN = AttestationPlan(None, 0x30000)
TCB = "bl=3 tee=0 snp=8 ucode=115"


REPORT_CONSOLE = console(
    f"SNPGUEST-ATTEST status=report src=sev-guest detail= data={base64.b64encode(RAW).decode()}"
)


def attested() -> AttestationRecord:
    return judge_console(REPORT_CONSOLE, expects_snp=True, nonce=NONCE, plan=SNP_PLAN)


def verified() -> AttestationRecord:
    ask, ark = load_cert_chain((FIXTURES / "kds-milan-cert_chain.pem").read_bytes())
    vcek = load_vcek((FIXTURES / "virtee-sev-vcek_milan.der").read_bytes())
    check = verify_report(
        REPORT, VcekChain(ark=ark, ask=ask, vcek=vcek, origin="fixtures"), "Milan"
    )
    expected = RunExpectations(
        snp=True, nonce=NONCE, measurement=REPORT.measurement, policy=REPORT.policy.raw
    )
    return judge_run(expected, parse_attest_line(REPORT_CONSOLE), check)


def wrong_measurement() -> AttestationRecord:
    plan = replace(SNP_PLAN, measurement=bytes(48))
    return judge_console(REPORT_CONSOLE, expects_snp=True, nonce=NONCE, plan=plan)


def wrong_policy() -> AttestationRecord:
    plan = replace(SNP_PLAN, policy=REPORT.policy.raw ^ 1)
    return judge_console(REPORT_CONSOLE, expects_snp=True, nonce=NONCE, plan=plan)


@pytest.fixture(scope="module")
def no_snp(tmp_path_factory: pytest.TempPathFactory) -> AttestationRecord:
    """The guest step run for real on this machine, which has no SEV-SNP."""
    sh = shutil.which("sh")
    assert sh is not None
    script = tmp_path_factory.mktemp("step") / "step.sh"
    script.write_text(request_step(NONCE), encoding="utf-8")
    out = proc.run([sh, str(script)]).stdout
    record = judge_console(console(out.strip()), expects_snp=False, nonce=NONCE, plan=NO_SNP_PLAN)
    assert record.status is AttestationStatus.NO_SNP, out
    return record


def final(run: str, scenario: str, record: AttestationRecord | None) -> FinalAttempt:
    data: dict[str, Any] = {"record": "attempt", "run_id": run, "attempt": 1}
    if record is not None:
        data["attestation"] = record.to_json()
    return FinalAttempt(run, scenario, "genoa1", "ok", data)


def test_records_are_what_the_attestation_code_says() -> None:
    assert attested().status is AttestationStatus.ATTESTED
    assert verified().signature.status.value == "verified"
    assert attested().signature.status.value == "not-verified"
    assert wrong_measurement().status is AttestationStatus.INVALID
    assert wrong_policy().status is AttestationStatus.INVALID


def test_snp_runs_are_counted_with_reasons_and_signatures(no_snp: AttestationRecord) -> None:
    runs = [
        final("r1", "snp", attested()),
        final("r2", "snp", verified()),
        final("r3", "snp", wrong_measurement()),
        final("r4", "snp", wrong_measurement()),
        final("r5", "snp", wrong_policy()),
        final("r6", "baseline", no_snp),
    ]
    evidence = collect(runs, None)
    snp, baseline = evidence_rows(evidence)
    assert (snp["runs"], snp["attested"], snp["no_snp"], snp["invalid"]) == ("5", "2", "0", "3")
    # The policy-mismatch run still matched the measurement, and vice versa.
    assert snp["measurement"] == "3 / 5"
    assert snp["policy"] == "4 / 5"
    (reasons,) = reason_lines(evidence)
    assert reasons.startswith("snp on genoa1: ")
    assert "MEASUREMENT mismatch" in reasons
    assert "(×2)" in reasons
    assert "policy" in reasons
    assert REPORT.measurement.hex()[:16] + "…" in reasons  # shortened, never cut elsewhere
    assert REPORT.measurement.hex() not in reasons
    # One signature checked and good; the four unchecked ones are said to be unchecked.
    assert snp["signature"] == "1 verified, 4 not verified"
    assert snp["tcbs"] == TCB
    assert snp["expects"] == "SEV-SNP"
    assert (baseline["runs"], baseline["no_snp"], baseline["invalid"]) == ("1", "1", "0")
    assert baseline["expects"] == "no SNP"
    assert baseline["measurement"] == DASH
    assert "verified" not in baseline["signature"].replace("not verified", "")


def test_final_attempts_are_the_last_attempt_of_committed_runs(tmp_path: Path) -> None:
    records = [
        {"record": "attempt", "run_id": "r0001-snp-cpu-1", "attempt": 1,
         "attestation": wrong_measurement().to_json()},
        {"record": "attempt", "run_id": "r0001-snp-cpu-1", "attempt": 2,
         "attestation": attested().to_json()},
        {"record": "run", "run_id": "r0001-snp-cpu-1", "status": "ok"},
        {"record": "attempt", "run_id": "r0002-snp-cpu-2", "attempt": 1,
         "attestation": wrong_policy().to_json()},
    ]  # fmt: skip
    (tmp_path / "attempts.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    plan = {"runs": [{"run_id": "r0001-snp-cpu-1", "scenario": "snp", "index": 1}]}
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    found = final_attempts(tmp_path, {"r0001-snp-cpu-1": ("snp", "genoa1")})
    assert [(f.run_id, f.scenario, f.host, f.record["attempt"]) for f in found] == [
        ("r0001-snp-cpu-1", "snp", "genoa1", 2)
    ]
    (row,) = evidence_rows(collect(found, None))
    assert (row["attested"], row["invalid"]) == ("1", "0")


def test_a_campaign_from_before_attestation_says_so() -> None:
    evidence = collect([final("r1", "baseline", None), final("r2", "snp", None)], None)
    assert evidence_rows(evidence) == []
    assert status_line(evidence).startswith("No attestation recorded")


def test_runs_without_a_record_among_attested_ones_are_counted() -> None:
    evidence = collect([final("r1", "snp", attested()), final("r2", "snp", None)], None)
    assert "1 committed run(s) have none (no attestation recorded)" in status_line(evidence)


def test_the_expected_digest_or_the_no_snp_note_is_shown() -> None:
    digest = REPORT.measurement.hex()
    snp = {"expected_measurement": digest, "policy": 0x30000, "vmpl": 0,
           "verify_signature": False, "tool": "sev-snp-measure 0.0.12",
           "inputs": {"vcpus": 4, "vcpu_type": "EPYC-v4"}}  # fmt: skip
    lines = expectation_lines(collect([], snp))
    assert lines[0][1] == digest
    assert "sev-snp-measure 0.0.12" in lines[0][0]
    assert ("Expected guest policy 0x30000, VMPL 0.", "") in lines
    assert "not checked" in lines[-1][0]
    note = "no snp scenario: every run must show that no SEV-SNP interface exists"
    none = {"expected_measurement": None, "note": note, "verify_signature": False, "vmpl": 0}
    first, _ = expectation_lines(collect([], none))
    assert first == (f"The campaign expects no SEV-SNP guest: {note}.", "")


def test_attestation_csv(tmp_path: Path, no_snp: AttestationRecord) -> None:
    runs = [
        final("r1", "snp", verified()),
        final("r2", "snp", wrong_measurement()),
        final("r3", "baseline", no_snp),
    ]
    write_evidence_csv(collect(runs, None), tmp_path)
    with (tmp_path / "stats" / "attestation.csv").open(encoding="utf-8", newline="") as fh:
        snp, baseline = csv.DictReader(fh)
    assert snp["runs"] == "2"
    assert snp["signature_verified"] == "1"
    assert snp["signature_not_verified"] == "1"
    assert "MEASUREMENT mismatch" in snp["invalid_reasons"]
    # The mismatching run was judged against another digest: both are listed.
    assert snp["expected_measurement"].split() == [REPORT.measurement.hex(), bytes(48).hex()]
    assert snp["tcbs_seen"] == TCB
    assert (baseline["scenario"], baseline["no_snp"], baseline["invalid"]) == ("baseline", "1", "0")
