"""The SEV-SNP preflight checks: pure functions from :class:`HostFacts` to a :class:`Check`.

Every check states what it saw (``evidence``) and, unless it passed, what to do
(``hint``). The facts and hints follow AMD's SEV-SNP host set-up documentation
(AMDESE/AMDSEV README and issues), the kernel's own log messages and
virtee/snphost's ``ok`` checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from snpappliance.doctor.facts import KVM_PARAMS, HostFacts

GENOA_FAMILY = 0x19
GENOA_MODELS = range(0x10, 0x20)
MIN_SNP_API = (1, 51)
#: Below this memlock limit SEV and SEV-ES guests of the default 2 GiB cannot pin their memory.
MEMLOCK_WARN_KIB = 2 * 1024 * 1024

_SNP_API = re.compile(r"SEV-SNP API:(\d+)\.(\d+)")
_SNP_ENABLED = re.compile(r"SEV-SNP enabled \(ASIDs [^)]*\)")

#: Kernel log lines of a host where SNP did not come up, and what to do about each.
KNOWN_FAILURES: tuple[tuple[str, str], ...] = (
    (
        "SEV-SNP: failed to INIT",
        "the SEV firmware or BIOS is too old or misconfigured: update the BIOS (Genoa's SEV "
        "firmware only updates through the BIOS) and check the SNP BIOS settings",
    ),
    (
        "SEV: failed to INIT",
        "the PSP bootloader or BIOS needs an update: update the BIOS",
    ),
    (
        "SNP: IOMMU is disabled or configured in passthrough mode",
        "remove iommu=pt / amd_iommu=off from the kernel command line and enable the IOMMU "
        "in the BIOS (some boards need IOMMU=auto)",
    ),
    (
        "SEV-SNP support requires firmware version",
        "the SEV firmware is older than 1.51: update the BIOS",
    ),
    (
        "SEV-SNP requires private memory support via guest_memfd",
        "QEMU and the host kernel do not match: deploy the QEMU built with this kernel",
    ),
)

BIOS_HINT = (
    "enable SEV-SNP in the BIOS: CPU Common → SMEE=Enabled, SNP Memory Coverage=Enabled, "
    "SEV-ES ASID space limit > 1 (e.g. 100); NBIO Common → SEV-SNP=Enabled; IOMMU enabled"
)


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """The outcome of one preflight check."""

    id: str
    title: str
    status: Status
    evidence: str
    hint: str = ""
    required: bool = True

    @property
    def blocking(self) -> bool:
        return self.required and self.status is Status.FAIL


def outcome(
    id: str, title: str, status: Status, evidence: str, hint: str = "", required: bool = True
) -> Check:
    return Check(id, title, status, evidence, "" if status is Status.PASS else hint, required)


def check_cpu(facts: HostFacts) -> Check:
    title = "AMD EPYC Genoa CPU (family 0x19, model 0x10–0x1f)"
    cpu = facts.cpu
    if cpu is None:
        return outcome("cpu", title, Status.FAIL, "/proc/cpuinfo unreadable", "check the host")
    seen = f"{cpu.vendor} family {cpu.family} model {cpu.model} ({cpu.model_name})"
    if cpu.vendor != "AuthenticAMD":
        return outcome("cpu", title, Status.FAIL, seen, "SEV-SNP needs an AMD EPYC host")
    if cpu.family == GENOA_FAMILY and cpu.model in GENOA_MODELS:
        return outcome("cpu", title, Status.PASS, f"{seen}: Genoa")
    return outcome(
        "cpu", title, Status.WARN, f"{seen}: not a Genoa part", "results are for another EPYC "
        "generation than the Genoa platform snpapp's stacks are validated on", required=False,
    )  # fmt: skip


def check_bare_metal(facts: HostFacts) -> Check:
    title = "bare metal (not a virtual machine)"
    if facts.cpu is None:
        return outcome("bare_metal", title, Status.WARN, "unknown", "check the host")
    if "hypervisor" in facts.cpu.flags:
        return outcome(
            "bare_metal", title, Status.FAIL, "CPU flag 'hypervisor' is set",
            "SNP guests cannot be nested in a VM: use a bare-metal host",
        )  # fmt: skip
    return outcome("bare_metal", title, Status.PASS, "no 'hypervisor' CPU flag")


def check_cpu_flags(facts: HostFacts) -> Check:
    title = "CPU flags sev, sev_es, sev_snp"
    flags = facts.cpu.flags if facts.cpu else frozenset()
    missing = [f for f in ("sev", "sev_es", "sev_snp") if f not in flags]
    if not missing:
        return outcome("cpu_flags", title, Status.PASS, "sev sev_es sev_snp present")
    return outcome("cpu_flags", title, Status.FAIL, f"missing: {' '.join(missing)}", BIOS_HINT)


def check_kvm_params(facts: HostFacts) -> Check:
    title = "kvm_amd parameters sev, sev_es, sev_snp = Y"
    values = {p: facts.kvm_amd.get(p, "missing") for p in KVM_PARAMS}
    evidence = ", ".join(f"{p}={v}" for p, v in values.items())
    if all(v in ("Y", "1") for v in values.values()):
        return outcome("kvm_params", title, Status.PASS, evidence)
    if all(v == "missing" for v in values.values()):
        hint = "load the module with SNP on: `modprobe kvm_amd sev_snp=1` (snpapp deploy sets it)"
    else:
        hint = (
            "SNP did not initialise: check the kernel log lines below; sev_es/sev_snp = N "
            "usually means the BIOS SEV-ES ASID limit is too low. " + BIOS_HINT
        )
    return outcome("kvm_params", title, Status.FAIL, evidence, hint)


def check_kernel_log(facts: HostFacts) -> Check:
    title = "kernel log shows SEV-SNP initialised"
    if facts.kernel_log is None:
        return outcome(
            "kernel_log", title, Status.WARN, "kernel log not readable",
            "run doctor as root (or a user allowed to read dmesg) to see the SNP lines",
            required=False,
        )  # fmt: skip
    failures = [
        (line.strip(), hint)
        for line in facts.kernel_log
        for needle, hint in KNOWN_FAILURES
        if needle in line
    ]
    if failures:
        line, hint = failures[0]
        return outcome("kernel_log", title, Status.FAIL, line, hint)
    api = next((ln.strip() for ln in facts.kernel_log if _SNP_API.search(ln)), None)
    enabled = next((ln.strip() for ln in facts.kernel_log if _SNP_ENABLED.search(ln)), None)
    if api and enabled:
        return outcome("kernel_log", title, Status.PASS, f"{api} | {enabled}")
    missing = [n for n, v in (("SEV-SNP API:", api), ("SEV-SNP enabled (ASIDs", enabled)) if not v]
    return outcome(
        "kernel_log", title, Status.FAIL, f"no line with {' or '.join(missing)}",
        "the host kernel did not bring up SNP: boot the deployed SNP host kernel "
        "(snpapp deploy --reboot) with kvm_amd sev_snp=1. " + BIOS_HINT,
    )  # fmt: skip


def snp_api_version(facts: HostFacts) -> tuple[int, int] | None:
    for line in facts.kernel_log or ():
        match = _SNP_API.search(line)
        if match:
            return int(match.group(1)), int(match.group(2))
    return None


def check_firmware(facts: HostFacts) -> Check:
    title = "SNP firmware ≥ 1.51"
    version = snp_api_version(facts)
    if version is None:
        return outcome(
            "firmware", title, Status.FAIL, "no 'SEV-SNP API:' line in the kernel log",
            "the firmware version is unknown because SNP did not initialise; update the BIOS "
            "if it is older than the AGESA release that brings SEV firmware 1.51",
        )  # fmt: skip
    shown = f"SEV-SNP API {version[0]}.{version[1]}"
    if version >= MIN_SNP_API:
        return outcome("firmware", title, Status.PASS, shown)
    hint = "update the BIOS to get SEV firmware ≥ 1.51"
    return outcome("firmware", title, Status.FAIL, shown, hint)


def check_devices(facts: HostFacts) -> Check:
    title = "/dev/sev and /dev/kvm usable"
    problems = []
    for path in ("/dev/sev", "/dev/kvm"):
        dev = facts.devices.get(path)
        if dev is None or not dev.present:
            problems.append(f"{path} missing")
        elif not (dev.readable and dev.writable):
            problems.append(f"{path} not readable and writable")
    if not problems:
        return outcome("devices", title, Status.PASS, "/dev/sev and /dev/kvm read/write")
    return outcome(
        "devices", title, Status.FAIL, "; ".join(problems),
        "/dev/sev comes from the ccp driver (`modprobe ccp`), /dev/kvm from kvm_amd; "
        "run as root or give the campaign user access to both",
    )  # fmt: skip


def check_iommu(facts: HostFacts) -> Check:
    title = "IOMMU on and not in passthrough mode"
    args = facts.cmdline.split()
    bad = [a for a in args if a in ("iommu=pt", "amd_iommu=off", "iommu=off")]
    hint = "remove iommu=pt / amd_iommu=off from the kernel command line; enable IOMMU in the BIOS"
    if bad:
        evidence = f"kernel command line has {' '.join(bad)}"
        return outcome("iommu", title, Status.FAIL, evidence, hint)
    log = facts.kernel_log or ()
    if any("IOMMU SNP support enabled" in line for line in log):
        return outcome("iommu", title, Status.PASS, "AMD-Vi: IOMMU SNP support enabled")
    return outcome(
        "iommu", title, Status.WARN, "no 'IOMMU SNP support enabled' line in the kernel log",
        hint, required=False,
    )  # fmt: skip


def check_memlock(facts: HostFacts) -> Check:
    title = "memlock limit"
    kib = facts.memlock_kib
    if kib == -1:
        return outcome("memlock", title, Status.PASS, "unlimited", required=False)
    if kib is None:
        return outcome("memlock", title, Status.WARN, "unknown", "check `ulimit -l`", False)
    shown = f"{kib} KiB"
    if kib >= MEMLOCK_WARN_KIB:
        return outcome("memlock", title, Status.PASS, shown, required=False)
    return outcome(
        "memlock", title, Status.WARN, shown,
        "SEV and SEV-ES guests pin their memory against this limit (SNP guests use "
        "guest_memfd); raise it (`ulimit -l unlimited`, limits.conf) to run them",
        required=False,
    )  # fmt: skip


ALL_SNP_CHECKS: tuple[Callable[[HostFacts], Check], ...] = (
    check_cpu,
    check_bare_metal,
    check_cpu_flags,
    check_kvm_params,
    check_kernel_log,
    check_firmware,
    check_devices,
    check_iommu,
    check_memlock,
)
