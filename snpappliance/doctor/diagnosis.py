"""Name why SNP did not come up on a host: causes from a fixed vocabulary, with evidence and fix.

:func:`diagnose` is a pure function of :class:`HostFacts`. Each cause appears
once, with the line(s) that show it and what to do, in the order of
:data:`CAUSES`. A working host has no cause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from snpappliance.doctor import kernel_log as kl
from snpappliance.doctor.facts import SYSCFG, HostFacts
from snpappliance.doctor.generations import generation

BIOS = (
    "in the BIOS: SMEE=Enabled, SNP Memory Coverage=Enabled, SEV-ES ASID space limit > 1 "
    "(e.g. 100), SEV-SNP=Enabled (NBIO), IOMMU enabled"
)

#: The cause vocabulary of ``snpapp doctor`` (``--json`` ``diagnosis[].cause``), with the fix.
CAUSES: dict[str, str] = {
    "not-amd-epyc": "SEV-SNP needs an AMD EPYC Milan, Genoa, Bergamo/Siena or Turin host",
    "virtual-machine": "SNP guests cannot be nested in a VM: run doctor on the bare-metal host",
    "snp-guest-not-host": "this output is from an SNP guest: run doctor (or --collect) on the "
    "host that runs it",
    "snp-cpuid-missing": "the CPU does not report SEV-SNP: enable it " + BIOS,
    "snp-disabled-in-msr": "SNP is not enabled in SYSCFG: enable SEV-SNP and SNP Memory "
    "Coverage=Enabled (not a custom size: Linux ≥ 6.11 refuses an RMP that does not cover all "
    "RAM, AMDESE/AMDSEV#226) " + BIOS,
    "rmp-not-reserved": "the BIOS did not reserve the RMP table: set SNP Memory Coverage "
    "(RMP table) = Enabled; if the BIOS has no such option, ask the vendor for an SNP BIOS",
    "rmp-coverage-partial": "the RMP table does not cover all RAM: set SNP Memory Coverage = "
    "Enabled instead of a custom size",
    "iommu-passthrough": "remove iommu=pt / amd_iommu=off / iommu.passthrough=1 from the kernel "
    "command line and enable the IOMMU in the BIOS",
    "firmware-too-old": "SNP needs SEV firmware ≥ 1.51: update the BIOS (Milan can also load "
    "amd_sev_fam19h_model0xh.sbin from /lib/firmware/amd at boot)",
    "psp-timeout": "the PSP stopped answering during INIT: set IOMMU to Auto (not Enabled) in "
    "the BIOS (AMDESE/AMDSEV#184), update the BIOS, then power-cycle",
    "snp-init-failed": "SNP_INIT failed in the firmware: check the SNP BIOS settings and update "
    "the BIOS; the status code names what the firmware refused",
    "sev-init-failed": "SEV INIT failed in the firmware: check SMEE, the SEV-ES ASID limit and "
    "SNP settings in the BIOS and update it; the status code names what the firmware refused",
    "smt-disabled": "SNP_INIT fails with SMT disabled on this firmware: remove nosmt from the "
    "kernel command line (or enable SMT in the BIOS), or update the SEV firmware",
    "no-snp-asids": "no ASIDs are left for SEV-ES/SNP guests: set the BIOS 'SEV-ES ASID space "
    "limit' (minimum SEV-only ASID) above 1, e.g. 100",
    "kvm-snp-off": "load kvm_amd with SNP on: `modprobe -r kvm_amd; modprobe kvm_amd sev_snp=1` "
    "(snpapp deploy sets it)",
    "msr-unreadable": "`modprobe msr` (and run as root) so SYSCFG and the RMP MSRs can be read",
    "guest-memfd-mismatch": "QEMU and the host kernel do not match: deploy the QEMU built with "
    "this kernel and its launch options (snpapp deploy); the 2023 restricted-memory SNP kernels "
    "need QEMU's `-object memory-backend-memfd-private` (AMDESE/AMDSEV#166)",
    "no-snp-evidence": "the kernel never logged SNP initialisation (no 'SEV-SNP API:' / SNP "
    "ASIDs line): boot the SNP host kernel with kvm_amd sev_snp=1 and check " + BIOS,
}


@dataclass(frozen=True)
class Cause:
    cause: str
    evidence: str
    fix: str


_IOMMU_ARGS = re.compile(r"(?<!\S)(iommu=pt|amd_iommu=off|iommu=off|iommu\.passthrough=1)(?!\S)")
_NOSMT = re.compile(r"(?<!\S)nosmt(=force)?(?!\S)")
_SNP_PARAM_OFF = re.compile(r"(?<!\S)kvm_amd\.sev_snp=(0|N|n)(?!\S)")


def _ok_failures(facts: HostFacts, *needles: str) -> list[str]:
    return [
        f"[ FAIL ] {text}"
        for status, text in facts.ok_lines
        if status == "FAIL" and any(n in text for n in needles)
    ]


def _cmdline(facts: HostFacts) -> str:
    if facts.cmdline:
        return facts.cmdline
    found = kl.first(facts.kernel_log or (), re.compile(r"Command line: (.*)"))
    return found[1].group(1) if found else ""


def snp_initialised(facts: HostFacts) -> bool:
    """The kernel logged an SNP API version and SNP ASIDs (what a working host prints)."""
    log = facts.kernel_log or ()
    return kl.first(log, kl.SNP_API) is not None and bool(kl.snp_asid_count(log))


def _any_snp_line(facts: HostFacts) -> bool:
    log = facts.kernel_log or ()
    return kl.first(log, kl.SNP_API) is not None or kl.snp_asid_count(log) is not None


def _hardware(facts: HostFacts) -> dict[str, str]:
    found: dict[str, str] = {}
    cpu = facts.cpu
    log = facts.kernel_log or ()
    guest = kl.first(log, kl.SNP_GUEST)
    if guest:
        found["snp-guest-not-host"] = guest[0]
    if cpu is None:
        return found
    seen = f"{cpu.vendor} family {cpu.family} model {cpu.model} ({cpu.model_name})"
    identified = bool(cpu.model_name) or cpu.family is not None
    if identified and generation(cpu.family, cpu.model, cpu.model_name) is None:
        found["not-amd-epyc"] = seen
    if cpu.flags is not None and "hypervisor" in cpu.flags and not guest:
        found["virtual-machine"] = "CPU flag 'hypervisor' is set"
    return found


def _firmware_and_init(facts: HostFacts, cmdline: str) -> dict[str, str]:
    found: dict[str, str] = {}
    log = facts.kernel_log or ()
    for cause, pattern in (
        ("rmp-not-reserved", kl.RMP_NOT_RESERVED),
        ("rmp-coverage-partial", kl.RMP_PARTIAL),
        ("psp-timeout", kl.PSP_TIMEOUT),
        ("guest-memfd-mismatch", kl.GUEST_MEMFD),
    ):
        hit = kl.first(log, pattern)
        if hit:
            found[cause] = hit[0]
    old = kl.first(log, kl.FW_TOO_OLD)
    sev_api = kl.api_version(log, kl.SEV_API)
    snp_api = kl.api_version(log, kl.SNP_API)
    lowest = min((v[:2] for v in (sev_api, snp_api) if v), default=None)
    if old:
        found["firmware-too-old"] = old[0]
    elif lowest is not None and lowest < (1, 51):
        found["firmware-too-old"] = f"SEV API {lowest[0]}.{lowest[1]} (SNP needs ≥ 1.51)"
    snp_fail = kl.first(log, kl.SNP_INIT_FAILED)
    if snp_fail:
        line, match = snp_fail
        found["snp-init-failed"] = f"{line} → firmware status {kl.firmware_status(*_code(match))}"
        smt = kl.first(log, kl.SMT_OFF)
        nosmt = _NOSMT.search(cmdline)
        if smt:
            found["smt-disabled"] = smt[0]
        elif nosmt:
            found["smt-disabled"] = f"kernel command line has {nosmt.group(0)}"
    sev_fail = kl.first(log, kl.SEV_INIT_FAILED)
    if sev_fail:
        line, match = sev_fail
        found["sev-init-failed"] = f"{line} → firmware status {kl.firmware_status(*_code(match))}"
    return found


def _code(match: re.Match[str]) -> tuple[str, str | None]:
    """(status code, rc) of a ``failed to INIT`` line, whichever order it prints them in."""
    rc = match.group(1) or match.group(3)
    return match.group(2), rc


def _asids(facts: HostFacts) -> str | None:
    log = facts.kernel_log or ()
    sev = kl.first(log, kl.SEV_ASIDS)
    if sev and kl.first(log, kl.ES_ASIDS) is None and kl.first(log, kl.SNP_ASIDS) is None:
        return f"{sev[0]} (and no SEV-ES/SEV-SNP ASIDs)"
    if facts.cpuid is not None and facts.cpuid[3] == 1:
        return "CPUID 0x8000001F EDX: minimum SEV-only ASID = 1"
    for _, text in facts.ok_lines:
        if re.search(r"Minimum ASID value for SEV-enabled, SEV-ES disabled guest: 1$", text):
            return text
    return None


def diagnose(facts: HostFacts) -> tuple[Cause, ...]:
    """Every cause the facts show, once, in :data:`CAUSES` order (pure)."""
    cmdline = _cmdline(facts)
    log = facts.kernel_log or ()
    found = _hardware(facts)
    iommu = kl.first(log, kl.IOMMU_OFF)
    args = _IOMMU_ARGS.findall(cmdline)
    if iommu or args:
        shown = [iommu[0]] if iommu else []
        shown += [f"kernel command line has {a}" for a in args]
        found["iommu-passthrough"] = " | ".join(shown)
    found.update(_firmware_and_init(facts, cmdline))
    if (no_asids := _asids(facts)) is not None:
        found["no-snp-asids"] = no_asids
    syscfg = facts.msrs.get(SYSCFG)
    msr_off = _ok_failures(facts, "SNP: Disabled in MSR")
    if syscfg is not None and not syscfg >> 24 & 1:
        found["snp-disabled-in-msr"] = (
            f"SYSCFG (MSR 0xC0010010) = {syscfg:#x}: SNP_EN (bit 24) clear"
        )
    elif msr_off:
        found["snp-disabled-in-msr"] = msr_off[0]
    snp_off = _SNP_PARAM_OFF.search(cmdline)
    # kvm_amd turns sev_snp off itself when SNP did not come up: only a cause on its own.
    if (facts.kvm_amd.get("sev_snp") in ("N", "0") or snp_off) and not found:
        found["kvm-snp-off"] = (
            f"kernel command line has {snp_off.group(0)}" if snp_off else "kvm_amd sev_snp=N"
        )
    flags = facts.cpu.flags if facts.cpu is not None else None
    if flags is not None and "sev_snp" not in flags and not found:
        found["snp-cpuid-missing"] = "no sev_snp in the /proc/cpuinfo flags"
    log_known = facts.kernel_log is not None and "kernel_log" not in facts.unseen
    if log_known and not found and not _any_snp_line(facts):
        found["no-snp-evidence"] = "no 'SEV-SNP API:' or SNP ASIDs line in the kernel log"
    unreadable = _ok_failures(facts, "MSR read failed")
    if unreadable:
        found["msr-unreadable"] = unreadable[0]
    elif facts.msr_problem and not facts.msrs and not snp_initialised(facts):
        # Only a cause when SNP is down: then SYSCFG is the next thing to look at.
        found["msr-unreadable"] = facts.msr_problem
    return tuple(Cause(c, found[c], fix) for c, fix in CAUSES.items() if c in found)
