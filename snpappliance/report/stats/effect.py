"""Cliff's δ, its magnitude label and its CI: a reproducible percentile bootstrap or,
for very large arms, the asymptotic interval of Cliff (1993) as R ``effsize`` computes it.

Which CI a comparison gets depends on n₁·n₂ only (:func:`delta_ci_method`): up to
:data:`ASYMPTOTIC_ABOVE_PAIRS` pairs the bootstrap, above it the asymptotic CI.

δ = P(scenario > baseline) − P(scenario < baseline) = 2U/(n₁n₂) − 1, where U is
the Mann–Whitney U of the scenario sample (#greater + ½·#ties). Positive δ:
the scenario's values tend to be larger.

The bootstrap resamples each arm independently with replacement. Each resample's
U is computed from counts rather than from all n₁·n₂ pairs: the baseline is sorted
once and a baseline resample becomes a count vector over its sorted positions,
whose running sum C gives, for every original scenario value s_j, the number of
resampled baseline values below s_j (C at lo_j = #{b < s_j}) and at or below it
(C at hi_j = #{b ≤ s_j}). With c_j the count of s_j in the scenario resample,
2U = Σ_j c_j·(C[lo_j] + C[hi_j]). That is O(n₁ + n₂) per resample, all in
one-dimensional arrays (two-dimensional fancy indexing was ten times slower).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

FloatArray = npt.NDArray[np.float64]

#: Resamples per vectorised block. Fixed: the random stream, and so the CI,
#: depends on it.
BLOCK = 16


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


def bootstrap_deltas(
    scenario: FloatArray, baseline: FloatArray, *, resamples: int, rng: np.random.Generator
) -> FloatArray:
    """Cliff's δ of ``resamples`` independent with-replacement resamples of both arms.

    Per block of resamples, the baseline indices (into the sorted baseline) are
    drawn first, then the scenario indices (into the scenario in its given order).
    Each resample is then counted on its own, in one-dimensional arrays: 2U is the
    sum, over the drawn scenario indices j, of C[lo_j] + C[hi_j].
    """
    ns, nb = len(scenario), len(baseline)
    ordered = np.sort(baseline)
    lo = np.searchsorted(ordered, scenario, side="left")
    hi = np.searchsorted(ordered, scenario, side="right")
    deltas = np.empty(resamples, dtype=np.float64)
    running = np.zeros((BLOCK, nb + 1), dtype=np.int64)
    offsets = (np.arange(BLOCK, dtype=np.int64) * nb)[:, None]
    for start in range(0, resamples, BLOCK):
        rows = min(BLOCK, resamples - start)
        b_draws = rng.integers(0, nb, size=(rows, nb))
        s_draws = rng.integers(0, ns, size=(rows, ns))
        # Every resample of the block at once: row r's counts are bins r·nb … r·nb + nb − 1.
        counts = np.bincount((b_draws + offsets[:rows]).ravel(), minlength=rows * nb)
        np.cumsum(counts.reshape(rows, nb), axis=1, out=running[:rows, 1:])
        table = running[:rows, lo] + running[:rows, hi]
        twice_u = np.take_along_axis(table, s_draws, axis=1).sum(axis=1)
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


class DeltaCiMethod(StrEnum):
    """How the CI of δ of one comparison was computed."""

    BOOTSTRAP = "bootstrap"
    ASYMPTOTIC = "asymptotic"


#: Above this many pairs n₁·n₂ (both arms larger than 5 000 runs when equal), the CI of δ
#: is the asymptotic one: the bootstrap would draw resamples·(n₁ + n₂) random integers
#: (2000 · 200 000 = 4·10⁸ for two arms of 100 000). Real campaigns (tens to a few
#: thousand runs per arm, each a VM reboot) stay below it and keep the bootstrap.
ASYMPTOTIC_ABOVE_PAIRS = 5000 * 5000


def delta_ci_method(n_scenario: int, n_baseline: int) -> DeltaCiMethod:
    """Bootstrap up to :data:`ASYMPTOTIC_ABOVE_PAIRS` pairs (or with an arm of one), else
    asymptotic."""
    pairs = n_scenario * n_baseline
    if pairs > ASYMPTOTIC_ABOVE_PAIRS and min(n_scenario, n_baseline) >= 2:
        return DeltaCiMethod.ASYMPTOTIC
    return DeltaCiMethod.BOOTSTRAP


@dataclass(frozen=True)
class Dominance:
    """Sums of squares of Cliff's dominance matrix d_ij = sign(s_i − b_j), without the matrix.

    ``adjusted`` is δ, moved to ±(n₁n₂ − 1)/(n₁n₂) when |δ| = 1 (as ``effsize`` does, so
    that the variance is not zero); ``ss_rows`` = Σᵢ(dᵢ. − δ)², ``ss_cols`` = Σⱼ(d.ⱼ − δ)²
    and ``ss_cells`` = Σᵢⱼ(dᵢⱼ − δ)², all about ``adjusted``.
    """

    n_scenario: int
    n_baseline: int
    delta: float
    adjusted: float
    ss_rows: float
    ss_cols: float
    ss_cells: float

    def unbiased_variance(self) -> float:
        """Cliff's (1993) unbiased estimate of var(δ), never below 0.

        (n₂²·Σ(dᵢ. − δ)² + n₁²·Σ(d.ⱼ − δ)² − Σ(dᵢⱼ − δ)²) / (n₁n₂(n₁ − 1)(n₂ − 1)), the
        default of R ``effsize::cliff.delta`` (``use.unbiased = TRUE``). It can come out
        slightly negative for nearly disjoint samples; it is then 0 (``effsize`` gives NaN).
        """
        n1, n2 = float(self.n_scenario), float(self.n_baseline)
        numerator = n2 * n2 * self.ss_rows + n1 * n1 * self.ss_cols - self.ss_cells
        return max(numerator / (n1 * n2 * (n1 - 1.0) * (n2 - 1.0)), 0.0)


def dominance(scenario: FloatArray, baseline: FloatArray) -> Dominance:
    """The :class:`Dominance` of two non-empty arms, from sorted arms in O((n₁ + n₂)·log n).

    Row i of the matrix is dᵢ. = (#{b < sᵢ} − #{b > sᵢ})/n₂, column j is
    d.ⱼ = (#{s > bⱼ} − #{s < bⱼ})/n₁, and Σᵢⱼ(dᵢⱼ − δ)² follows from the counts of
    pairs with dᵢⱼ = 1, 0 and −1 (the "row partitioning" of ``effsize``).
    """
    ns, nb = scenario.size, baseline.size
    s_sorted, b_sorted = np.sort(scenario), np.sort(baseline)
    below = np.searchsorted(b_sorted, scenario, side="left")
    above = nb - np.searchsorted(b_sorted, scenario, side="right")
    s_below = np.searchsorted(s_sorted, baseline, side="left")
    s_above = ns - np.searchsorted(s_sorted, baseline, side="right")
    pairs = ns * nb
    greater, less = int(below.sum()), int(above.sum())
    delta = (greater - less) / pairs
    adjusted = delta * (pairs - 1) / pairs if abs(delta) == 1.0 else delta
    rows = (below - above) / nb
    cols = (s_above - s_below) / ns
    ss_cells = (
        greater * (1.0 - adjusted) ** 2
        + (pairs - greater - less) * adjusted**2
        + less * (1.0 + adjusted) ** 2
    )
    return Dominance(
        n_scenario=ns,
        n_baseline=nb,
        delta=delta,
        adjusted=adjusted,
        ss_rows=float(np.sum((rows - adjusted) ** 2)),
        ss_cols=float(np.sum((cols - adjusted) ** 2)),
        ss_cells=float(ss_cells),
    )


def cliff_interval(delta: float, variance: float, z: float) -> tuple[float, float]:
    """Cliff's (1993) asymmetric CI of δ for a variance and a critical value z.

    (δ − δ³ ∓ z·s·√((1 − δ²)² + z²s²)) / (1 − δ² + z²s²) with s² = ``variance``: it
    stays inside [−1, 1], unlike δ ± z·s.
    """
    spread = z * math.sqrt(variance) * math.sqrt((1.0 - delta**2) ** 2 + z * z * variance)
    denominator = 1.0 - delta**2 + z * z * variance
    return (delta - delta**3 - spread) / denominator, (delta - delta**3 + spread) / denominator


def asymptotic_delta_ci(
    scenario: FloatArray, baseline: FloatArray, *, level: float = 0.95
) -> tuple[float, float]:
    """The CI of δ of R ``effsize::cliff.delta(scenario, baseline)`` with its defaults.

    Cliff's asymmetric interval (:func:`cliff_interval`) around δ with Cliff's unbiased
    variance (:meth:`Dominance.unbiased_variance`) and z the Student t quantile with
    n₁ + n₂ − 2 degrees of freedom (Feng & Cliff 2004); an end is ±1 when δ is ±1.

    References: N. Cliff, "Dominance statistics: Ordinal analyses to answer ordinal
    questions", Psychological Bulletin 114(3):494–509, 1993; J. D. Long, D. Feng and
    N. Cliff, "Ordinal analysis of behavioral data", Handbook of Psychology vol. 2,
    Wiley, 2003; D. Feng and N. Cliff, "Monte Carlo evaluation of ordinal d with
    improved confidence interval", J. Modern Applied Statistical Methods 3(2), 2004;
    M. Torchiano, R package ``effsize``, ``cliff.delta`` (use.unbiased = TRUE,
    use.normal = FALSE).
    """
    moments = dominance(scenario, baseline)
    z = float(sps.t.ppf(0.5 + level / 2.0, scenario.size + baseline.size - 2))
    low, high = cliff_interval(moments.adjusted, moments.unbiased_variance(), z)
    if moments.delta == 1.0:
        high = 1.0
    if moments.delta == -1.0:
        low = -1.0
    return low, high
