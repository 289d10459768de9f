"""Checking a report's signature against AMD's certificate chain (``--verify-signature``).

The chain: the ARK (AMD's root for the product, pinned here by digest) signs
itself and the ASK, the ASK signs the chip's VCEK (RSA-PSS, SHA-384), and the
VCEK, whose hwID and TCB extensions must equal the report's chip id and
reported TCB, signs the report (ECDSA P-384 over bytes 0x0-0x29F; r and s are
stored little-endian, 72 bytes each). Certificate validity dates are not
checked: AMD's ARKs and ASKs run to 2045-2048 and a VCEK to seven years after
issue; what matters here is who signed.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from snpappliance.attestation.kds import (
    KdsUnavailable,
    VcekChain,
    fetch_vcek_chain,
    http_get,
    product_of,
)
from snpappliance.attestation.report import SIGNATURE_ALGO_ECDSA_P384_SHA384, parse_report
from snpappliance.errors import ParseError
from snpappliance.formats.attestation import SignatureCheck, SignatureStatus

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.attestation.guest import GuestAttestation
    from snpappliance.attestation.kds import Fetch
    from snpappliance.attestation.report import AttestationReport

#: SHA-256 of each product's ARK (DER), as KDS serves it in ``cert_chain``; the
#: same bytes are published by google/go-sev-guest and virtee/sev (see
#: tests/fixtures/attestation/README.md).
ARK_SHA256 = {
    "Milan": "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
    "Genoa": "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
    "Turin": "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
}
#: AMD's VCEK extensions (KDS specification, "VCEK certificate extensions").
_OID_BL = "1.3.6.1.4.1.3704.1.3.1"
_OID_TEE = "1.3.6.1.4.1.3704.1.3.2"
_OID_SNP = "1.3.6.1.4.1.3704.1.3.3"
_OID_UCODE = "1.3.6.1.4.1.3704.1.3.8"
_OID_FMC = "1.3.6.1.4.1.3704.1.3.9"
_OID_HWID = "1.3.6.1.4.1.3704.1.4"
_SIGNED_END = 0x2A0
_COMPONENT = 72
#: KEY_INFO.SIGNING_KEY values (0: VCEK, 1: VLEK, 7: none).
_SIGNING_KEY_VCEK = 0


def _failed(detail: str) -> SignatureCheck:
    return SignatureCheck(SignatureStatus.FAILED, detail)


def _not_verified(detail: str) -> SignatureCheck:
    return SignatureCheck(SignatureStatus.NOT_VERIFIED, detail)


def _extension(cert: x509.Certificate, oid: str) -> bytes | None:
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid))
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    return value.value if isinstance(value, x509.UnrecognizedExtension) else None


def _spl(cert: x509.Certificate, oid: str) -> int | None:
    """A security patch level extension: a DER INTEGER of one or two bytes."""
    raw = _extension(cert, oid)
    if raw is None or len(raw) < 3 or raw[0] != 0x02 or raw[1] != len(raw) - 2:
        return None
    return int.from_bytes(raw[2:], "big")


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _ark_digest(ark: x509.Certificate) -> str:
    return hashlib.sha256(ark.public_bytes(serialization.Encoding.DER)).hexdigest()


def verify_report(report: AttestationReport, chain: VcekChain, product: str) -> SignatureCheck:
    """Check ``chain`` (ARK pinned for ``product``) and ``report``'s signature under it."""
    if report.signature_algo != SIGNATURE_ALGO_ECDSA_P384_SHA384:
        return _failed(f"report signature algorithm {report.signature_algo} is not ECDSA P-384")
    if _ark_digest(chain.ark) != ARK_SHA256.get(product):
        return _failed(f"the ARK is not AMD's {product} root (sha256 {_ark_digest(chain.ark)})")
    for child, issuer, what in (
        (chain.ark, chain.ark, "ARK self-signature"),
        (chain.ask, chain.ark, "ASK signature by the ARK"),
        (chain.vcek, chain.ask, "VCEK signature by the ASK"),
    ):
        if not _issued_by(child, issuer):
            return _failed(f"{what} does not verify")
    hwid = _extension(chain.vcek, _OID_HWID)
    chip_id = report.chip_id[:8] if product == "Turin" else report.chip_id
    if hwid != chip_id:
        return _failed("the VCEK's hwID is not the report's chip id")
    tcb = report.reported_tcb
    expected = {_OID_BL: tcb.bootloader, _OID_TEE: tcb.tee, _OID_SNP: tcb.snp}
    expected[_OID_UCODE] = tcb.microcode
    if tcb.fmc is not None:
        expected[_OID_FMC] = tcb.fmc
    for oid, want in expected.items():
        seen = _spl(chain.vcek, oid)
        if seen != want:
            return _failed(f"the VCEK's TCB extension {oid} is {seen}, the report's is {want}")
    key = chain.vcek.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        return _failed("the VCEK's key is not an ECDSA P-384 key")
    sig = report.signature
    r = int.from_bytes(sig[:_COMPONENT], "little")
    s = int.from_bytes(sig[_COMPONENT : 2 * _COMPONENT], "little")
    try:
        key.verify(
            utils.encode_dss_signature(r, s), report.raw[:_SIGNED_END], ec.ECDSA(hashes.SHA384())
        )
    except InvalidSignature:
        return _failed("the report's signature does not verify under its chip's VCEK")
    return SignatureCheck(
        SignatureStatus.VERIFIED,
        f"ARK ({product}) -> ASK -> VCEK -> report verified ({chain.origin})",
    )


def verify_signature(
    guest: GuestAttestation,
    *,
    product: str | None = None,
    cache_dir: Path | None = None,
    fetch: Fetch = http_get,
) -> SignatureCheck:
    """The signature check of a guest's report, fetching the chain from AMD KDS (cached).

    ``product`` (Milan, Genoa, Turin) is needed for version 2 reports, which do
    not name their CPU. Offline or without a certificate the result is
    NOT_VERIFIED with the reason, never VERIFIED.
    """
    if guest.report is None:
        return SignatureCheck(SignatureStatus.NOT_APPLICABLE, "no report")
    try:
        report = parse_report(guest.report)
    except ParseError as exc:
        return SignatureCheck(SignatureStatus.NOT_APPLICABLE, f"malformed report: {exc}")
    if report.signing_key != _SIGNING_KEY_VCEK:
        return _not_verified(
            f"the report is signed with key {report.signing_key} (1: VLEK, 7: none); "
            "snpapp checks VCEK-signed reports only"
        )
    if report.mask_chip_key or not any(report.chip_id):
        return _not_verified("the report masks its chip id, so its VCEK cannot be fetched")
    name = product_of(report, product)
    if name is None:
        return _not_verified(
            "unknown CPU product for a version-2 report: give the host's product "
            "(Milan, Genoa or Turin)"
        )
    chain = fetch_vcek_chain(report, name, cache_dir=cache_dir, fetch=fetch)
    if isinstance(chain, KdsUnavailable):
        return _not_verified(f"signature not verified: {chain.reason}")
    return verify_report(report, chain, name)
