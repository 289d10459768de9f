"""The comparison table: every (workload, metric) × non-baseline scenario against the baseline.

A metric that is missing in an arm (or whose rows there all failed) keeps its
row: the empty arm has n = 0 and every statistic that needs it is empty, with
a reason. The Mann–Whitney p-values are Holm-adjusted over the whole table.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from snpappliance.report.stats.describe import (
    ALL_STATISTICS,
    CI_LEVEL,
    EMPTY_ARM,
    Arm,
    ArmKey,
    Series,
    arm_mean,
)
from snpappliance.report.stats.effect import (
    DeltaCiMethod,
    asymptotic_delta_ci,
    bootstrap_delta_ci,
    cliffs_delta,
    comparison_rng,
    delta_ci_method,
    magnitude,
)
from snpappliance.report.stats.frames import typed_frame
from snpappliance.report.stats.hypothesis import FloatArray, holm, mann_whitney, welch
from snpappliance.report.workers import run_tasks

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import pandas as pd

COMPARISON_COLUMNS = ("workload", "metric", "baseline", "scenario", "n_baseline", "n_scenario",
                      "median_baseline", "median_scenario", "change_median_pct", "mean_baseline",
                      "mean_scenario", "change_mean_pct", "welch_t", "welch_df", "welch_p",
                      "mwu_u", "mwu_p", "mwu_method", "cliffs_delta", "cliffs_delta_ci_low",
                      "cliffs_delta_ci_high", "cliffs_delta_ci_method", "magnitude",
                      "p_holm")  # fmt: skip

#: The statistics of :data:`COMPARISON_COLUMNS` (everything after the names and counts).
#: Bootstrap draws (resamples × values) of a table above which its comparisons run in
#: parallel processes: about half a second of work, more than starting the workers costs.
PARALLEL_DRAWS = 50_000_000
COMPARISON_STATISTICS = COMPARISON_COLUMNS[COMPARISON_COLUMNS.index("median_baseline") :]
#: (scenario or None, workload, metric, statistic, reason) of an empty cell.
Finding = tuple[str | None, str, str, str, str]


def change_pct(new: float, old: float) -> float:
    """100·(new − old)/old; NaN when old is 0, either is NaN, or the result overflows."""
    if old == 0 or math.isnan(old) or math.isnan(new):
        return math.nan
    change = 100.0 * (new - old) / old
    return change if math.isfinite(change) else math.nan


def _empty_row(n_baseline: int, n_scenario: int) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COMPARISON_STATISTICS, math.nan)
    row.update(
        n_baseline=n_baseline,
        n_scenario=n_scenario,
        mwu_method=None,
        cliffs_delta_ci_method=None,
        magnitude=None,
    )
    return row


def compare(
    scenario: FloatArray, baseline: FloatArray, *, resamples: int, rng: np.random.Generator
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One comparison (without names and p_holm), and (statistic, reason) per empty cell."""
    ns, nb = scenario.size, baseline.size
    row = _empty_row(nb, ns)
    for side, values in (("baseline", baseline), ("scenario", scenario)):
        if values.size:
            row[f"median_{side}"] = float(np.median(values))
            row[f"mean_{side}"] = arm_mean(values)
    if ns == 0 or nb == 0:
        empty = " and ".join(s for s, n in (("baseline", nb), ("scenario", ns)) if n == 0)
        return row, [(ALL_STATISTICS, f"no ok values in the {empty} arm: nothing to compare")]
    reasons: list[tuple[str, str]] = []
    for kind in ("median", "mean"):
        change = change_pct(row[f"{kind}_scenario"], row[f"{kind}_baseline"])
        row[f"change_{kind}_pct"] = change
        if math.isnan(change):
            why = "= 0" if row[f"{kind}_baseline"] == 0 else "too close to 0 for a finite ratio"
            reasons.append(
                (f"change_{kind}_pct", f"relative change undefined: baseline {kind} {why}")
            )
    w = welch(scenario, baseline)
    row.update(welch_t=w.t, welch_df=w.df, welch_p=w.p)
    if w.reason:
        reasons.append(("welch_t, welch_df, welch_p", w.reason))
    u = mann_whitney(scenario, baseline)
    row.update(mwu_u=u.u, mwu_p=u.p, mwu_method=u.method.value if u.method else None)
    if u.reason:
        reasons.append(("mwu_p, mwu_method, p_holm", u.reason))
    delta = cliffs_delta(u.u, ns, nb)
    method = delta_ci_method(ns, nb)
    if method is DeltaCiMethod.BOOTSTRAP:
        low, high = bootstrap_delta_ci(
            scenario, baseline, resamples=resamples, rng=rng, level=CI_LEVEL
        )
    else:
        low, high = asymptotic_delta_ci(scenario, baseline, level=CI_LEVEL)
    label = magnitude(delta)
    row.update(cliffs_delta=delta, cliffs_delta_ci_low=low, cliffs_delta_ci_high=high)
    row["cliffs_delta_ci_method"] = method.value
    row["magnitude"] = label.value if label else None
    return row, reasons


def comparison_table(
    arms: Mapping[ArmKey, Arm],
    *,
    baseline: str,
    scenarios: Sequence[str],
    series: Sequence[Series],
    resamples: int,
    seed: int,
    advance: Callable[[float], None] | None = None,
) -> tuple[pd.DataFrame, list[Finding]]:
    """Series-major rows (a series is a (workload, metric)), scenarios in order; p_holm over
    every row of the table.

    Each comparison's bootstrap draws from its own Generator, seeded from ``seed``
    and (metric, baseline, scenario[, workload]), so a row's CI does not depend on
    which other rows the table has. Comparisons above
    :data:`~snpappliance.report.stats.effect.ASYMPTOTIC_ABOVE_PAIRS` pairs get the
    asymptotic CI instead (``cliffs_delta_ci_method`` says which).
    """
    others = [s for s in scenarios if s != baseline]
    findings: list[Finding] = []
    if not others:
        reason = f"only one scenario ({baseline}): there is nothing to compare with the baseline"
        findings = [(None, w, m, "comparisons", reason) for w, m in series]
    planned: list[tuple[str, str, str]] = []
    tasks: list[Callable[[], tuple[dict[str, Any], list[tuple[str, str]]]]] = []
    draws = 0
    for workload, metric in series:
        base = arms.get((baseline, workload, metric), EMPTY_ARM).values
        for scenario in others:
            values = arms.get((scenario, workload, metric), EMPTY_ARM).values
            # Without a workload the key is the one of results that never had one.
            key = (
                (metric, baseline, scenario, workload) if workload else (metric, baseline, scenario)
            )
            rng = comparison_rng(seed, *key)
            planned.append((workload, metric, scenario))
            tasks.append(partial(compare, values, base, resamples=resamples, rng=rng))
            if delta_ci_method(values.size, base.size) is DeltaCiMethod.BOOTSTRAP:
                draws += resamples * (values.size + base.size)
    # Each comparison has its own Generator, so the rows are the same in any process.
    results = run_tasks(tasks, advance, workers=None if draws >= PARALLEL_DRAWS else 1)
    rows: list[dict[str, Any]] = []
    for (workload, metric, scenario), (row, reasons) in zip(planned, results, strict=True):
        names = {"workload": workload, "metric": metric, "baseline": baseline}
        rows.append({**names, "scenario": scenario, **row})
        findings += [(scenario, workload, metric, stat, why) for stat, why in reasons]
    frame = typed_frame(rows, COMPARISON_COLUMNS)
    frame["p_holm"] = holm(frame["mwu_p"].to_numpy(dtype=np.float64))
    return frame, findings
