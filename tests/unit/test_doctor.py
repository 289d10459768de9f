"""The SEV-SNP preflight checks, on published facts of working hosts and on broken variants."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from snpappliance.doctor.checks import check_cpu, check_firmware, snp_api_version
from snpappliance.doctor.facts import DeployedRelease, HostFacts, parse_cpuinfo, parse_sections
from snpappliance.doctor.run import Status, evaluate, facts_from_tree
from snpappliance.errors import InputError, PreflightError
from snpappliance.formats.release import ReleaseInfo

FIXTURE = Path(__file__).parents[1] / "fixtures" / "snp-host"
SNP_CHECKS = (
    "cpu", "bare_metal", "cpu_flags", "kvm_params", "kernel_log", "firmware", "devices", "iommu",
    "memlock",
)  # fmt: skip


@pytest.fixture
def working() -> HostFacts:
    return facts_from_tree(FIXTURE)


def test_published_working_host_passes_every_snp_check(working: HostFacts) -> None:
    report = evaluate("published", working)
    assert {c.id: c.status for c in report.checks if c.id in SNP_CHECKS} == dict.fromkeys(
        SNP_CHECKS, Status.PASS
    )
    assert report.ok
    assert report.check("cpu").evidence.endswith("(AMD EPYC 9124 16-Core Processor): Genoa")
    assert report.check("firmware").evidence == "SEV-SNP API 1.55"
    assert "SEV-SNP enabled (ASIDs 1 - 99)" in report.check("kernel_log").evidence
    assert all(c.hint == "" for c in report.checks if c.status is Status.PASS)


def test_without_a_release_the_release_checks_only_warn(working: HostFacts) -> None:
    report = evaluate("published", working)
    for id in ("release", "release_parts", "release_qemu", "running_kernel"):
        assert report.check(id).status is Status.WARN
        assert "`snpapp deploy --host published`" in report.check(id).hint


def test_milan_is_snp_capable_but_not_the_validated_genoa() -> None:
    cpu = parse_cpuinfo((FIXTURE / "other-cpus/milan-7413/proc/cpuinfo").read_text())
    assert cpu is not None
    assert (cpu.family, cpu.model) == (25, 1)
    check = check_cpu(HostFacts(cpu=cpu))
    assert check.status is Status.WARN
    assert not check.required
    assert "not a Genoa part" in check.evidence


def _with_log(facts: HostFacts, *extra: str) -> HostFacts:
    return dataclasses.replace(facts, kernel_log=(*(facts.kernel_log or ()), *extra))


@pytest.mark.parametrize(
    ("line", "hint_words"),
    [
        ("ccp 0000:01:00.5: SEV-SNP: failed to INIT rc -5, error 0x3", "update the BIOS"),
        ("AMD-Vi: SNP: IOMMU is disabled or configured in passthrough mode, SNP cannot be "
         "supported", "iommu=pt"),
        ("ccp 0000:01:00.5: SEV-SNP support requires firmware version >= 1:51", "1.51"),
        ("kvm_amd: SEV-SNP requires private memory support via guest_memfd.", "QEMU"),
    ],
)  # fmt: skip
def test_known_failure_lines_fail_with_their_hint(
    working: HostFacts, line: str, hint_words: str
) -> None:
    check = evaluate("h", _with_log(working, line)).check("kernel_log")
    assert check.status is Status.FAIL
    assert check.evidence == line
    assert hint_words in check.hint


def test_old_firmware_fails(working: HostFacts) -> None:
    old = dataclasses.replace(working, kernel_log=("ccp 0000:01:00.5: SEV-SNP API:1.49 build:3",))
    assert snp_api_version(old) == (1, 49)
    check = check_firmware(old)
    assert check.status is Status.FAIL
    assert "1.51" in check.hint


def test_kvm_parameters_off_point_at_the_bios(working: HostFacts) -> None:
    facts = dataclasses.replace(working, kvm_amd={"sev": "Y", "sev_es": "N", "sev_snp": "N"})
    check = evaluate("h", facts).check("kvm_params")
    assert check.status is Status.FAIL
    assert check.evidence == "sev=Y, sev_es=N, sev_snp=N"
    assert "ASID" in check.hint
    unloaded = dataclasses.replace(working, kvm_amd={})
    assert "modprobe kvm_amd sev_snp=1" in evaluate("h", unloaded).check("kvm_params").hint


def test_iommu_passthrough_on_the_command_line_fails(working: HostFacts) -> None:
    facts = dataclasses.replace(working, cmdline=working.cmdline + " iommu=pt")
    check = evaluate("h", facts).check("iommu")
    assert check.status is Status.FAIL
    assert check.evidence == "kernel command line has iommu=pt"


def test_unreadable_kernel_log_warns(working: HostFacts) -> None:
    facts = dataclasses.replace(working, kernel_log=None)
    report = evaluate("h", facts)
    assert report.check("kernel_log").status is Status.WARN
    assert "root" in report.check("kernel_log").hint
    assert report.check("firmware").status is Status.FAIL


def _release(kernel: str | None, sums_exit: int = 0) -> DeployedRelease:
    info = ReleaseInfo(
        name="snp-6.12-abc", stack="snp-6.12", components={"qemu": "d1"}, kernel_release=kernel,
        kernel_packages=("kernel/linux-image.deb",), qemu="qemu/usr/local/bin/qemu-system-x86_64",
        ovmf="ovmf/OVMF.fd", svsm=(),
    )  # fmt: skip
    problems = () if sums_exit == 0 else ("qemu/usr/local/bin/qemu-system-x86_64: FAILED",)
    return DeployedRelease("/opt/snpapp/releases/snp-6.12-abc", info, sums_exit, problems)


def test_release_checks(working: HostFacts) -> None:
    good = dataclasses.replace(working, release=_release(working.kernel))
    report = evaluate("h", good)
    assert [report.check(i).status for i in ("release", "release_parts", "running_kernel")] == [
        Status.PASS, Status.PASS, Status.PASS,
    ]  # fmt: skip
    stale = evaluate("h", dataclasses.replace(working, release=_release("6.12.0-snp-host", 1)))
    assert stale.check("release").status is Status.FAIL
    assert "FAILED" in stale.check("release").evidence
    assert stale.check("running_kernel").status is Status.FAIL
    assert "--reboot" in stale.check("running_kernel").hint
    assert not stale.ok
    assert report.check("release_qemu").status is Status.WARN
    version = "QEMU emulator version 9.1.0"
    qemu_ok = dataclasses.replace(_release(working.kernel), qemu_version=version, qemu_exit=0)
    check = evaluate("h", dataclasses.replace(working, release=qemu_ok)).check("release_qemu")
    assert (check.status, check.evidence) == (Status.PASS, "QEMU emulator version 9.1.0")
    missing_lib = dataclasses.replace(
        qemu_ok, qemu_exit=127, qemu_version="error while loading shared libraries: libslirp.so.0"
    )
    check = evaluate("h", dataclasses.replace(working, release=missing_lib)).check("release_qemu")
    assert check.status is Status.FAIL
    assert "libslirp.so.0" in check.evidence
    assert "ldd" in check.hint
    no_kernel = evaluate("h", dataclasses.replace(working, release=_release(None)))
    assert no_kernel.check("release_parts").evidence == "missing: host kernel"


def test_report_json_and_error(working: HostFacts) -> None:
    broken = dataclasses.replace(working, kvm_amd={})
    report = evaluate("genoa01", broken)
    data = json.loads(report.to_json())
    assert data["host"] == "genoa01"
    assert data["ok"] is False
    assert {c["id"] for c in data["checks"] if c["status"] == "fail"} == {"kvm_params"}
    with pytest.raises(PreflightError) as caught:
        report.raise_for_failures()
    assert "kvm_params" in caught.value.message
    assert caught.value.hint is not None
    assert "modprobe" in caught.value.hint


def test_sections_parser_requires_the_end_marker() -> None:
    text = "\n@@snpapp arch\nx86_64\n@@snpapp kernel\n6.1.0\n@@snpapp end\n"
    assert parse_sections(text) == {"arch": "x86_64", "kernel": "6.1.0", "end": ""}
    with pytest.raises(InputError):
        parse_sections("\n@@snpapp arch\nx86_64\n")
