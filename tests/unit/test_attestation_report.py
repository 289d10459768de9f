"""The SNP report parser on real reports published by projects in the field.

Expected values come from the bytes' producers: the VCEK certificates that sign
each report carry the chip id and TCB in X.509 extensions (see the fixtures'
README), and go-sev-guest requested its report with REPORT_DATA 01 02 03 04 05.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from snpappliance.attestation.report import REPORT_SIZE, AttestationReport, parse_report
from snpappliance.errors import ParseError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "attestation"


def virtee_milan() -> bytes:
    return bytes.fromhex((FIXTURES / "virtee-sev-report_milan.hex").read_text().strip())


def gsg_milan() -> bytes:
    return (FIXTURES / "go-sev-guest-attestation.bin").read_bytes()


@pytest.fixture
def virtee() -> AttestationReport:
    return parse_report(virtee_milan())


@pytest.fixture
def gsg() -> AttestationReport:
    return parse_report(gsg_milan())


def test_virtee_milan_header(virtee: AttestationReport) -> None:
    assert virtee.version == 2
    assert virtee.guest_svn == 0
    assert virtee.policy.raw == 0x30000
    assert virtee.policy.smt_allowed
    assert virtee.policy.reserved_one
    assert not virtee.policy.debug
    assert not virtee.policy.migrate_ma
    assert virtee.vmpl == 0
    assert virtee.signature_algo == 1
    assert virtee.family_id == bytes(16)
    assert virtee.image_id == bytes(16)
    assert virtee.platform_info.smt_enabled
    assert not virtee.platform_info.tsme_enabled


def test_virtee_milan_tcb_matches_its_vcek(virtee: AttestationReport) -> None:
    for tcb in (virtee.current_tcb, virtee.reported_tcb, virtee.committed_tcb, virtee.launch_tcb):
        assert (tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode) == (3, 0, 8, 0x73)
        assert tcb.fmc is None
    assert virtee.current_firmware == (1, 52, 4)
    assert virtee.committed_firmware == (1, 52, 4)


def test_virtee_milan_digests_and_ids(virtee: AttestationReport) -> None:
    assert virtee.measurement.hex() == (
        "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d"
        "3e1a0dc39b2c60bd95b9c480cd81841f"
    )
    assert virtee.report_data.hex().startswith("d447b55d197491bfe15cf298f9de9986")
    assert virtee.report_data.hex().endswith("d1cd82bd6a93ebfd")
    assert virtee.chip_id.hex() == (
        "d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc"
        "15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6"
    )
    assert virtee.report_id.hex().startswith("92b3b47d59f0a2a1")
    assert virtee.report_id_ma == b"\xff" * 32
    assert virtee.host_data == bytes(32)
    assert virtee.id_key_digest == bytes(48)
    assert virtee.author_key_digest == bytes(48)
    assert not virtee.author_key_en
    assert virtee.cpuid_family is None


def test_virtee_milan_signature(virtee: AttestationReport) -> None:
    assert len(virtee.signature) == 0x200
    assert hex(virtee.signature_r).startswith("0x72827fd0029b56ee")
    assert virtee.signature_s.bit_length() <= 384
    assert virtee.signature[144:] == bytes(0x200 - 144)
    assert virtee.signed_bytes == virtee_milan()[:0x2A0]


def test_go_sev_guest_milan(gsg: AttestationReport) -> None:
    assert gsg.version == 2
    assert gsg.policy.raw == 0xB0000
    assert gsg.policy.debug
    assert gsg.vmpl == 0
    assert gsg.report_data == bytes([1, 2, 3, 4, 5]) + bytes(59)
    assert gsg.measurement.hex() == (
        "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b"
        "6bdf8a9ece31a5a608eb0cf2e4872b01"
    )
    tcb = gsg.reported_tcb
    assert (tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode) == (2, 0, 5, 0x44)
    assert gsg.chip_id.hex().startswith("3ac3fe21e13fb0990eb28a802e3fb6a2")
    assert gsg.current_firmware == (1, 49, 3)


def test_two_real_reports_differ_where_chips_differ(
    virtee: AttestationReport, gsg: AttestationReport
) -> None:
    assert virtee.chip_id != gsg.chip_id
    assert virtee.measurement != gsg.measurement


@pytest.mark.parametrize("size", [0, REPORT_SIZE - 1, REPORT_SIZE + 1, 4000])
def test_wrong_length_is_a_parse_error(size: int) -> None:
    data = (virtee_milan() * 4)[:size]
    with pytest.raises(ParseError, match=r"expected 1184 \(0x4A0\)"):
        parse_report(data)


@pytest.mark.parametrize("version", [0, 1, 6, 0xFFFFFFFF])
def test_unknown_version_is_a_parse_error(version: int) -> None:
    data = version.to_bytes(4, "little") + virtee_milan()[4:]
    with pytest.raises(ParseError, match=f"version {version};"):
        parse_report(data)


def test_turin_tcb_layout_is_used_for_family_0x1a() -> None:
    data = bytearray(virtee_milan())
    data[0:4] = (3).to_bytes(4, "little")
    data[0x188] = 0x1A
    report = parse_report(bytes(data))
    raw = bytes(data[0x180:0x188])
    assert report.reported_tcb.fmc == raw[0]
    assert report.reported_tcb.bootloader == raw[1]
    assert report.reported_tcb.tee == raw[2]
    assert report.reported_tcb.snp == raw[3]
