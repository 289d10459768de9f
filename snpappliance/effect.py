"""Cliff's δ, its magnitude label and its reproducible percentile-bootstrap CI.

δ = P(scenario > baseline) − P(scenario < baseline) = 2U/(n₁n₂) − 1, where U is
the Mann–Whitney U of the scenario sample (#greater + ½·#ties). Positive δ:
the scenario's values tend to be larger.

The bootstrap resamples each arm independently with replacement. Each resample's
U is computed from value counts rather than from all n₁·n₂ pairs: the pooled
values are coded by rank (0..K−1), every resample becomes a count vector over
those K codes, and U = Σ_k s_k·(b_<k + ½·b_k) with b_<k the number of baseline
values below code k. That is O(n + K) per resample and vectorised over blocks of
resamples, so 2 000 resamples of 2 000 values per arm take a fraction of a second.
"""

from __future__ import annotations

import math
import zlib
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Resamples per vectorised block. Fixed: the random stream, and so the CI,
#: depends on it.
BLOCK = 32


class Magnitude(StrEnum):
    """Romano et al. (2006) labels for |δ|."""

    NEGLIGIBLE = "negligible"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


#: Upper bounds (exclusive) of |δ| for each label but the last.
MAGNITUDE_THRESHOLDS = (
    (0.147, Magnitude.NEGLIGIBLE),
    (0.33, Magnitude.SMALL),
    (0.474, Magnitude.MEDIUM),
)


def cliffs_delta(u: float, n_scenario: int, n_baseline: int) -> float:
    """δ = 2U/(n₁n₂) − 1; NaN when an arm is empty."""
    if n_scenario == 0 or n_baseline == 0 or math.isnan(u):
        return math.nan
    return 2.0 * u / (n_scenario * n_baseline) - 1.0


def magnitude(delta: float) -> Magnitude | None:
    """The label of |δ|, or None for an undefined δ."""
    if math.isnan(delta):
        return None
    for bound, label in MAGNITUDE_THRESHOLDS:
        if abs(delta) < bound:
            return label
    return Magnitude.LARGE


def comparison_rng(seed: int, *key: str) -> np.random.Generator:
    """A Generator seeded from ``seed`` and a stable hash (CRC-32) of ``key``.

    The same seed and key always give the same stream, in every process
    (Python's ``hash()`` is salted per process and is not used).
    """
    digest = zlib.crc32("\x1f".join(key).encode("utf-8"))
    return np.random.default_rng([seed, digest])


def _codes(scenario: FloatArray, baseline: FloatArray) -> tuple[IntArray, IntArray, int]:
    pooled = np.concatenate((scenario, baseline))
    unique, inverse = np.unique(pooled, return_inverse=True)
    codes = inverse.astype(np.int64).ravel()
    return codes[: len(scenario)], codes[len(scenario) :], int(unique.size)


def _block_counts(codes: IntArray, draws: IntArray, k: int) -> IntArray:
    """Per-row counts over ``k`` codes of ``codes[draws]`` (one row per resample)."""
    rows = draws.shape[0]
    offset = (np.arange(rows, dtype=np.int64) * k)[:, None]
    flat = (codes[draws] + offset).ravel()
    return np.bincount(flat, minlength=rows * k).reshape(rows, k)


def bootstrap_deltas(
    scenario: FloatArray, baseline: FloatArray, *, resamples: int, rng: np.random.Generator
) -> FloatArray:
    """Cliff's δ of ``resamples`` independent with-replacement resamples of both arms."""
    ns, nb = len(scenario), len(baseline)
    s_codes, b_codes, k = _codes(scenario, baseline)
    deltas = np.empty(resamples, dtype=np.float64)
    for start in range(0, resamples, BLOCK):
        rows = min(BLOCK, resamples - start)
        b_counts = _block_counts(b_codes, rng.integers(0, nb, size=(rows, nb)), k)
        s_counts = _block_counts(s_codes, rng.integers(0, ns, size=(rows, ns)), k)
        # 2·(#below + ½·#equal) = 2·#(≤) − #(=) for every code
        weights = 2 * np.cumsum(b_counts, axis=1) - b_counts
        twice_u = np.einsum("ij,ij->i", s_counts, weights)
        deltas[start : start + rows] = twice_u / (ns * nb) - 1.0
    return deltas


def bootstrap_delta_ci(
    scenario: FloatArray,
    baseline: FloatArray,
    *,
    resamples: int,
    rng: np.random.Generator,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile-bootstrap CI of δ (linear-interpolated percentiles of the resampled δ)."""
    if len(scenario) == 0 or len(baseline) == 0:
        return math.nan, math.nan
    deltas = bootstrap_deltas(scenario, baseline, resamples=resamples, rng=rng)
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(deltas, [tail, 100.0 - tail])
    return float(low), float(high)
