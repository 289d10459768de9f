"""``snpapp doctor --from`` on more published captures: Milan and Bergamo hosts, a VM, guest memory.

Every capture is verbatim text that its author published (sources in
tests/fixtures/snp-captures/README.md); each test says what a maintainer
reading the same text would conclude.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance.doctor.capture import read_capture
from snpappliance.doctor.checks import Status
from snpappliance.doctor.run import evaluate

if TYPE_CHECKING:
    from snpappliance.doctor.report import DoctorReport

CAPTURES = Path(__file__).parents[1] / "fixtures" / "snp-captures"


def _report(name: str) -> DoctorReport:
    capture = read_capture(CAPTURES / name)
    return evaluate(capture.host, capture.facts)


def _causes(report: DoctorReport) -> list[str]:
    return [d.cause for d in report.diagnosis]


def test_a_milan_host_in_the_5_14_wording_initialised_snp() -> None:
    # AMDSEV#97: Milan (its SEV firmware is amd_sev_fam19h_model0xh), 5.14 snp-host kernel.
    report = _report("amdsev-97-working-milan-5.14")
    assert report.diagnosis == ()
    assert report.check("kernel_log").status is Status.PASS
    assert "SEV-ES and SEV-SNP supported: 99 ASIDs" in report.check("kernel_log").evidence
    assert report.check("firmware").status is Status.PASS
    assert "1.51" in report.check("firmware").evidence
    # The systemd line that merely contains "sev" (mongoosev3) is no SEV fact.
    assert report.verdict is None


def test_bergamo_cpuinfo_without_flags_is_an_snp_cpu_and_its_flags_are_unknown() -> None:
    # LKML (Brauner, 2024-10-05): the first five lines of a bare-metal EPYC 9754's cpuinfo.
    report = _report("lkml-bergamo-9754")
    cpu = report.check("cpu")
    assert cpu.status is Status.PASS
    assert cpu.evidence.startswith("AuthenticAMD family 25 model 160")
    assert "Bergamo/Siena" in cpu.evidence
    # No flags line was pasted: the flags are not known to be missing.
    assert report.check("cpu_flags").status is Status.UNKNOWN
    assert report.check("bare_metal").status is Status.UNKNOWN
    assert report.diagnosis == ()
    assert report.verdict is None


def test_a_bergamo_cloud_vm_is_a_virtual_machine_not_a_foreign_cpu() -> None:
    # ORNL Research Cloud instance on an EPYC 9754: `hypervisor` set, no sev flags.
    report = _report("orc-bergamo-vm")
    assert report.check("cpu").status is Status.PASS
    assert "Bergamo/Siena" in report.check("cpu").evidence
    assert report.check("bare_metal").status is Status.FAIL
    assert report.check("cpu_flags").status is Status.FAIL
    assert _causes(report) == ["virtual-machine"]
    assert report.verdict is False


def test_the_restricted_memory_line_is_a_qemu_kernel_mismatch() -> None:
    # AMDSEV#166: the 2023 SNP host kernel refused an SNP guest that QEMU started
    # without the private-memory backend; the poster's fix was the QEMU option.
    report = _report("amdsev-166-restricted-memory")
    (cause,) = report.diagnosis
    assert cause.cause == "guest-memfd-mismatch"
    assert cause.evidence == "[   47.614768] kvm_amd: SEV-SNP requires restricted memory."
    assert "memory-backend-memfd-private" in cause.fix
    assert report.verdict is False


def test_sev_up_without_any_snp_line_is_not_ready() -> None:
    # libkrun#100: Milan 7313P host, "sevctl is happy (everything is PASS)", SEV API 1.52,
    # and no SNP line in the kernel log: SNP never came up, and doctor says so.
    report = _report("libkrun-100-no-snp-init")
    assert _causes(report) == ["no-snp-evidence"]
    assert report.check("firmware").status is Status.PASS
    assert report.verdict is False


def test_a_milan_7453_host_on_6_11_runs_snp() -> None:
    # AMDSEV#271 (RARelph): 2x EPYC 7453, SEV firmware 1.55.31 in the BIOS, SNP guests running.
    report = _report("amdsev-271-working-milan-7453")
    assert report.diagnosis == ()
    assert report.check("kernel_log").status is Status.PASS
    assert "SEV-SNP enabled (ASIDs 1 - 254)" in report.check("kernel_log").evidence
    assert report.check("firmware").status is Status.PASS
    # Without the host's cpuinfo the generation, and so its security floor, is unknown.
    assert report.check("security_floor").status is Status.UNKNOWN
    assert "1.55 build 31" in report.check("security_floor").evidence
    assert report.verdict is None


def test_turin_lscpu_is_read_like_cpuinfo_and_shows_sev_off_in_the_bios() -> None:
    # vllm-project/vllm#48453: `lscpu` of a bare-metal 2x EPYC 9575F (family 0x1a) host
    # whose flags carry no sme/sev/sev_es/sev_snp: SEV is not enabled in its BIOS.
    capture = read_capture(CAPTURES / "vllm-48453-turin-lscpu")
    assert capture.facts.cpu is not None
    assert (capture.facts.cpu.family, capture.facts.cpu.model) == (26, 2)
    report = evaluate(capture.host, capture.facts)
    assert report.check("cpu").status is Status.PASS
    assert "Turin" in report.check("cpu").evidence
    assert report.check("bare_metal").status is Status.PASS
    assert report.check("cpu_flags").status is Status.FAIL
    assert report.check("cpu_flags").evidence == "missing: sev sev_es sev_snp"
    assert _causes(report) == ["snp-cpuid-missing"]
    assert report.verdict is False
