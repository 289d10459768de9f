"""Arms, Tukey's outlier filter and the descriptive statistics of one arm.

An arm is the ``ok`` values of one (scenario, metric). Quantiles are numpy's
linear interpolation, R's ``quantile(type = 7)``; the fences are
``q1 - 1.5 * (q3 - q1)`` and ``q3 + 1.5 * (q3 - q1)`` computed in that order, a
value on a fence is kept, and the filter is applied once, never iterated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats as sps

from snpappliance.report.stats.hypothesis import FloatArray

if TYPE_CHECKING:
    from collections.abc import Sequence

    from snpappliance.report.load import ResultSet

DESCRIPTIVE_COLUMNS = ("scenario", "metric", "n", "n_removed", "mean", "median", "std", "min",
                       "max", "q1", "q3", "iqr", "sem", "ci95_low", "ci95_high")  # fmt: skip
OUTLIER_COLUMNS = ("scenario", "metric", "rep", "run_id", "value", "fence_low", "fence_high")
TUKEY_K = 1.5
CI_LEVEL = 0.95
#: The case study's multiplier for its "CI95 = 1.96·SEM".
NORMAL_MULTIPLIER = 1.96
#: The statistic name of a note that empties a whole row.
ALL_STATISTICS = "all statistics"
_STD_GROUP = "std, sem, ci95_low, ci95_high"


class CiMethod(StrEnum):
    """How the descriptive 95 % CI of the mean is computed."""

    T = "t"
    NORMAL = "normal"


@dataclass(frozen=True)
class Arm:
    """The ok values of one (scenario, metric), in file order, with their run labels."""

    values: FloatArray
    reps: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()


EMPTY_ARM = Arm(np.empty(0, dtype=np.float64))


def collect_arms(
    results: ResultSet, scenarios: Sequence[str], metrics: Sequence[str]
) -> dict[tuple[str, str], Arm]:
    """Every (scenario, metric) in the file, scenario-major; arms without ok rows are empty.

    ``scenarios`` and ``metrics`` give the order (``results.scenarios``/``.metrics``).
    """
    scenario_rank = {s: i for i, s in enumerate(scenarios)}
    metric_rank = {m: i for i, m in enumerate(metrics)}
    present = results.frame[["scenario", "metric"]].drop_duplicates()
    pairs = zip(present["scenario"].tolist(), present["metric"].tolist(), strict=True)
    ordered = sorted(pairs, key=lambda p: (scenario_rank[p[0]], metric_rank[p[1]]))
    arms = dict.fromkeys(ordered, EMPTY_ARM)
    for (scenario, metric), group in results.ok.groupby(["scenario", "metric"], sort=False):
        arms[(str(scenario), str(metric))] = Arm(
            values=group["value"].to_numpy(dtype=np.float64),
            reps=tuple(str(r) for r in group["rep"].tolist()),
            run_ids=tuple(str(r) for r in group["run_id"].tolist()),
        )
    return arms


def tukey_fences(values: FloatArray) -> tuple[float, float]:
    """(Q1 − 1.5·IQR, Q3 + 1.5·IQR) with type-7 quantiles."""
    q1, q3 = np.percentile(values, [25.0, 75.0])
    iqr = q3 - q1
    return float(q1 - TUKEY_K * iqr), float(q3 + TUKEY_K * iqr)


def filter_arm(scenario: str, metric: str, arm: Arm) -> tuple[Arm, list[dict[str, Any]]]:
    """The arm without values outside its Tukey fences, and one outlier row per removed value."""
    if arm.values.size == 0:
        return arm, []
    low, high = tukey_fences(arm.values)
    keep = (arm.values >= low) & (arm.values <= high)
    if keep.all():
        return arm, []
    removed = [
        {
            "scenario": scenario,
            "metric": metric,
            "rep": arm.reps[i],
            "run_id": arm.run_ids[i],
            "value": float(arm.values[i]),
            "fence_low": low,
            "fence_high": high,
        }
        for i in np.flatnonzero(~keep)
    ]
    kept = Arm(
        values=arm.values[keep],
        reps=tuple(r for r, k in zip(arm.reps, keep, strict=True) if k),
        run_ids=tuple(r for r, k in zip(arm.run_ids, keep, strict=True) if k),
    )
    return kept, removed


def arm_mean(values: FloatArray) -> float:
    """The mean; exactly the value for a constant arm (no summation rounding)."""
    return float(values[0]) if np.ptp(values) == 0 else float(np.mean(values))


def ci_multiplier(n: int, method: CiMethod) -> float:
    """t(0.975, n − 1), or the case study's 1.96."""
    if method is CiMethod.NORMAL:
        return NORMAL_MULTIPLIER
    return float(sps.t.ppf(0.5 + CI_LEVEL / 2.0, n - 1))


def describe(values: FloatArray, ci: CiMethod) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """Descriptive statistics of one arm, and (statistic, reason) for each empty one."""
    row = dict.fromkeys(DESCRIPTIVE_COLUMNS[4:], math.nan)
    n = values.size
    if n == 0:
        return row, [(ALL_STATISTICS, "the arm has no values with status ok")]
    q1, median, q3 = (float(q) for q in np.percentile(values, [25.0, 50.0, 75.0]))
    mean = arm_mean(values)
    row.update(mean=mean, median=median, min=float(values.min()), max=float(values.max()))
    row.update(q1=q1, q3=q3, iqr=q3 - q1)
    if n < 2:
        return row, [(_STD_GROUP, f"std needs n ≥ 2 (n = {n})")]
    std = 0.0 if np.ptp(values) == 0 else float(np.std(values, ddof=1))
    sem = std / math.sqrt(n)
    half = ci_multiplier(n, ci) * sem
    row.update(std=std, sem=sem, ci95_low=mean - half, ci95_high=mean + half)
    return row, []
