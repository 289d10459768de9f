"""Signature verification on real reports with their published VCEKs and AMD's chains.

The fixtures (see tests/fixtures/attestation/README.md) are two reports from two
Milan chips, each chip's VCEK as AMD KDS issued it, and the cert_chain KDS
serves for Milan, Genoa and Turin. OpenSSL verified the same chain and
signatures independently before these tests were written.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import serialization

from snpappliance.attestation.guest import GuestAttestation
from snpappliance.attestation.kds import (
    KDS_BASE,
    VcekChain,
    chain_url,
    http_get,
    load_cert_chain,
    load_vcek,
    product_of,
    vcek_url,
)
from snpappliance.attestation.report import parse_report
from snpappliance.attestation.signature import ARK_SHA256, verify_report, verify_signature
from snpappliance.formats.attestation import GuestStatus, SignatureStatus

if TYPE_CHECKING:
    from collections.abc import Callable

FIXTURES = Path(__file__).parent.parent / "fixtures" / "attestation"
VIRTEE = bytes.fromhex((FIXTURES / "virtee-sev-report_milan.hex").read_text().strip())
GSG = (FIXTURES / "go-sev-guest-attestation.bin").read_bytes()
VIRTEE_VCEK = (FIXTURES / "virtee-sev-vcek_milan.der").read_bytes()
GSG_VCEK = (FIXTURES / "go-sev-guest-vcek.der").read_bytes()
MILAN_CHAIN = (FIXTURES / "kds-milan-cert_chain.pem").read_bytes()


def chain(vcek: bytes, pem: bytes = MILAN_CHAIN) -> VcekChain:
    ask, ark = load_cert_chain(pem)
    return VcekChain(ark=ark, ask=ask, vcek=load_vcek(vcek), origin="fixtures")


def flipped(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0x01
    return bytes(out)


@pytest.mark.parametrize(("report", "vcek"), [(VIRTEE, VIRTEE_VCEK), (GSG, GSG_VCEK)])
def test_published_report_verifies_under_its_vcek(report: bytes, vcek: bytes) -> None:
    check = verify_report(parse_report(report), chain(vcek), "Milan")
    assert check.status is SignatureStatus.VERIFIED, check.detail


@pytest.mark.parametrize(
    "offset",
    [0x00 + 4, 0x50, 0x90, 0x1A0, 0x29F, 0x2A0, 0x2A0 + 72],
    ids=["guest_svn", "report_data", "measurement", "chip_id", "last-signed", "r", "s"],
)
def test_a_flipped_byte_fails(offset: int) -> None:
    check = verify_report(parse_report(flipped(VIRTEE, offset)), chain(VIRTEE_VCEK), "Milan")
    assert check.status is SignatureStatus.FAILED
    assert "VCEK" in check.detail


def test_other_chips_vcek_fails_on_the_chip_id() -> None:
    check = verify_report(parse_report(VIRTEE), chain(GSG_VCEK), "Milan")
    assert check.status is SignatureStatus.FAILED
    assert "hwID" in check.detail


def test_reported_tcb_must_match_the_vcek() -> None:
    data = bytearray(VIRTEE)
    data[0x180 + 6] += 1  # reported TCB's SNP SVN, inside the signed area
    check = verify_report(parse_report(bytes(data)), chain(VIRTEE_VCEK), "Milan")
    assert check.status is SignatureStatus.FAILED
    assert "TCB extension 1.3.6.1.4.1.3704.1.3.3 is 8, the report's is 9" in check.detail


def test_another_products_root_is_refused() -> None:
    genoa = (FIXTURES / "kds-genoa-cert_chain.pem").read_bytes()
    check = verify_report(parse_report(VIRTEE), chain(VIRTEE_VCEK, genoa), "Milan")
    assert check.status is SignatureStatus.FAILED
    assert "not AMD's Milan root" in check.detail


@pytest.mark.parametrize("product", ["Milan", "Genoa", "Turin"])
def test_kds_chains_are_amds_and_sign_their_ask(product: str) -> None:
    ask, ark = load_cert_chain((FIXTURES / f"kds-{product.lower()}-cert_chain.pem").read_bytes())
    assert (
        hashlib.sha256(ark.public_bytes(serialization.Encoding.DER)).hexdigest()
        == (ARK_SHA256[product])
    )
    ark.verify_directly_issued_by(ark)
    ask.verify_directly_issued_by(ark)


def test_kds_urls() -> None:
    report = parse_report(VIRTEE)
    assert chain_url("Milan") == f"{KDS_BASE}/Milan/cert_chain"
    assert vcek_url("Milan", report) == (
        f"{KDS_BASE}/Milan/{report.chip_id.hex()}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115"
    )


def test_product_comes_from_cpuid_or_the_caller() -> None:
    v2 = parse_report(VIRTEE)
    assert product_of(v2) is None
    assert product_of(v2, "Genoa") == "Genoa"
    assert product_of(v2, "Rome") is None
    data = bytearray(VIRTEE)
    data[0:4] = (3).to_bytes(4, "little")
    for family, model, name in (
        (0x19, 0x01, "Milan"),
        (0x19, 0x11, "Genoa"),
        (0x1A, 0x02, "Turin"),
    ):
        data[0x188], data[0x189] = family, model
        assert product_of(parse_report(bytes(data)), "Milan") == name


def serving(files: dict[str, bytes], asked: list[str]) -> Callable[[str], bytes]:
    def fetch(url: str) -> bytes:
        asked.append(url)
        return files[url]

    return fetch


def test_verify_signature_fetches_once_then_uses_the_cache(tmp_path: Path) -> None:
    report = parse_report(VIRTEE)
    files = {chain_url("Milan"): MILAN_CHAIN, vcek_url("Milan", report): VIRTEE_VCEK}
    asked: list[str] = []
    guest = GuestAttestation(GuestStatus.REPORT, "configfs-tsm", "", VIRTEE)
    for _ in range(2):
        check = verify_signature(
            guest, product="Milan", cache_dir=tmp_path, fetch=serving(files, asked)
        )
        assert check.status is SignatureStatus.VERIFIED, check.detail
    assert sorted(asked) == sorted(files)
    assert (tmp_path / "Milan" / "cert_chain.pem").read_bytes() == MILAN_CHAIN


def test_unreachable_kds_is_not_verified_never_verified(tmp_path: Path) -> None:
    def refused(url: str) -> bytes:  # a real connection to a port nothing listens on
        return http_get(url.replace("https://kdsintf.amd.com", "https://127.0.0.1:9"))

    guest = GuestAttestation(GuestStatus.REPORT, "sev-guest", "", VIRTEE)
    check = verify_signature(guest, product="Milan", cache_dir=tmp_path, fetch=refused)
    assert check.status is SignatureStatus.NOT_VERIFIED
    assert check.detail.startswith("signature not verified: cannot fetch https://kdsintf.amd.com/")
    assert not any(tmp_path.rglob("*.pem"))


def test_kds_garbage_is_not_cached(tmp_path: Path) -> None:
    guest = GuestAttestation(GuestStatus.REPORT, "sev-guest", "", VIRTEE)
    check = verify_signature(
        guest, product="Milan", cache_dir=tmp_path, fetch=lambda url: b"<html>"
    )
    assert check.status is SignatureStatus.NOT_VERIFIED
    assert "unusable certificate" in check.detail
    assert not any(tmp_path.rglob("*.*"))


def test_no_report_or_no_product_is_not_verified(tmp_path: Path) -> None:
    none = GuestAttestation(GuestStatus.NO_INTERFACE, "none", "", None)
    assert verify_signature(none).status is SignatureStatus.NOT_APPLICABLE
    guest = GuestAttestation(GuestStatus.REPORT, "sev-guest", "", VIRTEE)
    check = verify_signature(guest, cache_dir=tmp_path, fetch=lambda url: b"")
    assert check.status is SignatureStatus.NOT_VERIFIED
    assert "unknown CPU product" in check.detail
