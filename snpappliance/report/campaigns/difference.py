"""The difference of overheads between campaigns: CI, test and Holm adjustment.

Like benchstat's old/new table, the first campaign given is the reference and
every later campaign is compared with it, per (workload, metric, scenario)
that both measured: difference = overhead(campaign) − overhead(reference), in
percentage points (positive: the campaign's overhead is larger, i.e. worse).

The campaigns' data are independent, so the bootstrap distribution of the
difference is that of the replicates' differences, O*(campaign) − O*(reference)
(each overhead's replicates come from :mod:`.overhead`). Its 95 % CI is the
percentile interval. The test of "no difference" inverts it: the two-sided
bootstrap p-value is twice the smaller tail mass at 0,
``2·min(#{D* ≤ 0} + 1, #{D* ≥ 0} + 1) / (B + 1)`` (capped at 1), so p < 0.05
when 0 lies outside the 95 % interval (the +1 correction keeps p above 0 and
moves the boundary by at most 2/(B + 1)). The p-values of every difference in the report form one
family, adjusted with Holm's step-down method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from snpappliance.report.campaigns.overhead import CI_LEVEL, FloatArray, percentile_ci
from snpappliance.report.stats.hypothesis import holm

if TYPE_CHECKING:
    from collections.abc import Sequence

    from snpappliance.report.campaigns.overhead import Overhead


@dataclass(frozen=True)
class Difference:
    """The overhead of ``campaign`` minus that of ``reference`` for one arm."""

    workload: str
    metric: str
    scenario: str
    reference: str
    campaign: str
    overhead_reference: float
    overhead_campaign: float
    difference_pp: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float = math.nan

    def significant(self, alpha: float) -> bool:
        return not math.isnan(self.p_holm) and self.p_holm < alpha


def bootstrap_p(replicates: FloatArray) -> float:
    """Two-sided bootstrap p-value of "the difference is 0" from its finite replicates."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return math.nan
    below = int(np.count_nonzero(finite <= 0)) + 1
    above = int(np.count_nonzero(finite >= 0)) + 1
    return min(1.0, 2.0 * min(below, above) / (finite.size + 1))


def difference_of(reference: Overhead, other: Overhead, level: float = CI_LEVEL) -> Difference:
    """``other``'s overhead minus ``reference``'s, with CI and unadjusted p-value."""
    replicates = other.replicates - reference.replicates
    low, high = percentile_ci(replicates, level)
    return Difference(
        workload=other.workload,
        metric=other.metric,
        scenario=other.scenario,
        reference=reference.campaign,
        campaign=other.campaign,
        overhead_reference=reference.overhead_pct,
        overhead_campaign=other.overhead_pct,
        difference_pp=other.overhead_pct - reference.overhead_pct,
        ci_low=low,
        ci_high=high,
        p_value=bootstrap_p(replicates),
    )


def with_holm(differences: Sequence[Difference]) -> list[Difference]:
    """``differences`` with ``p_holm`` set, all of them one family."""
    adjusted = holm([d.p_value for d in differences])
    return [replace(d, p_holm=float(p)) for d, p in zip(differences, adjusted, strict=True)]


def compare_campaigns(overheads: Sequence[Sequence[Overhead]]) -> list[Difference]:
    """Each later campaign's overheads against the first's, Holm-adjusted together.

    ``overheads[i]`` are the overheads of the i-th campaign; arms that the
    reference did not measure are left out (the report lists them).
    """
    reference = {o.key: o for o in overheads[0]}
    found = [
        difference_of(reference[o.key], o)
        for later in overheads[1:]
        for o in later
        if o.key in reference
    ]
    return with_holm(found)


def shared_keys(overheads: Sequence[Sequence[Overhead]]) -> set[tuple[str, str, str]]:
    """(workload, metric, scenario) that every campaign measured."""
    keys = [{o.key for o in found} for found in overheads]
    return set.intersection(*keys) if keys else set()
