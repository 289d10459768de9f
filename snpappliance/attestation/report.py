"""The SEV-SNP ATTESTATION_REPORT, parsed per AMD's SEV-SNP firmware ABI.

Layout: the ABI specification's ATTESTATION_REPORT structure table (0x4A0 bytes,
little-endian). Only the fields snpapp judges or records are decoded; the
reserved areas are skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from snpappliance.errors import ParseError

REPORT_SIZE = 0x4A0
#: Report versions this parser knows the layout of (2: firmware 1.51+, 3 adds the
#: CPUID family/model/stepping, 5 the mitigation vectors in formerly reserved bytes).
KNOWN_VERSIONS = frozenset({2, 3, 4, 5})
#: CPUID family of Turin (Zen 5), whose TCB_VERSION layout differs.
TURIN_FAMILY = 0x1A
SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1

_HINT = "Keep the raw report exactly as the guest's report interface returned it (0x4A0 bytes)."


@dataclass(frozen=True)
class GuestPolicy:
    """The guest policy the VM was launched with (ABI "Guest Policy" bits)."""

    raw: int
    abi_minor: int
    abi_major: int
    smt_allowed: bool
    reserved_one: bool
    migrate_ma: bool
    debug: bool
    single_socket: bool
    cxl_allowed: bool
    mem_aes_256_xts: bool
    rapl_disabled: bool
    ciphertext_hiding: bool
    page_swap_disabled: bool

    @classmethod
    def decode(cls, raw: int) -> GuestPolicy:
        def bit(n: int) -> bool:
            return bool(raw >> n & 1)

        return cls(
            raw=raw,
            abi_minor=raw & 0xFF,
            abi_major=raw >> 8 & 0xFF,
            smt_allowed=bit(16),
            reserved_one=bit(17),
            migrate_ma=bit(18),
            debug=bit(19),
            single_socket=bit(20),
            cxl_allowed=bit(21),
            mem_aes_256_xts=bit(22),
            rapl_disabled=bit(23),
            ciphertext_hiding=bit(24),
            page_swap_disabled=bit(25),
        )


@dataclass(frozen=True)
class TcbVersion:
    """A TCB_VERSION: the security version numbers of the platform's components.

    ``fmc`` exists on Turin (family 0x1A) only and is None elsewhere.
    """

    raw: int
    bootloader: int
    tee: int
    snp: int
    microcode: int
    fmc: int | None = None

    @classmethod
    def decode(cls, raw: int, *, turin: bool) -> TcbVersion:
        b = raw.to_bytes(8, "little")
        if turin:
            return cls(raw=raw, fmc=b[0], bootloader=b[1], tee=b[2], snp=b[3], microcode=b[7])
        return cls(raw=raw, bootloader=b[0], tee=b[1], snp=b[6], microcode=b[7])


@dataclass(frozen=True)
class PlatformInfo:
    """PLATFORM_INFO: the platform state the firmware reports."""

    raw: int
    smt_enabled: bool
    tsme_enabled: bool
    ecc_enabled: bool
    rapl_disabled: bool
    ciphertext_hiding_enabled: bool
    alias_check_complete: bool

    @classmethod
    def decode(cls, raw: int) -> PlatformInfo:
        return cls(
            raw=raw,
            smt_enabled=bool(raw & 1),
            tsme_enabled=bool(raw >> 1 & 1),
            ecc_enabled=bool(raw >> 2 & 1),
            rapl_disabled=bool(raw >> 3 & 1),
            ciphertext_hiding_enabled=bool(raw >> 4 & 1),
            alias_check_complete=bool(raw >> 5 & 1),
        )


@dataclass(frozen=True)
class AttestationReport:
    """One parsed ATTESTATION_REPORT; ``raw`` keeps the exact bytes."""

    version: int
    guest_svn: int
    policy: GuestPolicy
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb: TcbVersion
    platform_info: PlatformInfo
    author_key_en: bool
    mask_chip_key: bool
    signing_key: int
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb: TcbVersion
    cpuid_family: int | None
    cpuid_model: int | None
    cpuid_stepping: int | None
    chip_id: bytes
    committed_tcb: TcbVersion
    current_firmware: tuple[int, int, int]
    committed_firmware: tuple[int, int, int]
    launch_tcb: TcbVersion
    signature: bytes
    raw: bytes

    @property
    def signature_r(self) -> int:
        """The ECDSA signature's R component (72 little-endian bytes)."""
        return int.from_bytes(self.signature[0:72], "little")

    @property
    def signature_s(self) -> int:
        """The ECDSA signature's S component (72 little-endian bytes)."""
        return int.from_bytes(self.signature[72:144], "little")

    @property
    def signed_bytes(self) -> bytes:
        """The part of the report the signature covers (0x0–0x29F)."""
        return self.raw[:0x2A0]


def _u32(data: bytes, offset: int) -> int:
    return int(struct.unpack_from("<I", data, offset)[0])


def _u64(data: bytes, offset: int) -> int:
    return int(struct.unpack_from("<Q", data, offset)[0])


def _firmware(data: bytes, offset: int) -> tuple[int, int, int]:
    build, minor, major = data[offset], data[offset + 1], data[offset + 2]
    return (major, minor, build)


def parse_report(data: bytes) -> AttestationReport:
    """Parse a raw ATTESTATION_REPORT; raise ParseError on a wrong size or version."""
    if len(data) != REPORT_SIZE:
        msg = f"SNP attestation report is {len(data)} bytes, expected {REPORT_SIZE} (0x4A0)"
        raise ParseError(msg, hint=_HINT)
    version = _u32(data, 0x00)
    if version not in KNOWN_VERSIONS:
        known = ", ".join(str(v) for v in sorted(KNOWN_VERSIONS))
        msg = f"SNP attestation report has version {version}; this parser knows {known}"
        raise ParseError(
            msg, hint="Check that the file is an SNP report, not a TDX quote or a wrapper."
        )
    if version >= 3:
        cpuid_family: int | None = data[0x188]
        cpuid_model: int | None = data[0x189]
        cpuid_stepping: int | None = data[0x18A]
    else:
        cpuid_family = cpuid_model = cpuid_stepping = None
    turin = cpuid_family == TURIN_FAMILY
    key_info = _u32(data, 0x48)
    return AttestationReport(
        version=version,
        guest_svn=_u32(data, 0x04),
        policy=GuestPolicy.decode(_u64(data, 0x08)),
        family_id=data[0x10:0x20],
        image_id=data[0x20:0x30],
        vmpl=_u32(data, 0x30),
        signature_algo=_u32(data, 0x34),
        current_tcb=TcbVersion.decode(_u64(data, 0x38), turin=turin),
        platform_info=PlatformInfo.decode(_u64(data, 0x40)),
        author_key_en=bool(key_info & 1),
        mask_chip_key=bool(key_info >> 1 & 1),
        signing_key=key_info >> 2 & 0b111,
        report_data=data[0x50:0x90],
        measurement=data[0x90:0xC0],
        host_data=data[0xC0:0xE0],
        id_key_digest=data[0xE0:0x110],
        author_key_digest=data[0x110:0x140],
        report_id=data[0x140:0x160],
        report_id_ma=data[0x160:0x180],
        reported_tcb=TcbVersion.decode(_u64(data, 0x180), turin=turin),
        cpuid_family=cpuid_family,
        cpuid_model=cpuid_model,
        cpuid_stepping=cpuid_stepping,
        chip_id=data[0x1A0:0x1E0],
        committed_tcb=TcbVersion.decode(_u64(data, 0x1E0), turin=turin),
        current_firmware=_firmware(data, 0x1E8),
        committed_firmware=_firmware(data, 0x1EC),
        launch_tcb=TcbVersion.decode(_u64(data, 0x1F0), turin=turin),
        signature=data[0x2A0:0x4A0],
        raw=bytes(data),
    )
