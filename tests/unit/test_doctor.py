"""The SEV-SNP preflight checks, on published facts of working hosts and on broken variants."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from snpappliance.doctor.checks import check_cpu, check_firmware, snp_api_version
from snpappliance.doctor.diagnosis import diagnose
from snpappliance.doctor.facts import (
    CpuInfo,
    DeployedRelease,
    HostFacts,
    parse_cpuinfo,
    parse_sections,
)
from snpappliance.doctor.run import Status, evaluate, facts_from_tree
from snpappliance.errors import InputError, PreflightError
from snpappliance.formats.release import ReleaseInfo

FIXTURE = Path(__file__).parents[1] / "fixtures" / "snp-host"
SNP_CHECKS = (
    "cpu", "bare_metal", "cpu_flags", "kvm_params", "kernel_log", "firmware", "devices", "iommu",
    "rmp", "memlock",
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
    assert report.verdict is True
    assert report.diagnosis == ()
    assert report.check("cpu").evidence.endswith("(AMD EPYC 9124 16-Core Processor): Genoa")
    assert report.check("firmware").evidence.startswith("SEV firmware 1.55")
    # No MSR/CPUID reads in a published tree: unknown, and optional.
    assert report.check("syscfg").status is Status.UNKNOWN
    assert not report.check("syscfg").required
    assert "SEV-SNP enabled (ASIDs 1 - 99)" in report.check("kernel_log").evidence
    assert all(c.hint == "" for c in report.checks if c.status is Status.PASS)


def test_without_a_release_the_release_checks_only_warn(working: HostFacts) -> None:
    report = evaluate("published", working)
    for id in ("release", "release_parts", "release_qemu", "running_kernel"):
        assert report.check(id).status is Status.WARN
        assert "`snpapp deploy --host published`" in report.check(id).hint


def test_milan_is_an_snp_cpu_with_a_note_that_the_numbers_are_genoas() -> None:
    cpu = parse_cpuinfo((FIXTURE / "other-cpus/milan-7413/proc/cpuinfo").read_text())
    assert cpu is not None
    assert (cpu.family, cpu.model) == (25, 1)
    check = check_cpu(HostFacts(cpu=cpu))
    assert check.status is Status.PASS
    assert "Milan" in check.evidence
    assert "case-study numbers are Genoa's" in check.evidence


@pytest.mark.parametrize(
    ("family", "model", "name", "generation"),
    [
        (0x19, 0x01, "AMD EPYC 7413 24-Core Processor", "Milan"),
        (0x19, 0x11, "AMD EPYC 9124 16-Core Processor", "Genoa"),
        (0x19, 0xA0, "AMD EPYC 9754 128-Core Processor", "Bergamo/Siena"),
        (0x1A, 0x02, "AMD EPYC 9575F 64-Core Processor", "Turin"),
        (0x17, 0x31, "AMD EPYC 7502 32-Core Processor", None),
        (0x19, 0x21, "AMD Ryzen 9 5950X 16-Core Processor", None),
    ],
)
def test_every_snp_epyc_generation_passes_and_others_fail_by_name(
    family: int, model: int, name: str, generation: str | None
) -> None:
    cpu = CpuInfo("AuthenticAMD", family, model, name, frozenset({"sev", "sev_es", "sev_snp"}))
    check = check_cpu(HostFacts(cpu=cpu))
    if generation is None:
        assert check.status is Status.FAIL
        assert name in check.evidence
        assert diagnose(HostFacts(cpu=cpu))[0].cause == "not-amd-epyc"
    else:
        assert check.status is Status.PASS
        assert generation in check.evidence


def _with_log(facts: HostFacts, *extra: str) -> HostFacts:
    return dataclasses.replace(facts, kernel_log=(*(facts.kernel_log or ()), *extra))


@pytest.mark.parametrize(
    ("line", "cause"),
    [
        # AMDESE/AMDSEV#189 (6.5, Milan 7443P), verbatim.
        ("[   11.702131] ccp 0000:42:00.1: SEV-SNP: failed to INIT rc -5, error 0x3",
         "snp-init-failed"),
        # AMDESE/AMDSEV#113 (5.19), verbatim.
        ("[   32.381854] AMD-Vi: SNP: IOMMU is disabled or configured in passthrough mode, SNP "
         "cannot be supported", "iommu-passthrough"),
        # AMDESE/AMDSEV#140, verbatim.
        ("[   19.720420] ccp 0000:47:00.1: SEV-SNP support requires firmware version >= 1:51",
         "firmware-too-old"),
    ],
)  # fmt: skip
def test_a_published_failure_line_fails_a_working_host(
    working: HostFacts, line: str, cause: str
) -> None:
    report = evaluate("h", _with_log(working, line))
    assert report.check("kernel_log").status is Status.FAIL
    assert report.diagnosis[0].cause == cause
    assert report.diagnosis[0].evidence.startswith(line)
    assert report.verdict is False


def test_old_firmware_fails(working: HostFacts) -> None:
    # AMDESE/AMDSEV#113's API line (1.49), verbatim.
    old = dataclasses.replace(
        working, kernel_log=("[   84.094886] ccp 0000:42:00.1: SEV API:1.49 build:3",)
    )
    check = check_firmware(old)
    assert check.status is Status.FAIL
    assert check.evidence == "SEV firmware 1.49 build 3"
    assert "1.51" in check.hint
    assert snp_api_version(working) == (1, 55)


def test_kvm_parameters_off_point_at_the_bios(working: HostFacts) -> None:
    facts = dataclasses.replace(working, kvm_amd={"sev": "Y", "sev_es": "N", "sev_snp": "N"})
    check = evaluate("h", facts).check("kvm_params")
    assert check.status is Status.FAIL
    assert check.evidence == "sev=Y, sev_es=N, sev_snp=N"
    assert "ASID" in check.hint
    unloaded = dataclasses.replace(
        working, kvm_amd=dict.fromkeys(("sev", "sev_es", "sev_snp"), "missing")
    )
    assert "modprobe kvm_amd sev_snp=1" in evaluate("h", unloaded).check("kvm_params").hint


def test_iommu_passthrough_on_the_command_line_fails(working: HostFacts) -> None:
    facts = dataclasses.replace(working, cmdline=working.cmdline + " iommu=pt")
    report = evaluate("h", facts)
    check = report.check("iommu")
    assert check.status is Status.FAIL
    assert check.evidence == "kernel command line has iommu=pt"
    assert [d.cause for d in report.diagnosis] == ["iommu-passthrough"]


def test_unreadable_kernel_log_leaves_readiness_unproven(working: HostFacts) -> None:
    facts = dataclasses.replace(working, kernel_log=None)
    report = evaluate("h", facts)
    assert report.check("kernel_log").status is Status.UNKNOWN
    assert "root" in report.check("kernel_log").hint
    assert report.check("firmware").status is Status.UNKNOWN
    assert report.ok  # nothing failed: the campaign is not refused ...
    assert report.verdict is None  # ... but readiness is not claimed either
    assert json.loads(report.to_json())["ok"] is None


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
    broken = dataclasses.replace(
        working, kvm_amd=dict.fromkeys(("sev", "sev_es", "sev_snp"), "missing")
    )
    report = evaluate("genoa01", broken)
    data = json.loads(report.to_json())
    assert data["host"] == "genoa01"
    assert data["ok"] is False
    assert data["diagnosis"] == []
    assert {c["id"] for c in data["checks"] if c["status"] == "fail"} == {"kvm_params"}
    assert set(data["checks"][0]) == {"id", "title", "status", "required", "evidence", "hint"}
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
