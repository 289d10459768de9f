"""The "Confidentiality evidence" section and the host-state flags in a real PDF.

The campaign directory is assembled here from records the attestation code
produced: the published virtee/sev Milan report (tests/fixtures/attestation)
judged as a run's console carries it, once matching and once against another
launch digest, and a no-SNP record from the guest's attestation step run on
this machine. The result values are synthetic (seeded), not measurements.
"""

from __future__ import annotations

import base64
import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from snpappliance import proc
from snpappliance.attestation.nonce import RunNonce
from snpappliance.attestation.report import parse_report
from snpappliance.campaign.attest import AttestationPlan, judge_console, request_step
from snpappliance.formats.attestation import AttestationRecord, AttestationStatus
from tests.pdftext import pdf_text, squash

if TYPE_CHECKING:
    from tests.conftest import SnpappRunner

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent.parent / "fixtures" / "attestation"
RAW = bytes.fromhex((FIXTURES / "virtee-sev-report_milan.hex").read_text().strip())
REPORT = parse_report(RAW)
NONCE = RunNonce("c", "r", b"", REPORT.report_data)
DIGEST = REPORT.measurement.hex()
PLAN = AttestationPlan(REPORT.measurement, REPORT.policy.raw)
HOST = "genoa1"
CHANGE = "thp.enabled: never → always"


def console(line: str) -> str:
    return f"===SNP-BEGIN id=r src=fw_cfg uptime=1.1===\r\n{line}\r\n===SNP-END id=r rc=0===\r\n"


def snp_record(plan: AttestationPlan) -> AttestationRecord:
    data = base64.b64encode(RAW).decode()
    line = f"SNPGUEST-ATTEST status=report src=sev-guest detail= data={data}"
    return judge_console(console(line), expects_snp=True, nonce=NONCE, plan=plan)


def no_snp_record(tmp: Path) -> AttestationRecord:
    sh = shutil.which("sh")
    assert sh is not None
    (tmp / "step.sh").write_text(request_step(NONCE), encoding="utf-8")
    out = proc.run([sh, str(tmp / "step.sh")]).stdout.strip()
    plan = AttestationPlan(None, 0x30000)
    record = judge_console(console(out), expects_snp=False, nonce=NONCE, plan=plan)
    assert record.status is AttestationStatus.NO_SNP, out
    return record


def assemble(campaign: Path, tmp: Path) -> None:
    """A two-scenario campaign: 4 baseline runs, 4 snp runs (one judged invalid)."""
    campaign.mkdir(parents=True)
    baseline = no_snp_record(tmp)
    good = snp_record(PLAN)
    bad = snp_record(replace(PLAN, measurement=bytes(48)))
    rng = np.random.default_rng(20261204)
    plan_runs: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for index in range(8):
        scenario = "baseline" if index % 2 == 0 else "snp"
        rep = index // 2 + 1
        run_id = f"r{index + 1:04d}-{scenario}-sysbench-cpu-{rep}"
        record = baseline if scenario == "baseline" else (bad if index == 7 else good)
        status = "ok" if record.valid else "invalid"
        plan_runs.append(
            {"run_id": run_id, "index": index + 1, "scenario": scenario,
             "workload": "sysbench-cpu", "rep": rep}
        )  # fmt: skip
        attempts.append(
            {"record": "attempt", "run_id": run_id, "attempt": 1, "status": status,
             "attestation": record.to_json(),
             "host_state": {"load": {"load.avg1": f"{0.25 * (index + 1):.2f}"},
                            "changes": [CHANGE] if index >= 5 else []}}
        )  # fmt: skip
        attempts.append({"record": "run", "run_id": run_id, "status": status, "attempts": 1})
        value = 13677.0 * (0.994 if scenario == "snp" else 1.0) + rng.normal(0.0, 6.0)
        rows.append(
            {"scenario": scenario, "workload": "sysbench-cpu", "metric": "cpu_perf",
             "value": f"{value:.2f}" if status == "ok" else "", "unit": "events/s",
             "rep": rep, "host": HOST, "run_id": run_id, "attempt": 1, "status": status,
             "started_at": ""}
        )  # fmt: skip
    (campaign / "plan.json").write_text(json.dumps({"runs": plan_runs}), encoding="utf-8")
    (campaign / "attempts.jsonl").write_text(
        "".join(json.dumps(a) + "\n" for a in attempts), encoding="utf-8"
    )
    with (campaign / "results.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    info = {
        "campaign_id": campaign.name,
        "baseline": "baseline",
        "attestation": {"expected_measurement": DIGEST, "policy": REPORT.policy.raw,
                        "vmpl": 0, "verify_signature": False},
    }  # fmt: skip
    (campaign / "campaign.json").write_text(json.dumps(info), encoding="utf-8")
    env = {"host": {"kernel": "6.12.0"}, "host_state": {"thp.enabled": "never"}}
    (campaign / "environment.json").write_text(json.dumps(env), encoding="utf-8")


def test_the_evidence_and_the_host_changes_are_in_the_pdf(
    snpapp: SnpappRunner, tmp_path: Path
) -> None:
    campaign = tmp_path / "campaigns" / "20261204-genoa"
    assemble(campaign, tmp_path)
    code, _, err = snpapp("report", str(campaign))
    assert code == 0, err
    text = pdf_text(campaign / "report" / "report.pdf")
    section = text[text.index("3Confidentialityevidence") : text.index("4Setupandmethodology")]
    assert DIGEST in section  # whole, never broken
    assert squash("Expected guest policy 0x30000, VMPL 0.") in section
    assert squash("every report counts as not verified") in section
    # snp: 4 runs, 3 attested, 0 no-SNP, 1 invalid (the wrong digest), 0 verified.
    assert squash(f"snp {HOST} SEV-SNP 4 3 0 1 3 / 4 4 / 4 4 not verified") in section
    assert squash(f"snp on {HOST}: MEASUREMENT mismatch") in section
    assert squash(f"report has {DIGEST[:16]}…, expected {'0' * 16}… (×1)") in section
    assert squash(f"baseline {HOST} no SNP 4 0 4 0 – – 4 without a report") in section
    assert squash("TCBs reported: bl=3 tee=0 snp=8 ucode=115") in section
    flag = f"host {HOST}: thp.enabled never → always, from run r0006-snp-sysbench-cpu-3 on"
    assert squash(flag) in text
    assert squash("baseline median 1.00, max 1.75 (4 runs)") in text
    assert squash("3 committed run(s) ran after a host setting had changed") in text
    with (campaign / "report" / "stats" / "attestation.csv").open(encoding="utf-8") as fh:
        snp = next(r for r in csv.DictReader(fh) if r["scenario"] == "snp")
    assert (snp["attested"], snp["invalid"], snp["signature_verified"]) == ("3", "1", "0")
