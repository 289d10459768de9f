"""AMD's key distribution service (KDS): the VCEK certificate chain of a report, cached.

``https://kdsintf.amd.com/vcek/v1/{product}/cert_chain`` serves the ASK and ARK
(PEM, in that order); ``…/vcek/v1/{product}/{hwid}?blSPL=…&teeSPL=…&snpSPL=…
&ucodeSPL=…`` serves the VCEK (DER) of one chip at one reported TCB. Both are
cached under ``~/.cache/snpapp/kds/`` (``$XDG_CACHE_HOME`` is honoured), so a
campaign asks the service once per chip and TCB. A failed fetch is not an
error: it is a :class:`KdsUnavailable` with the reason, and the run's signature
is then recorded as not verified.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from snpappliance.attestation.report import TURIN_FAMILY
from snpappliance.fsutil import atomic_write_bytes

if TYPE_CHECKING:
    from snpappliance.attestation.report import AttestationReport

KDS_BASE = "https://kdsintf.amd.com/vcek/v1"
PRODUCTS = ("Milan", "Genoa", "Turin")
TIMEOUT_S = 30.0
#: CPUID family 0x19 (Zen 3/4): models 0x00-0x0F are Milan; 0x10-0x1F (Genoa) and
#: 0xA0-0xAF (Siena, whose VCEKs KDS serves under Genoa) are Genoa.
_ZEN3_4_FAMILY = 0x19

#: A function that returns the body of a URL, raising OSError when it cannot.
Fetch = Callable[[str], bytes]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "snpapp" / "kds"


def http_get(url: str) -> bytes:
    """The body of ``url`` (HTTPS GET); OSError on any network or HTTP failure."""
    request = urllib.request.Request(url, headers={"User-Agent": "snpapp"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            body: bytes = response.read()
            return body
    except http.client.HTTPException as exc:
        msg = f"bad HTTP response: {exc}"
        raise OSError(msg) from exc


def product_of(report: AttestationReport, product: str | None = None) -> str | None:
    """The KDS product name of the chip that signed ``report``.

    Reports of version 3 and later carry the CPUID family and model; version 2
    reports do not, and then ``product`` (the host's, e.g. from its CPU model
    name) is used. None when neither tells.
    """
    family, model = report.cpuid_family, report.cpuid_model
    if family == TURIN_FAMILY:
        return "Turin"
    if family == _ZEN3_4_FAMILY and model is not None:
        if model <= 0x0F:
            return "Milan"
        if 0x10 <= model <= 0x1F or 0xA0 <= model <= 0xAF:
            return "Genoa"
    return product if product in PRODUCTS else None


def chain_url(product: str) -> str:
    return f"{KDS_BASE}/{product}/cert_chain"


def vcek_url(product: str, report: AttestationReport) -> str:
    """The VCEK of the report's chip at its reported TCB (Turin: 8-byte hwid, fmcSPL)."""
    tcb = report.reported_tcb
    params = f"blSPL={tcb.bootloader}&teeSPL={tcb.tee}&snpSPL={tcb.snp}&ucodeSPL={tcb.microcode}"
    if product == "Turin":
        return f"{KDS_BASE}/{product}/{report.chip_id[:8].hex()}?fmcSPL={tcb.fmc}&{params}"
    return f"{KDS_BASE}/{product}/{report.chip_id.hex()}?{params}"


@dataclass(frozen=True)
class VcekChain:
    """AMD's root key (ARK), signing key (ASK) and a chip's endorsement key (VCEK)."""

    ark: x509.Certificate
    ask: x509.Certificate
    vcek: x509.Certificate
    #: Where each came from (URLs or cache paths), for the record.
    origin: str


@dataclass(frozen=True)
class KdsUnavailable:
    """Why the chain could not be had (offline, HTTP error, unusable answer)."""

    reason: str


def load_vcek(der: bytes) -> x509.Certificate:
    """A VCEK from DER. AMD issues VCEKs with serial number 0, which cryptography
    still accepts but warns about; the warning is about AMD's certificates, not
    about what snpapp does, so it is silenced here only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Parsed a serial number", CryptographyDeprecationWarning)
        return x509.load_der_x509_certificate(der)


def load_cert_chain(pem: bytes) -> tuple[x509.Certificate, x509.Certificate]:
    """(ASK, ARK) from KDS's cert_chain body; ValueError unless it holds exactly two."""
    certs = x509.load_pem_x509_certificates(pem)
    if len(certs) != 2:
        msg = f"cert_chain holds {len(certs)} certificates, expected the ASK and the ARK"
        raise ValueError(msg)
    return certs[0], certs[1]


def _cached(path: Path, url: str, fetch: Fetch, check: Callable[[bytes], object]) -> bytes:
    """The cached body of ``url``, fetched and checked (parsed) before it is cached."""
    if path.is_file():
        return path.read_bytes()
    body = fetch(url)
    check(body)
    atomic_write_bytes(path, body)
    return body


def fetch_vcek_chain(
    report: AttestationReport,
    product: str,
    *,
    cache_dir: Path | None = None,
    fetch: Fetch = http_get,
) -> VcekChain | KdsUnavailable:
    """The ARK, ASK and VCEK for ``report`` from the cache or KDS."""
    cache = cache_dir or default_cache_dir()
    tcb = report.reported_tcb
    hwid = report.chip_id[:8].hex() if product == "Turin" else report.chip_id.hex()
    fmc = f"-fmc{tcb.fmc}" if product == "Turin" else ""
    vcek_name = f"{hwid}{fmc}-bl{tcb.bootloader}-tee{tcb.tee}-snp{tcb.snp}-ucode{tcb.microcode}"
    chain_path = cache / product / "cert_chain.pem"
    vcek_path = cache / product / "vcek" / f"{vcek_name}.der"
    url = chain_url(product)
    try:
        ask, ark = load_cert_chain(_cached(chain_path, url, fetch, load_cert_chain))
        url = vcek_url(product, report)
        vcek = load_vcek(_cached(vcek_path, url, fetch, load_vcek))
    except urllib.error.HTTPError as exc:
        return KdsUnavailable(f"AMD KDS answered {exc.code} {exc.reason} for {url}")
    except OSError as exc:
        return KdsUnavailable(f"cannot fetch {url} from AMD KDS: {exc}")
    except ValueError as exc:
        return KdsUnavailable(f"unusable certificate from {url} (or its cached copy): {exc}")
    return VcekChain(ark=ark, ask=ask, vcek=vcek, origin=f"{chain_path}, {vcek_path}")
