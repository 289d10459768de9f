"""What the kernel's SEV/SNP log lines say, as the kernel prints them from 5.14 to today.

The patterns follow the format strings of arch/x86/virt/svm/sev.c (RMP table),
drivers/crypto/ccp/sev-dev.c (PSP, SEV and SNP INIT, API version),
drivers/iommu/amd/init.c (IOMMU and SNP) and arch/x86/kvm/svm/sev.c (ASIDs),
across their wordings. Lines may carry a ``kernel:`` prefix, a journalctl or
dmesg timestamp, markdown emphasis, or none of these: every pattern is a search,
never anchored at the start of the line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

#: SEV firmware status codes (AMD "SEV Secure Nested Paging Firmware ABI
#: Specification", status code table; also include/uapi/linux/psp-sev.h).
FIRMWARE_STATUS = {
    0x00: "SUCCESS",
    0x01: "INVALID_PLATFORM_STATE",
    0x02: "INVALID_GUEST_STATE",
    0x03: "INVALID_CONFIG",
    0x04: "INVALID_LENGTH",
    0x05: "ALREADY_OWNED",
    0x06: "INVALID_CERTIFICATE",
    0x07: "POLICY_FAILURE",
    0x08: "INACTIVE",
    0x09: "INVALID_ADDRESS",
    0x0A: "BAD_SIGNATURE",
    0x0B: "BAD_MEASUREMENT",
    0x0C: "ASID_OWNED",
    0x0D: "INVALID_ASID",
    0x0E: "WBINVD_REQUIRED",
    0x0F: "DFFLUSH_REQUIRED",
    0x10: "INVALID_GUEST",
    0x11: "INVALID_COMMAND",
    0x12: "ACTIVE",
    0x13: "HWERROR_PLATFORM",
    0x14: "HWERROR_UNSAFE",
    0x15: "UNSUPPORTED",
    0x16: "INVALID_PARAM",
    0x17: "RESOURCE_LIMIT",
    0x18: "SECURE_DATA_INVALID",
}

IOMMU_OFF = re.compile(r"IOMMU (?:is )?(?:either )?disabled or configured in passthrough mode")
PSP_TIMEOUT = re.compile(r"sev command (0x[0-9a-fA-F]+) timed out, disabling PSP")
RMP_NOT_RESERVED = re.compile(r"Memory for the RMP table has not been reserved by BIOS")
RMP_PARTIAL = re.compile(r"Memory reserved for the RMP table does not cover full system RAM")
RMP_RANGE = re.compile(r"RMP table physical (?:range|address)")
FW_TOO_OLD = re.compile(r"SEV-SNP support requires firmware version >= 1:51")
#: ``SEV-SNP: failed to INIT error 0x3`` (5.14), ``… INIT rc -5, error 0x3`` (6.x).
SNP_INIT_FAILED = re.compile(
    r"SEV-SNP:\s+failed to INIT(?:\s+rc\s+(-?\d+),)?\s+error\s+(0x[0-9a-fA-F]+)"
    r"(?:,\s+rc\s+(-?\d+))?"
)
#: ``SEV: failed to INIT error 0x1`` / ``… error 0x1, rc -5`` / ``… INIT rc -5, error 0x1``.
SEV_INIT_FAILED = re.compile(
    r"(?<!-)SEV:\s+failed to INIT(?:\s+rc\s+(-?\d+),)?\s+error\s+(0x[0-9a-fA-F]+)"
    r"(?:,\s+rc\s+(-?\d+))?"
)
SNP_API = re.compile(r"SEV-SNP API:\s*(\d+)\.(\d+)(?:\s+build:\s*(\d+))?")
SEV_API = re.compile(r"(?<!-)SEV API:\s*(\d+)\.(\d+)(?:\s+build:\s*(\d+))?")
#: 6.x: ``SEV-SNP enabled (ASIDs 1 - 99)``; 5.14–6.5: ``SEV-ES and SEV-SNP supported: 99 ASIDs``.
SNP_ASIDS = re.compile(
    r"SEV-SNP enabled \(ASIDs (\d+) - (\d+)\)|SEV-ES and SEV-SNP supported: (\d+) ASIDs"
    r"|SEV-SNP supported: (\d+) ASIDs"
)
ES_ASIDS = re.compile(r"SEV-ES (?:enabled \(ASIDs (\d+) - (\d+)\)|supported: (\d+) ASIDs)")
SEV_ASIDS = re.compile(r"(?<!-)SEV (?:enabled \(ASIDs \d+ - \d+\)|supported: \d+ ASIDs)")
SMT_OFF = re.compile(r"SMT: (?:Force )?disabled")
IOMMU_SNP_ON = re.compile(r"AMD-Vi: (?:IOMMU )?SNP(?: support)? enabled")
#: 6.11+: ``… requires private memory support via guest_memfd``; the 2023 SNP host kernels
#: (restricted memory, before guest_memfd): ``kvm_amd: SEV-SNP requires restricted memory.``
GUEST_MEMFD = re.compile(
    r"requires private memory support via guest_memfd|SEV-SNP requires restricted memory"
)
SNP_GUEST = re.compile(
    r"Memory Encryption Features active: (?:AMD )?SEV SEV-ES SEV-SNP"
    r"|SEV: Status: SEV SEV-ES SEV-SNP|SEV: Using SNP CPUID table|SNP running at VMPL"
)
_TIMESTAMP = re.compile(r"^\s*\[\s*\d+\.\d+\]\s*")


def clean(line: str) -> str:
    """A log line as evidence: markdown emphasis and surrounding blanks removed."""
    return line.replace("**", "").replace("`", "").strip()


def first(log: Iterable[str], pattern: re.Pattern[str]) -> tuple[str, re.Match[str]] | None:
    """The first line of ``log`` that ``pattern`` finds, with its match."""
    for line in log:
        match = pattern.search(line)
        if match:
            return clean(line), match
    return None


def firmware_status(code: str, rc: str | None = None) -> str:
    """``0x3`` → ``0x3 (INVALID_CONFIG)``; an unknown code stays as it is."""
    value = int(code, 16)
    if value == 0xFFFFFFFF:
        return f"{code} (no answer: the PSP was disabled)"
    if value == 0 and rc not in (None, "0"):
        return f"{code} (the command never completed: rc {rc})"
    name = FIRMWARE_STATUS.get(value)
    return f"{code} ({name})" if name else code


def api_version(log: Iterable[str], pattern: re.Pattern[str]) -> tuple[int, int, int | None] | None:
    """``(major, minor, build)`` from the first ``SEV(-SNP) API:x.y build:z`` line."""
    found = first(log, pattern)
    if found is None:
        return None
    major, minor, build = found[1].groups()
    return int(major), int(minor), int(build) if build is not None else None


def snp_asid_count(log: Iterable[str]) -> int | None:
    """How many SNP ASIDs kvm_amd reported (``None``: no such line)."""
    found = first(log, SNP_ASIDS)
    if found is None:
        return None
    low, high, older, oldest = found[1].groups()
    if low is not None:
        return int(high) - int(low) + 1
    return int(older if older is not None else oldest)
