"""Arms, Tukey's outlier filter and the descriptive statistics of one arm.

An arm is the ``ok`` values of one (scenario, workload, metric): two workloads that
report the same metric (two fio jobs, a TCP and a UDP iperf3 run) are separate arms.
Quantiles are numpy's linear interpolation, R's ``quantile(type = 7)``; the fences are
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

from snpappliance.formats.precision import resolution_decimals
from snpappliance.report.stats.hypothesis import FloatArray

if TYPE_CHECKING:
    from collections.abc import Sequence

    from snpappliance.report.load import ResultSet

DESCRIPTIVE_COLUMNS = ("scenario", "workload", "metric", "n", "n_removed", "mean", "median",
                       "std", "min", "max", "q1", "q3", "iqr", "sem", "ci95_low",
                       "ci95_high")  # fmt: skip
#: The statistics of :data:`DESCRIPTIVE_COLUMNS` (NaN when they cannot be computed).
DESCRIPTIVE_STATISTICS = DESCRIPTIVE_COLUMNS[DESCRIPTIVE_COLUMNS.index("mean") :]
OUTLIER_COLUMNS = ("scenario", "workload", "metric", "rep", "run_id", "value", "fence_low",
                   "fence_high")  # fmt: skip
#: An arm's name: (scenario, workload, metric); the workload is "" when the rows name none.
ArmKey = tuple[str, str, str]
#: A measured quantity across scenarios: (workload, metric).
Series = tuple[str, str]
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
    """The ok values of one (scenario, workload, metric), in file order, with their run labels."""

    values: FloatArray
    reps: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()


EMPTY_ARM = Arm(np.empty(0, dtype=np.float64))
#: The columns that name an arm, in :data:`ArmKey` order.
ARM_COLUMNS = ("scenario", "workload", "metric")


def collect_arms(
    results: ResultSet, scenarios: Sequence[str], series: Sequence[Series]
) -> dict[ArmKey, Arm]:
    """Every (scenario, workload, metric) in the file, scenario-major; arms without ok rows
    are empty.

    ``scenarios`` and ``series`` give the order (``results.scenarios``/``.series``).
    """
    scenario_rank = {s: i for i, s in enumerate(scenarios)}
    series_rank = {s: i for i, s in enumerate(series)}
    present = results.frame[list(ARM_COLUMNS)].drop_duplicates()
    keys = zip(*(present[c].astype(str).tolist() for c in ARM_COLUMNS), strict=True)
    ordered = sorted(keys, key=lambda k: (scenario_rank[k[0]], series_rank[(k[1], k[2])]))
    arms = dict.fromkeys(ordered, EMPTY_ARM)
    for key, group in results.ok.groupby(list(ARM_COLUMNS), sort=False, observed=True):
        scenario, workload, metric = (str(k) for k in key)
        arms[(scenario, workload, metric)] = Arm(
            values=group["value"].to_numpy(dtype=np.float64),
            reps=tuple(str(r) for r in group["rep"].tolist()),
            run_ids=tuple(str(r) for r in group["run_id"].tolist()),
        )
    return arms


def resolution_of(values: FloatArray) -> int:
    """Decimal places of the resolution of ``values`` (:mod:`snpappliance.formats.precision`)."""
    unique = np.unique(values[np.isfinite(values)])
    if unique.size == 0:
        return 0
    largest = float(np.abs(unique).max())
    return resolution_decimals(unique.tolist(), largest=largest)


def tukey_fences(values: FloatArray) -> tuple[float, float]:
    """(Q1 − 1.5·IQR, Q3 + 1.5·IQR) with type-7 quantiles."""
    q1, q3 = np.percentile(values, [25.0, 75.0])
    iqr = q3 - q1
    return float(q1 - TUKEY_K * iqr), float(q3 + TUKEY_K * iqr)


def filter_arm(key: ArmKey, arm: Arm) -> tuple[Arm, list[dict[str, Any]]]:
    """The arm without values outside its Tukey fences, and one outlier row per removed value."""
    if arm.values.size == 0:
        return arm, []
    scenario, workload, metric = key
    low, high = tukey_fences(arm.values)
    keep = (arm.values >= low) & (arm.values <= high)
    if keep.all():
        return arm, []
    removed = [
        {
            "scenario": scenario,
            "workload": workload,
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
    row = dict.fromkeys(DESCRIPTIVE_STATISTICS, math.nan)
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
