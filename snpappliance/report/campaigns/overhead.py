"""The overhead of each scenario against its campaign's baseline, with a bootstrap 95 % CI.

For one campaign, workload and metric, the overhead of a scenario is the
percentage change of its median against the baseline's median, signed so that
a positive overhead is always *worse*: a throughput (higher is better) that
drops by 5 % and a time (lower is better) that grows by 5 % are both +5 %.
The direction comes from :func:`snpappliance.formats.results.metric_info`.

The CI is a percentile bootstrap: both arms are resampled independently, with
replacement, each to its own size; every replicate is the overhead of the two
resampled medians. Each (campaign, workload, metric, scenario) draws from its
own generator, seeded from the report's seed and a CRC-32 of the campaign's
label and the arm's names, so a number does not depend on the order in which
arms are computed. The replicates are kept: the difference between campaigns
is computed from them.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from snpappliance.formats.results import Direction, metric_info
from snpappliance.report.stats.describe import tukey_fences

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

    from snpappliance.report.campaigns.sources import Campaign

FloatArray = npt.NDArray[np.float64]

#: Bootstrap resamples of every overhead (and so of every difference of overheads).
RESAMPLES = 10_000
CI_LEVEL = 0.95
#: Most values resampled at once (resamples × arm size), to bound memory on large arms.
CHUNK_VALUES = 1 << 22
#: Sorts the arms of a campaign: (workload, metric, scenario).
Key = tuple[str, str, str]


def overhead_pct(baseline: float, scenario: float, direction: Direction) -> float:
    """% change of ``scenario`` against ``baseline``, positive when it is worse."""
    if baseline == 0:
        return math.nan
    change = 100.0 * (scenario / baseline - 1.0)
    return -change if direction is Direction.HIGHER else change


def overhead_array(baseline: FloatArray, scenario: FloatArray, direction: Direction) -> FloatArray:
    """:func:`overhead_pct` element-wise (NaN where the baseline is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        change = 100.0 * (scenario / baseline - 1.0)
    change[baseline == 0] = math.nan
    return -change if direction is Direction.HIGHER else change


def bootstrap_medians(values: FloatArray, resamples: int, rng: np.random.Generator) -> FloatArray:
    """Medians of ``resamples`` with-replacement resamples of ``values``."""
    n = values.size
    out = np.empty(resamples, dtype=np.float64)
    step = max(1, CHUNK_VALUES // n)
    for start in range(0, resamples, step):
        rows = min(step, resamples - start)
        draws = values[rng.integers(0, n, size=(rows, n))]
        out[start : start + rows] = np.median(draws, axis=1)
    return out


def percentile_ci(replicates: FloatArray, level: float = CI_LEVEL) -> tuple[float, float]:
    """The central ``level`` percentile interval (linear interpolation) of the finite replicates."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def arm_rng(seed: int, *key: str) -> np.random.Generator:
    """A generator seeded from ``seed`` and a stable CRC-32 of ``key`` (same in every process)."""
    return np.random.default_rng([seed, zlib.crc32("\x1f".join(key).encode("utf-8"))])


@dataclass(frozen=True, eq=False)
class Overhead:
    """One scenario of one campaign against its baseline, for one workload and metric."""

    campaign: str
    workload: str
    metric: str
    unit: str
    direction: Direction
    baseline: str
    scenario: str
    n_baseline: int
    n_scenario: int
    median_baseline: float
    median_scenario: float
    overhead_pct: float
    ci_low: float
    ci_high: float
    replicates: FloatArray = field(repr=False)

    @property
    def key(self) -> Key:
        return (self.workload, self.metric, self.scenario)


def measure_overhead(
    baseline: FloatArray,
    scenario: FloatArray,
    direction: Direction,
    *,
    resamples: int,
    rng: np.random.Generator,
) -> tuple[float, FloatArray]:
    """(overhead of the medians, its bootstrap replicates); baseline resampled first."""
    point = overhead_pct(float(np.median(baseline)), float(np.median(scenario)), direction)
    base_star = bootstrap_medians(baseline, resamples, rng)
    scen_star = bootstrap_medians(scenario, resamples, rng)
    return point, overhead_array(base_star, scen_star, direction)


def without_outliers(values: FloatArray) -> FloatArray:
    """``values`` inside their Tukey fences (as the single-campaign report filters an arm)."""
    if values.size == 0:
        return values
    low, high = tukey_fences(values)
    return values[(values >= low) & (values <= high)]


def _arms(ok: pd.DataFrame) -> Iterator[tuple[Key, str, FloatArray]]:
    """((workload, metric, scenario), unit, values) of every arm, in order of appearance."""
    groups = ok.groupby(["workload", "metric", "scenario"], observed=True, sort=False)
    for (workload, metric, scenario), rows in groups:
        units = [str(u) for u in rows["unit"].unique() if str(u)]
        values = rows["value"].to_numpy(dtype=np.float64)
        yield (str(workload), str(metric), str(scenario)), (units[0] if units else ""), values


def campaign_overheads(
    campaign: Campaign, *, outlier_filter: bool, seed: int, resamples: int = RESAMPLES
) -> list[Overhead]:
    """Every non-baseline arm of ``campaign`` against the baseline of its workload and metric.

    An arm whose workload and metric the baseline did not measure has no overhead.
    """
    arms = list(_arms(campaign.results.ok))
    baselines = {(w, m): values for (w, m, s), _, values in arms if s == campaign.baseline}
    found = []
    for (workload, metric, scenario), unit, values in arms:
        base = baselines.get((workload, metric))
        if scenario == campaign.baseline or base is None:
            continue
        if outlier_filter:
            base, values = without_outliers(base), without_outliers(values)
        direction = metric_info(metric, unit or None).direction
        rng = arm_rng(seed, campaign.label, workload, metric, scenario)
        point, replicates = measure_overhead(base, values, direction, resamples=resamples, rng=rng)
        low, high = percentile_ci(replicates)
        found.append(
            Overhead(
                campaign=campaign.label,
                workload=workload,
                metric=metric,
                unit=unit or metric_info(metric).unit,
                direction=direction,
                baseline=campaign.baseline,
                scenario=scenario,
                n_baseline=int(base.size),
                n_scenario=int(values.size),
                median_baseline=float(np.median(base)),
                median_scenario=float(np.median(values)),
                overhead_pct=point,
                ci_low=low,
                ci_high=high,
                replicates=replicates,
            )
        )
    return found
