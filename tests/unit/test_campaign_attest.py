"""A campaign's attestation: expected digest, the guest step, and runs made invalid by it.

The reports are real (virtee/sev's published Milan report, see
tests/fixtures/attestation/README.md); the consoles wrap them in the guest's line.
"""

from __future__ import annotations

import base64
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from snpappliance import proc
from snpappliance.attestation.expected import LaunchInputs, expected_digest
from snpappliance.attestation.nonce import RunNonce
from snpappliance.campaign.attest import (
    AttestationPlan,
    expected_launch,
    judge_console,
    request_step,
)
from snpappliance.campaign.console import parse_console
from snpappliance.campaign.guests.cloud.guestssh import guest_script
from snpappliance.campaign.profiles import profile_path
from snpappliance.campaign.qemu import qemu_argv
from snpappliance.campaign.spec import SysbenchCpu, load_spec
from snpappliance.errors import CampaignError
from snpappliance.formats.attestation import AttestationStatus
from snpappliance.hosts.local import LocalHost
from tests.factories import GENOA_SNP_BOOT
from tests.factories import MILAN_NONCE as NONCE
from tests.factories import MILAN_REPORT as REPORT
from tests.factories import MILAN_REPORT_RAW as RAW
from tests.factories import console_around as console

OVMF = Path("/usr/share/ovmf/OVMF.fd")


def report_line(raw: bytes = RAW) -> str:
    data = base64.b64encode(raw).decode()
    return f"SNPGUEST-ATTEST status=report src=sev-guest detail= data={data}"


NO_INTERFACE = "SNPGUEST-ATTEST status=no-interface src=sev-guest detail=no_dev data=-"
SNP_PLAN = AttestationPlan(REPORT.measurement, REPORT.policy.raw)
NO_SNP_PLAN = AttestationPlan(None, 0x30000)


def test_the_attest_line_stays_out_of_the_workload_output() -> None:
    out = parse_console(console(NO_INTERFACE))
    assert out.payload == "workload output\n"


def test_a_baseline_without_snp_is_recorded_as_such() -> None:
    record = judge_console(console(NO_INTERFACE), expects_snp=False, nonce=NONCE, plan=NO_SNP_PLAN)
    assert record.status is AttestationStatus.NO_SNP
    assert record.valid


def test_a_baseline_that_returns_a_report_is_invalid() -> None:
    record = judge_console(console(report_line()), expects_snp=False, nonce=NONCE, plan=SNP_PLAN)
    assert record.status is AttestationStatus.INVALID


def test_an_snp_run_with_the_expected_report_is_attested() -> None:
    record = judge_console(console(report_line()), expects_snp=True, nonce=NONCE, plan=SNP_PLAN)
    assert record.status is AttestationStatus.ATTESTED
    assert record.signature.status.value == "not-verified"


@pytest.mark.parametrize(
    ("nonce", "plan", "reason"),
    [
        (RunNonce("c", "r", b"", bytes(64)), SNP_PLAN, "nonce"),
        (NONCE, replace(SNP_PLAN, policy=REPORT.policy.raw ^ 1), "policy"),
        (NONCE, replace(SNP_PLAN, measurement=bytes(48)), "MEASUREMENT mismatch"),
        (NONCE, NO_SNP_PLAN, "expected launch digest"),
    ],
)
def test_a_mismatching_report_makes_an_snp_run_invalid(
    nonce: RunNonce, plan: AttestationPlan, reason: str
) -> None:
    record = judge_console(console(report_line()), expects_snp=True, nonce=nonce, plan=plan)
    assert record.status is AttestationStatus.INVALID
    assert reason in record.reason


def test_an_snp_run_without_a_report_is_invalid() -> None:
    record = judge_console(console(NO_INTERFACE), expects_snp=True, nonce=NONCE, plan=SNP_PLAN)
    assert record.status is AttestationStatus.INVALID
    assert "missing report" in record.reason


def test_the_guest_step_carries_the_nonce_and_runs_as_root() -> None:
    nonce = RunNonce.fresh("20261204-local", "r0001-a-sysbench-cpu-1")
    step = request_step(nonce)
    assert nonce.value.hex() in step
    assert step.startswith('ROOT=; [ "$(id -u)" = 0 ] || ROOT="sudo -n"\n$ROOT sh -c ')


def test_a_campaign_without_snp_expects_no_digest() -> None:
    spec = load_spec(profile_path("local"))
    record = expected_launch(spec, LocalHost(), str(OVMF))
    assert record["expected_measurement"] is None


def test_the_expected_digest_is_sev_snp_measures_for_the_ovmf_booted() -> None:
    if not OVMF.is_file():
        pytest.skip("Debian's ovmf package is not installed")
    spec = load_spec(profile_path("genoa"))
    record = expected_launch(spec, LocalHost(), str(OVMF), verify_signature=True)
    want = expected_digest(LaunchInputs(OVMF, spec.guest.vcpus, "EPYC-v4"))
    assert record["expected_measurement"] == want.hex
    assert record["inputs"]["vcpu_type"] == "EPYC-v4"
    assert record["verify_signature"] is True
    plan = AttestationPlan.from_info({"attestation": record}, spec)
    assert plan.measurement == want.measurement
    assert plan.verify_signature


def test_an_snp_campaign_needs_a_known_vcpu_type() -> None:
    spec = load_spec(profile_path("genoa"))
    with pytest.raises(CampaignError, match="names no vCPU type") as info:
        expected_launch(replace(spec, guest=replace(spec.guest, cpu=None)), LocalHost(), "x")
    assert info.value.hint is not None
    assert "EPYC-v4" in info.value.hint


def test_the_real_guest_step_finds_no_snp_here(tmp_path: Path) -> None:
    # This machine has no SEV-SNP: the step really runs and says so in one line.
    sh = shutil.which("sh")
    assert sh is not None
    script = tmp_path / "step.sh"
    script.write_text(request_step(NONCE), encoding="utf-8")
    out = proc.run([sh, str(script)]).stdout
    record = judge_console(console(out.strip()), expects_snp=False, nonce=NONCE, plan=NO_SNP_PLAN)
    assert record.status is AttestationStatus.NO_SNP, out


def test_the_step_runs_before_the_workload_begins_in_both_guests() -> None:
    # Minimal guest: /init runs fw_cfg opt/snp/attest before its BEGIN marker.
    cfg = replace(GENOA_SNP_BOOT, attest_file="/w/r1.attest.sh")
    argv = qemu_argv(cfg)
    assert argv[argv.index("name=opt/snp/attest,file=/w/r1.attest.sh") - 1] == "-fw_cfg"
    assert "opt/snp/attest" not in " ".join(qemu_argv(GENOA_SNP_BOOT))
    # Cloud guest: the SSH session's script runs it before printing BEGIN.
    step = request_step(NONCE)
    script = guest_script("r1", SysbenchCpu(), 2, 60, attest_step=step)
    assert script.index(step) < script.index("===SNP-BEGIN")
