"""What the campaign needs to know about its host, asked through the Host interface only.

Whether a host can run SEV-SNP guests is ``snpapp doctor``'s verdict (the
campaign runs it first); here are only the facts doctor does not establish:
:func:`require_kvm` for KVM campaigns without SNP scenarios, and
:func:`cbitpos_from_cpuid`, the C-bit position from CPUID 0x8000001F.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from snpappliance.errors import CampaignError, PreflightError

if TYPE_CHECKING:
    from snpappliance.hosts.base import Host

CPUID_LEAF_SEV = 0x8000001F


def _exists(host: Host, test: str, path: str) -> bool:
    return host.run(["test", test, path], check=False, idempotent=True).ok


def read_text(host: Host, path: str) -> str | None:
    """Contents of a small file on the host, or None if it cannot be read."""
    result = host.run(["cat", path], check=False, idempotent=True)
    return result.stdout.strip() if result.ok else None


def require_kvm(host: Host) -> None:
    if not _exists(host, "-c", "/dev/kvm"):
        msg = f"host {host.name} has no /dev/kvm"
        raise PreflightError(
            msg,
            hint="load kvm_amd (or kvm_intel), or set qemu.accel = 'tcg' in the spec",
        )


def parse_cpuid_words(text: str) -> tuple[int, int, int, int]:
    """EAX, EBX, ECX, EDX from ``od -An -tx4`` output of a 16-byte CPUID read."""
    words = re.findall(r"[0-9a-fA-F]{8}", text)
    if len(words) != 4:
        msg = f"expected four 32-bit words, got {text!r}"
        raise ValueError(msg)
    eax, ebx, ecx, edx = (int(w, 16) for w in words)
    return eax, ebx, ecx, edx


def cbitpos_from_ebx(ebx: int) -> int:
    """CPUID 0x8000001F EBX[5:0]: the C-bit position (51 on Genoa, 47 on Milan)."""
    return ebx & 0x3F


def cbitpos_from_cpuid(host: Host) -> int:
    """Read the C-bit position on the host from /dev/cpu/0/cpuid (needs the cpuid module)."""
    host.run(["modprobe", "cpuid"], check=False, idempotent=True)
    result = host.run(
        [
            "sh",
            "-c",
            f"dd if=/dev/cpu/0/cpuid bs=16 count=1 skip={CPUID_LEAF_SEV} "
            "iflag=skip_bytes 2>/dev/null | od -An -tx4",
        ],
        idempotent=True,
    )
    try:
        _, ebx, _, _ = parse_cpuid_words(result.stdout)
    except ValueError as exc:
        msg = f"cannot read CPUID 0x8000001F on host {host.name}: {exc}"
        raise CampaignError(
            msg,
            hint="set [snp] cbitpos in the spec (51 on Genoa)",
        ) from exc
    if cbitpos_from_ebx(ebx) == 0:
        msg = f"host {host.name} reports no C-bit position (CPUID 0x8000001F EBX={ebx:#x})"
        raise PreflightError(
            msg,
            hint="this CPU does not support memory encryption, or it is disabled in the BIOS",
        )
    return cbitpos_from_ebx(ebx)


def cpu_facts(cpuinfo: str) -> dict[str, str]:
    """Model name, microcode, vendor and flags of the first CPU in /proc/cpuinfo."""
    facts: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            if facts:
                break
            continue
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "microcode", "vendor_id", "cpu family", "model", "stepping"):
            facts[key.replace(" ", "_")] = value.strip()
        elif key == "flags":
            wanted = ("sme", "sev", "sev_es", "sev_snp", "hypervisor")
            facts["memory_encryption_flags"] = " ".join(f for f in value.split() if f in wanted)
    return facts
