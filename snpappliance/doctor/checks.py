"""The SEV-SNP preflight checks: pure functions from :class:`HostFacts` to a :class:`Check`.

Every check states what it saw (``evidence``) and, unless it passed, what to do
(``hint``). A check whose facts were not captured is ``unknown``, never
``fail``. The checks cover virtee/snphost's ``ok`` (CPUID, SYSCFG and RMP MSRs,
ASIDs, /dev/sev, kvm_amd, memlock) and go beyond it: a host is only ready when
its kernel logged SNP initialisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from snpappliance.doctor import kernel_log as kl
from snpappliance.doctor.diagnosis import BIOS, CAUSES, diagnose, snp_initialised
from snpappliance.doctor.facts import KVM_PARAMS, RMP_BASE, RMP_END, SYSCFG, HostFacts
from snpappliance.doctor.generations import generation

if TYPE_CHECKING:
    from collections.abc import Callable

MIN_SNP_API = (1, 51)
#: Below this memlock limit SEV and SEV-ES guests of the default 2 GiB cannot pin their memory.
MEMLOCK_WARN_KIB = 2 * 1024 * 1024
BIOS_HINT = "enable SEV-SNP " + BIOS


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"


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


def _unknown(id: str, title: str, evidence: str, hint: str, required: bool = True) -> Check:
    return outcome(id, title, Status.UNKNOWN, evidence, hint, required)


CAPTURE_HINT = "capture it from the host (`snpapp doctor --collect`)"


def check_cpu(facts: HostFacts) -> Check:
    title = "SNP-capable AMD EPYC (Milan, Genoa, Bergamo/Siena, Turin)"
    cpu = facts.cpu
    if cpu is None:
        return _unknown("cpu", title, "no /proc/cpuinfo", CAPTURE_HINT)
    if not cpu.model_name and cpu.family is None:
        return _unknown("cpu", title, "no CPU model or family in the capture", CAPTURE_HINT)
    seen = f"{cpu.vendor} family {cpu.family} model {cpu.model} ({cpu.model_name})"
    gen = generation(cpu.family, cpu.model, cpu.model_name)
    if gen is None:
        return outcome("cpu", title, Status.FAIL, f"{seen}: not an SNP-capable EPYC",
                       CAUSES["not-amd-epyc"])  # fmt: skip
    if gen.name == "Genoa":
        return outcome("cpu", title, Status.PASS, f"{seen}: Genoa")
    note = f"{seen}: {gen.name} (snpapp's case-study numbers are Genoa's, not {gen.name}'s)"
    return outcome("cpu", title, Status.PASS, note)


def check_bare_metal(facts: HostFacts) -> Check:
    title = "bare metal (not a virtual machine)"
    if facts.cpu is None:
        return _unknown("bare_metal", title, "no /proc/cpuinfo", CAPTURE_HINT)
    if facts.cpu.flags is None:
        return _unknown("bare_metal", title, "no flags line in the /proc/cpuinfo", CAPTURE_HINT)
    if "hypervisor" in facts.cpu.flags:
        return outcome("bare_metal", title, Status.FAIL, "CPU flag 'hypervisor' is set",
                       CAUSES["virtual-machine"])  # fmt: skip
    return outcome("bare_metal", title, Status.PASS, "no 'hypervisor' CPU flag")


def check_cpu_flags(facts: HostFacts) -> Check:
    title = "CPU flags sev, sev_es, sev_snp"
    if facts.cpu is None:
        return _unknown("cpu_flags", title, "no /proc/cpuinfo", CAPTURE_HINT)
    if facts.cpu.flags is None:
        return _unknown("cpu_flags", title, "no flags line in the /proc/cpuinfo", CAPTURE_HINT)
    missing = [f for f in ("sev", "sev_es", "sev_snp") if f not in facts.cpu.flags]
    if not missing:
        return outcome("cpu_flags", title, Status.PASS, "sev sev_es sev_snp present")
    return outcome("cpu_flags", title, Status.FAIL, f"missing: {' '.join(missing)}", BIOS_HINT)


def check_cpuid(facts: HostFacts) -> Check:
    """snphost's CPUID 0x8000001F checks, from /dev/cpu/0/cpuid or a ``cpuid -r`` dump."""
    title = "CPUID 0x8000001F: SME, SEV, SEV-ES, SNP, VMPL, page flush"
    if facts.cpuid is None:
        why = facts.cpuid_problem or "not captured"
        return _unknown("cpuid", title, why, "`modprobe cpuid` and run as root", required=False)
    eax, ebx, ecx, edx = facts.cpuid
    bits = {"SME": 0, "SEV": 1, "page-flush MSR": 2, "SEV-ES": 3, "SNP": 4, "VMPL": 5}
    missing = [name for name, bit in bits.items() if not eax >> bit & 1]
    evidence = (
        f"C-bit {ebx & 0x3F}, physical address reduction {ebx >> 6 & 0x3F}, "
        f"{ebx >> 12 & 0xF} VMPLs, {ecx} encrypted guests, minimum SEV-only ASID {edx}"
    )
    if missing:
        evidence = f"missing {' '.join(missing)}; {evidence}"
        return outcome("cpuid", title, Status.FAIL, evidence, BIOS_HINT, required=False)
    if edx == 1:
        return outcome("cpuid", title, Status.FAIL, evidence, CAUSES["no-snp-asids"], False)
    return outcome("cpuid", title, Status.PASS, evidence, required=False)


def check_syscfg(facts: HostFacts) -> Check:
    """snphost's MSR checks: SME and SNP enabled in SYSCFG, RMP_BASE/RMP_END set."""
    title = "SYSCFG: SME and SNP enabled; RMP_BASE/RMP_END set"
    syscfg = facts.msrs.get(SYSCFG)
    if syscfg is None:
        why = facts.msr_problem or "MSRs not captured"
        return _unknown("syscfg", title, why, CAUSES["msr-unreadable"], required=False)
    rmp = [facts.msrs.get(RMP_BASE), facts.msrs.get(RMP_END)]
    evidence = f"SYSCFG={syscfg:#x}"
    problems = [n for n, bit in (("SME", 23), ("SNP", 24)) if not syscfg >> bit & 1]
    if None not in rmp:
        evidence += f" RMP_BASE={rmp[0]:#x} RMP_END={rmp[1]:#x}"
        if not all(rmp):
            problems.append("RMP table")
    if problems:
        evidence = f"{evidence}: {' / '.join(problems)} not enabled"
        return outcome("syscfg", title, Status.FAIL, evidence, BIOS_HINT, required=False)
    return outcome("syscfg", title, Status.PASS, evidence, required=False)


def check_ok_tool(facts: HostFacts) -> Check:
    title = "captured `snphost ok` / `sevctl ok`"
    if not facts.ok_lines:
        return _unknown("ok_tool", title, "no snphost/sevctl output", "", required=False)
    failed = [text for status, text in facts.ok_lines if status == "FAIL"]
    if not failed:
        evidence = f"all {len(facts.ok_lines)} lines PASS (not proof of SNP initialisation)"
        return outcome("ok_tool", title, Status.PASS, evidence, required=False)
    return outcome("ok_tool", title, Status.FAIL, " | ".join(failed),
                   "see the diagnosis for each failed line", required=False)  # fmt: skip


def check_kvm_params(facts: HostFacts) -> Check:
    title = "kvm_amd parameters sev, sev_es, sev_snp = Y"
    if "kvm_amd" in facts.unseen and not facts.kvm_amd:
        return _unknown("kvm_params", title, "kvm_amd parameters not captured", CAPTURE_HINT)
    values = {p: facts.kvm_amd[p] for p in KVM_PARAMS if p in facts.kvm_amd}
    evidence = ", ".join(f"{p}={v}" for p, v in values.items())
    if any(v not in ("Y", "1") for v in values.values()):
        if all(v == "missing" for v in values.values()):
            hint = "load the module: `modprobe kvm_amd sev_snp=1` (snpapp deploy sets it)"
        else:
            hint = (
                "SNP did not initialise (see the diagnosis); sev_es/sev_snp = N usually means "
                "the BIOS SEV-ES ASID limit is too low or SNP_INIT failed. " + BIOS_HINT
            )
        return outcome("kvm_params", title, Status.FAIL, evidence, hint)
    if len(values) < len(KVM_PARAMS):
        return _unknown("kvm_params", title, evidence or "not captured", CAPTURE_HINT)
    return outcome("kvm_params", title, Status.PASS, evidence)


#: Causes read from the CPU or MSRs, not from the kernel log.
_NOT_FROM_LOG = frozenset({"not-amd-epyc", "virtual-machine", "msr-unreadable"})


def check_kernel_log(facts: HostFacts) -> Check:
    title = "kernel log shows SEV-SNP initialised"
    if facts.kernel_log is None or "kernel_log" in facts.unseen:
        return _unknown("kernel_log", title, "kernel log not readable or not captured",
                        "run doctor as root (or a user allowed to read dmesg)")  # fmt: skip
    causes = [c for c in diagnose(facts) if c.cause not in _NOT_FROM_LOG]
    if causes:
        return outcome("kernel_log", title, Status.FAIL,
                       f"{causes[0].cause}: {causes[0].evidence}", causes[0].fix)  # fmt: skip
    log = facts.kernel_log
    lines = [found[0] for p in (kl.SNP_API, kl.SNP_ASIDS) if (found := kl.first(log, p))]
    if snp_initialised(facts):
        return outcome("kernel_log", title, Status.PASS, " | ".join(lines))
    if lines:
        return _unknown("kernel_log", title, f"{lines[0]} (and no line for the other half)",
                        "capture the full `dmesg | grep -i -e sev -e snp` output")  # fmt: skip
    return outcome("kernel_log", title, Status.FAIL, "no SNP initialisation lines",
                   CAUSES["no-snp-evidence"])  # fmt: skip


def firmware_version(facts: HostFacts) -> tuple[int, int, int | None] | None:
    """The SEV firmware (major, minor, build): SNP API line, else SEV API line, else snphost."""
    log = facts.kernel_log or ()
    version = kl.api_version(log, kl.SNP_API) or kl.api_version(log, kl.SEV_API)
    if version:
        return version
    for _, text in facts.ok_lines:
        match = re.search(r"[Ff]irmware version: (\d+)\.(\d+)", text)
        if match:
            return int(match.group(1)), int(match.group(2)), None
    return None


def snp_api_version(facts: HostFacts) -> tuple[int, int] | None:
    version = kl.api_version(facts.kernel_log or (), kl.SNP_API)
    return version[:2] if version else None


def _shown(version: tuple[int, int, int | None]) -> str:
    major, minor, build = version
    return f"{major}.{minor}" + (f" build {build}" if build is not None else "")


def check_firmware(facts: HostFacts) -> Check:
    title = "SEV firmware ≥ 1.51"
    hint = CAUSES["firmware-too-old"]
    if old := kl.first(facts.kernel_log or (), kl.FW_TOO_OLD):
        return outcome("firmware", title, Status.FAIL, old[0], hint)
    version = firmware_version(facts)
    if version is None:
        where = "the kernel logs 'SEV API:x.y' when ccp loads: capture the log as root"
        return _unknown("firmware", title, "no firmware version in the facts", where)
    if version[:2] >= MIN_SNP_API:
        return outcome("firmware", title, Status.PASS, f"SEV firmware {_shown(version)}")
    return outcome("firmware", title, Status.FAIL, f"SEV firmware {_shown(version)}", hint)


def check_security_floor(facts: HostFacts) -> Check:
    """AMD-SB-3015 (BadRAM) and AMD-SB-3019 firmware/TCB floors for the CPU's generation."""
    title = "SNP firmware/TCB above the AMD-SB-3015 and AMD-SB-3019 floors"
    cpu = facts.cpu
    gen = generation(cpu.family, cpu.model, cpu.model_name) if cpu else None
    version = firmware_version(facts)
    if gen is None or gen.badram_floor is None or version is None or version[2] is None:
        seen = f"SNP firmware {_shown(version)}" if version else "SNP firmware unknown"
        why = f"; no published floor for {gen.name}" if gen and gen.badram_floor is None else ""
        return _unknown("security_floor", title, seen + why, "", required=False)
    shown = f"{gen.name}, SNP firmware {_shown(version)}"
    if facts.tcb_snp_svn is not None:
        shown += f", TCB SNP SVN {facts.tcb_snp_svn:#x}"
    floor = gen.badram_floor
    low = []
    if (version[0], version[1], version[2]) < floor:
        low.append(f"below {floor[0]}.{floor[1]} build {floor[2]} (AMD-SB-3015, BadRAM)")
    svn, svn_floor = facts.tcb_snp_svn, gen.sb3019_snp_svn
    if svn is not None and svn_floor is not None and svn < svn_floor:
        low.append(f"TCB SNP SVN below {gen.sb3019_snp_svn:#x} (AMD-SB-3019)")
    if not low:
        return outcome("security_floor", title, Status.PASS, shown, required=False)
    return outcome(
        "security_floor", title, Status.WARN, f"{shown}: {'; '.join(low)}",
        "update the BIOS/SEV firmware to the level AMD's bulletin names for this CPU "
        "(AMD-SB-3015, AMD-SB-3019 on amd.com/en/resources/product-security)", required=False,
    )  # fmt: skip


def _ok_status(facts: HostFacts, needle: str) -> str | None:
    return next((s for s, text in facts.ok_lines if needle in text), None)


def check_devices(facts: HostFacts) -> Check:
    title = "/dev/sev and /dev/kvm usable"
    if "devices" in facts.unseen and not facts.devices:
        sev_r, sev_w = _ok_status(facts, "/dev/sev readable"), _ok_status(facts, "/dev/sev writ")
        kvm = _ok_status(facts, "KVM supported")
        if None in (sev_r, sev_w, kvm):
            return _unknown("devices", title, "not captured", CAPTURE_HINT)
        if sev_r == sev_w == kvm == "PASS":
            return outcome(
                "devices", title, Status.PASS, "snphost/sevctl: /dev/sev read/write, KVM"
            )
        return outcome("devices", title, Status.FAIL, "snphost/sevctl: /dev/sev or KVM failed",
                       "`modprobe ccp kvm_amd` and run as root")  # fmt: skip
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
    found = next((c for c in diagnose(facts) if c.cause == "iommu-passthrough"), None)
    if found:
        return outcome("iommu", title, Status.FAIL, found.evidence, found.fix)
    log = facts.kernel_log or ()
    on = kl.first(log, kl.IOMMU_SNP_ON)
    if on:
        return outcome("iommu", title, Status.PASS, on[0])
    if snp_initialised(facts):
        return outcome("iommu", title, Status.PASS, "SNP initialised, which needs the IOMMU on")
    return _unknown("iommu", title, "no IOMMU SNP line in the facts", CAPTURE_HINT)


def check_rmp(facts: HostFacts) -> Check:
    title = "RMP table reserved by the BIOS and covering all RAM"
    causes = {c.cause: c for c in diagnose(facts)}
    for cause in ("rmp-not-reserved", "rmp-coverage-partial"):
        if cause in causes:
            return outcome("rmp", title, Status.FAIL, causes[cause].evidence,
                           causes[cause].fix, required=False)  # fmt: skip
    found = kl.first(facts.kernel_log or (), kl.RMP_RANGE)
    if found:
        return outcome("rmp", title, Status.PASS, found[0], required=False)
    return _unknown("rmp", title, "no RMP table line in the facts", "", required=False)


def check_memlock(facts: HostFacts) -> Check:
    title = "memlock limit"
    kib = facts.memlock_kib
    if kib == -1:
        return outcome("memlock", title, Status.PASS, "unlimited", required=False)
    if kib is None:
        return _unknown("memlock", title, "unknown", "check `ulimit -l`", required=False)
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
    check_cpuid,
    check_syscfg,
    check_kvm_params,
    check_kernel_log,
    check_firmware,
    check_security_floor,
    check_devices,
    check_iommu,
    check_rmp,
    check_ok_tool,
    check_memlock,
)
