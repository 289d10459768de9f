"""``snpapp doctor --from``: published captures of real hosts, each diagnosed to its cause.

Every capture under tests/fixtures/snp-captures is verbatim output that the
person who hit the case published (sources in that folder's README.md).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance.doctor.capture import MAX_LOG_LINES, read_capture
from snpappliance.doctor.checks import Status
from snpappliance.doctor.collect import bundle_bytes
from snpappliance.doctor.facts import (
    facts_from_sections,
    facts_from_tree,
    parse_cpuinfo,
    parse_sections,
)
from snpappliance.doctor.kernel_log import firmware_status
from snpappliance.doctor.run import evaluate
from snpappliance.errors import InputError

if TYPE_CHECKING:
    from snpappliance.doctor.report import DoctorReport
    from tests.conftest import SnpappRunner

CAPTURES = Path(__file__).parents[1] / "fixtures" / "snp-captures"
SNP_HOST = Path(__file__).parents[1] / "fixtures" / "snp-host"


def _report(name: str) -> DoctorReport:
    capture = read_capture(CAPTURES / name)
    return evaluate(capture.host, capture.facts)


def _causes(report: DoctorReport) -> list[str]:
    return [d.cause for d in report.diagnosis]


@pytest.mark.parametrize(
    ("capture", "causes"),
    [
        ("amdsev-88-iommu-pt", ["iommu-passthrough"]),
        ("amdsev-113-iommu-5.19", ["iommu-passthrough", "firmware-too-old", "no-snp-asids"]),
        ("amdsev-184-psp-timeout", ["psp-timeout", "snp-init-failed", "sev-init-failed"]),
        ("amdsev-197-rmp-not-reserved", ["rmp-not-reserved"]),
        ("amdsev-81-firmware-0.31", ["firmware-too-old", "sev-init-failed"]),
        ("amdsev-140-firmware-1.49", ["firmware-too-old", "sev-init-failed"]),
        ("amdsev-189-snp-init-milan", ["snp-init-failed", "sev-init-failed"]),
        ("amdsev-82-init-0x13", ["snp-init-failed", "sev-init-failed"]),
        ("amdsev-202-sev-init-0xe", ["sev-init-failed"]),
        ("amdsev-154-nosmt", ["snp-init-failed", "sev-init-failed", "smt-disabled"]),
        ("amdsev-226-rmp-coverage", ["snp-disabled-in-msr"]),
        ("amdsev-238-msr-unreadable", ["msr-unreadable"]),
        ("amdsev-137-no-snp-asids", ["no-snp-asids"]),
        ("amdsev-271-msr-broken-bios", ["snp-disabled-in-msr"]),
        ("snp-guest", ["snp-guest-not-host"]),
    ],
)
def test_each_published_failure_is_diagnosed_to_its_cause(capture: str, causes: list[str]) -> None:
    report = _report(capture)
    assert _causes(report) == causes
    assert all(d.evidence and d.fix for d in report.diagnosis)
    assert report.verdict is not True


def test_failure_lines_in_every_wording_decode_the_firmware_status() -> None:
    evidence = {d.cause: d.evidence for d in _report("amdsev-189-snp-init-milan").diagnosis}
    assert evidence["snp-init-failed"].endswith("error 0x3 → firmware status 0x3 (INVALID_CONFIG)")
    odd_spacing = {d.cause: d.evidence for d in _report("amdsev-82-init-0x13").diagnosis}
    assert "0x13 (HWERROR_PLATFORM)" in odd_spacing["snp-init-failed"]
    timeout = {d.cause: d.evidence for d in _report("amdsev-184-psp-timeout").diagnosis}
    assert timeout["psp-timeout"].endswith("sev command 0x85 timed out, disabling PSP")
    assert "never completed: rc -110" in timeout["snp-init-failed"]
    assert "no answer" in timeout["sev-init-failed"]
    assert firmware_status("0xe") == "0xe (WBINVD_REQUIRED)"
    assert firmware_status("0x7f") == "0x7f"


def test_pasted_markdown_and_command_lines_are_read_through() -> None:
    report = _report("amdsev-88-iommu-pt")
    (cause,) = report.diagnosis
    # The poster wrapped the line in **…**; the evidence is the kernel's line.
    assert cause.evidence.startswith("[    0.500541] AMD-Vi: SEV-SNP: IOMMU is either disabled")
    assert "kernel command line has iommu=pt" in cause.evidence
    assert report.check("iommu").status is Status.FAIL


def test_kvm_amd_parameters_pasted_as_cat_output() -> None:
    report = _report("amdsev-113-iommu-5.19")
    assert report.check("kvm_params").evidence == "sev=Y, sev_es=N, sev_snp=N"
    assert report.check("kvm_params").status is Status.FAIL
    assert read_capture(CAPTURES / "amdsev-113-iommu-5.19").facts.kernel.startswith("5.19.0-rc6")


@pytest.mark.parametrize(
    "capture", ["amdsev-253-working-6.11", "amdsev-287-working-6.16", "amdsev-159-working-6.1"]
)
def test_published_working_hosts_have_no_cause(capture: str) -> None:
    report = _report(capture)
    assert report.diagnosis == ()
    assert report.check("kernel_log").status is Status.PASS
    assert report.check("firmware").status is Status.PASS
    # A kernel log alone does not show /dev/sev: not proven ready, and not failed.
    assert report.verdict is None


def test_all_pass_from_sevctl_ok_is_not_readiness() -> None:
    report = _report("amdsev-271-ok-passes")
    assert report.check("ok_tool").status is Status.PASS
    assert report.check("devices").status is Status.PASS
    assert report.check("kernel_log").status is Status.UNKNOWN
    assert report.verdict is None
    assert json.loads(report.to_json())["ok"] is None


def test_ok_passing_host_whose_kernel_never_initialised_snp_is_not_ready(tmp_path: Path) -> None:
    # AMDSEV#271's all-PASS `sevctl ok` next to a kernel log without any SNP
    # initialisation line: AMDSEV#202's (Genoa) capture, where SEV INIT failed.
    (tmp_path / "ok.txt").write_bytes(
        (CAPTURES / "amdsev-271-ok-passes/sevctl-ok.txt").read_bytes()
    )
    (tmp_path / "log.txt").write_bytes(
        (CAPTURES / "amdsev-202-sev-init-0xe/dmesg.txt").read_bytes()
    )
    capture = read_capture(tmp_path)
    report = evaluate(capture.host, capture.facts)
    assert report.verdict is False
    assert "sev-init-failed" in _causes(report)


def test_the_snphost_msr_capture_says_to_load_the_msr_module() -> None:
    report = _report("amdsev-238-msr-unreadable")
    (cause,) = report.diagnosis
    assert cause.evidence == "[ FAIL ] SME: MSR read failed: Error Reading MSR"
    assert "modprobe msr" in cause.fix


def test_cpuid_dump_is_decoded_like_snphost() -> None:
    report = _report("amdsev-197-rmp-not-reserved")
    check = report.check("cpuid")
    assert check.status is Status.PASS
    assert check.evidence == (
        "C-bit 51, physical address reduction 4, 4 VMPLs, 253 encrypted guests, "
        "minimum SEV-only ASID 15"
    )


def test_one_directory_mixes_files_in_any_order() -> None:
    capture = read_capture(CAPTURES / "amdsev-154-nosmt")
    assert capture.files == 2
    report = evaluate(capture.host, capture.facts)
    smt = next(d for d in report.diagnosis if d.cause == "smt-disabled")
    assert smt.evidence == "[    0.000000] SMT: Force disabled"
    assert "nosmt" in smt.fix


def test_a_collect_bundle_reads_back_to_the_same_facts(tmp_path: Path) -> None:
    gathered = (
        "\n@@snpapp cpuinfo\nvendor_id\t: AuthenticAMD\n@@snpapp kernel_log\n"
        + (CAPTURES / "amdsev-287-working-6.16/dmesg.txt").read_text()
        + "@@snpapp kvm_amd\nsev=Y\nsev_es=Y\nsev_snp=Y\n@@snpapp msr\n"
        "@@unreadable no /dev/cpu/0/msr (msr module not loaded: modprobe msr)\n@@snpapp end\n"
    )
    bundle = tmp_path / "h.tar.gz"
    bundle.write_bytes(bundle_bytes("genoa01", gathered))
    capture = read_capture(bundle)
    assert capture.host == "genoa01"
    assert capture.facts == facts_from_sections(parse_sections(gathered))
    assert capture.facts.msr_problem.startswith("no /dev/cpu/0/msr")


def test_empty_file_gives_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="no SEV/SNP host output recognised"):
        read_capture(tmp_path / "empty.txt")


def test_binary_junk_is_skipped_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "junk.bin").write_bytes(os.urandom(1 << 16) + b"\x00")
    (tmp_path / "zeros").write_bytes(bytes(4096))
    with pytest.raises(InputError, match="binary") as caught:
        read_capture(tmp_path)
    assert caught.value.hint is not None
    assert "--collect" in caught.value.hint


def test_directory_of_unrelated_files_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Shopping\n- apples\n- pears\n")
    (tmp_path / "data.json").write_text('{"a": 1}')
    with pytest.raises(InputError, match="2 file"):
        read_capture(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        read_capture(tmp_path / "nope")


def test_a_corrupt_gzip_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "x.tar.gz").write_bytes(gzip.compress(b"not a tar")[:20])
    with pytest.raises(InputError):
        read_capture(tmp_path / "x.tar.gz")


def test_kept_log_lines_are_bounded_and_long_lines_cut(tmp_path: Path) -> None:
    big = tmp_path / "many.log"
    failing = (CAPTURES / "amdsev-189-snp-init-milan/dmesg.txt").read_bytes()
    with big.open("wb") as out:
        out.write(failing)
        out.write(b"x" * 10_000_000 + b"\n")  # one 10 MB line without SEV in it
        out.write(b"[   11.717785] ccp 0000:42:00.1: SEV API:1.55 build:7\n" * (MAX_LOG_LINES + 10))
    capture = read_capture(big)
    assert capture.facts.kernel_log is not None
    assert len(capture.facts.kernel_log) == MAX_LOG_LINES
    assert "snp-init-failed" in _causes(evaluate(capture.host, capture.facts))


def test_cli_from_prints_json_and_exits_12_when_not_ready(snpapp: SnpappRunner) -> None:
    code, out, err = snpapp("doctor", "--from", str(CAPTURES / "amdsev-88-iommu-pt"), "--json")
    assert code == 12, err
    data = json.loads(out)
    assert data["ok"] is False
    assert [d["cause"] for d in data["diagnosis"]] == ["iommu-passthrough"]
    assert {c["status"] for c in data["checks"]} <= {"pass", "warn", "fail", "unknown"}
    code, out, err = snpapp("doctor", "--from", str(CAPTURES / "amdsev-253-working-6.11"))
    assert code == 0, err
    assert "readiness unproven" in out
    code, out, err = snpapp("doctor", "--from", str(CAPTURES / "amdsev-197-rmp-not-reserved"))
    assert code == 12
    assert out.index("rmp-not-reserved") < out.index("SEV-SNP preflight of")


def test_cli_from_on_nothing_recognisable_is_a_clear_error(
    snpapp: SnpappRunner, tmp_path: Path
) -> None:
    (tmp_path / "empty").write_text("")
    code, out, err = snpapp("doctor", "--from", str(tmp_path / "empty"))
    assert code == 4
    assert "no SEV/SNP host output recognised" in err
    assert "Traceback" not in err + out


def test_tcb_block_is_parsed_for_the_security_floor() -> None:
    capture = read_capture(CAPTURES / "amdsev-282-tcb")
    assert capture.facts.tcb_snp_svn == 25
    report = evaluate(capture.host, capture.facts)
    assert report.diagnosis == ()
    # No CPU in that capture: the floor for its generation is unknown, not failed.
    assert report.check("security_floor").status is Status.UNKNOWN
    assert "1.55 build 31" in report.check("security_floor").evidence


def test_milan_firmware_below_the_badram_floor_warns() -> None:
    # Joined on purpose, from two Milan hosts: the CPU of the kubevirt Milan 7413
    # capture (tests/fixtures/snp-host/other-cpus) and the log of AMDSEV#189 (EPYC
    # 7443P, SNP firmware 1.55 build 7).
    cpu = parse_cpuinfo((SNP_HOST / "other-cpus/milan-7413/proc/cpuinfo").read_text())
    facts = dataclasses.replace(read_capture(CAPTURES / "amdsev-189-snp-init-milan").facts, cpu=cpu)
    check = evaluate("h", facts).check("security_floor")
    assert check.status is Status.WARN
    assert not check.required
    assert "below 1.55 build 22 (AMD-SB-3015, BadRAM)" in check.evidence
    assert "AMD-SB-3015" in check.hint


def test_genoa_at_the_badram_floor_passes() -> None:
    report = evaluate("h", facts_from_tree(SNP_HOST))
    check = report.check("security_floor")
    assert check.status is Status.PASS
    assert check.evidence == "Genoa, SNP firmware 1.55 build 38"


def test_syscfg_from_a_published_msr_dump_and_rdmsr() -> None:
    broken = _report("amdsev-271-msr-broken-bios")
    (cause,) = broken.diagnosis
    assert cause.cause == "snp-disabled-in-msr"
    assert cause.evidence == "SYSCFG (MSR 0xC0010010) = 0xf40000: SNP_EN (bit 24) clear"
    assert broken.check("syscfg").status is Status.FAIL
    enabled = _report("amdsev-140-firmware-1.49").check("syscfg")
    assert (enabled.status, enabled.evidence) == (Status.PASS, "SYSCFG=0x3fc0000")
