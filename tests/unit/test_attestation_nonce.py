"""The per-run nonce: 64 bytes, fresh each time, re-derivable from what is recorded."""

from __future__ import annotations

from snpappliance.attestation.nonce import NONCE_SIZE, RANDOMNESS_SIZE, RunNonce, derive_nonce


def test_nonce_is_64_bytes_and_fresh() -> None:
    first, second = RunNonce.fresh("c", "r"), RunNonce.fresh("c", "r")
    assert len(first.value) == NONCE_SIZE
    assert len(first.randomness) == RANDOMNESS_SIZE
    assert first.value != second.value
    assert first.randomness != second.randomness


def test_recorded_nonce_rederives_the_same_value() -> None:
    nonce = RunNonce.fresh("campaign-1", "run-7")
    again = RunNonce.recorded("campaign-1", "run-7", nonce.randomness.hex())
    assert again == nonce


def test_nonce_binds_campaign_and_run_unambiguously() -> None:
    fresh = bytes(range(32))
    assert derive_nonce("c", "r", fresh) == derive_nonce("c", "r", fresh)
    assert derive_nonce("c", "r", fresh) != derive_nonce("c", "r2", fresh)
    assert derive_nonce("c", "r", fresh) != derive_nonce("c2", "r", fresh)
    assert derive_nonce("ab", "c", fresh) != derive_nonce("a", "bc", fresh)
    assert derive_nonce("c", "r", fresh) != derive_nonce("c", "r", bytes(32))
