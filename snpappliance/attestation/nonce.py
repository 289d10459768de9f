"""The per-run nonce a guest puts into its report's 64-byte REPORT_DATA.

SHA-512 over a domain-separated encoding of the campaign id, the run id and 32
fresh random bytes. The random part is recorded with the run, so anyone can
re-derive the nonce from the record and check it against the report.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

NONCE_SIZE = 64
RANDOMNESS_SIZE = 32
_NONCE_DOMAIN = b"snpapp attestation nonce v1"


def derive_nonce(campaign_id: str, run_id: str, randomness: bytes) -> bytes:
    """SHA-512 over the length-prefixed domain, ids and randomness (64 bytes)."""
    digest = hashlib.sha512()
    for part in (_NONCE_DOMAIN, campaign_id.encode(), run_id.encode(), randomness):
        digest.update(len(part).to_bytes(4, "little"))
        digest.update(part)
    return digest.digest()


@dataclass(frozen=True)
class RunNonce:
    """One run's nonce and what it was derived from."""

    campaign_id: str
    run_id: str
    randomness: bytes
    value: bytes

    @classmethod
    def fresh(cls, campaign_id: str, run_id: str) -> RunNonce:
        """A new nonce with 32 bytes from :mod:`secrets`."""
        randomness = secrets.token_bytes(RANDOMNESS_SIZE)
        return cls(campaign_id, run_id, randomness, derive_nonce(campaign_id, run_id, randomness))

    @classmethod
    def recorded(cls, campaign_id: str, run_id: str, randomness_hex: str) -> RunNonce:
        """The nonce of a run whose random part was recorded as hex."""
        randomness = bytes.fromhex(randomness_hex)
        return cls(campaign_id, run_id, randomness, derive_nonce(campaign_id, run_id, randomness))
