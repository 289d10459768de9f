"""The hypothesis tests of the comparison table: Welch's t, Mann–Whitney U, Holm.

Every function takes the *scenario* sample first and the *baseline* sample
second, so signs read "scenario relative to baseline": a positive Welch t or a
U above n₁n₂/2 means the scenario's values tend to be larger. A statistic that
cannot be computed comes back as NaN together with the reason, never as an
exception or a warning.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

FloatArray = npt.NDArray[np.float64]

#: Both samples must be smaller than this (and tie-free) for the exact U distribution.
EXACT_MAX_N = 50

NAN = math.nan


class MwuMethod(StrEnum):
    """How the Mann–Whitney p-value is computed."""

    EXACT = "exact"
    ASYMPTOTIC = "asymptotic"


@contextlib.contextmanager
def quiet_numerics() -> Iterator[None]:
    """Keep numpy/scipy warnings from escaping; callers check results for NaN themselves.

    The warnings silenced here are scipy's "precision loss ... nearly identical
    data" and numpy's invalid-value warnings for degenerate samples; every
    degenerate case is detected explicitly before the call and reported with a
    reason, and a non-finite result is turned into an empty cell with a reason.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@dataclass(frozen=True)
class Welch:
    """Welch's unequal-variance t-test (Welch–Satterthwaite degrees of freedom)."""

    t: float
    df: float
    p: float
    reason: str | None = None

    @classmethod
    def empty(cls, reason: str) -> Welch:
        return cls(NAN, NAN, NAN, reason)


def welch(scenario: FloatArray, baseline: FloatArray) -> Welch:
    """``scipy.stats.ttest_ind(scenario, baseline, equal_var=False)``, guarded."""
    ns, nb = len(scenario), len(baseline)
    if min(ns, nb) < 2:
        return Welch.empty(
            f"Welch's t needs n ≥ 2 in both arms (n_baseline = {nb}, n_scenario = {ns})"
        )
    if np.ptp(scenario) == 0 and np.ptp(baseline) == 0:
        return Welch.empty("Welch's t is undefined: both arms have zero variance")
    with quiet_numerics():
        res = sps.ttest_ind(scenario, baseline, equal_var=False)
    t, df, p = float(res.statistic), float(res.df), float(res.pvalue)
    if not all(math.isfinite(v) for v in (t, df, p)):
        return Welch.empty("Welch's t is undefined: scipy returned a non-finite value")
    return Welch(t, df, p)


@dataclass(frozen=True)
class MannWhitney:
    """Two-sided Mann–Whitney U of the scenario sample against the baseline."""

    u: float
    p: float
    method: MwuMethod | None
    reason: str | None = None


def has_ties(*samples: FloatArray) -> bool:
    """Whether any value occurs more than once in the pooled samples."""
    pooled = np.concatenate(samples)
    return bool(np.unique(pooled).size < pooled.size)


def mwu_method(scenario: FloatArray, baseline: FloatArray) -> MwuMethod:
    """Exact without ties (in the pooled sample) when both n < 50, otherwise asymptotic."""
    small = len(scenario) < EXACT_MAX_N and len(baseline) < EXACT_MAX_N
    return MwuMethod.EXACT if small and not has_ties(scenario, baseline) else MwuMethod.ASYMPTOTIC


def mann_whitney(scenario: FloatArray, baseline: FloatArray) -> MannWhitney:
    """U = #(scenario > baseline) + ½·#ties and its two-sided p-value.

    The asymptotic method uses scipy's tie-corrected variance and a continuity
    correction; the method is always passed explicitly (scipy's ``auto`` would
    pick the normal approximation at n = 20).
    """
    ns, nb = len(scenario), len(baseline)
    if min(ns, nb) == 0:
        reason = f"Mann–Whitney U needs values in both arms (n_baseline = {nb}, n_scenario = {ns})"
        return MannWhitney(NAN, NAN, None, reason)
    pooled = np.concatenate((scenario, baseline))
    if np.ptp(pooled) == 0:
        reason = f"Mann–Whitney p is undefined: all {pooled.size} pooled values are equal"
        return MannWhitney(ns * nb / 2.0, NAN, None, reason)
    method = mwu_method(scenario, baseline)
    with quiet_numerics():
        res = sps.mannwhitneyu(
            scenario, baseline, alternative="two-sided", method=method.value, use_continuity=True
        )
    u, p = float(res.statistic), float(res.pvalue)
    if not math.isfinite(p):
        return MannWhitney(u, NAN, method, "Mann–Whitney p is undefined: scipy returned NaN")
    return MannWhitney(u, p, method)


def holm(pvalues: Sequence[float] | FloatArray) -> FloatArray:
    """Holm's step-down adjustment; NaN p-values stay NaN and are not counted in the family.

    Sorted ascending, the i-th (0-based) of m p-values becomes
    ``max over j ≤ i of min(1, (m − j)·p_(j))``.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    adjusted = np.full(p.shape, NAN)
    present = np.flatnonzero(~np.isnan(p))
    m = present.size
    if m == 0:
        return adjusted
    order = present[np.argsort(p[present], kind="stable")]
    scaled = (m - np.arange(m)) * p[order]
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return adjusted
