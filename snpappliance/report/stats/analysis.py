"""The statistics of ``snpapp report``, defined so that R reproduces them.

Per (scenario, workload, metric) arm, on the rows whose status is ``ok`` (rows that name
no workload form the workload ""; two workloads reporting the same metric never pool):

* Outliers: Tukey fences Q1 − 1.5·IQR and Q3 + 1.5·IQR with quantiles by linear
  interpolation (numpy's default, R ``quantile(type = 7)``); values on a fence
  are kept; the filter is applied once per arm, never iterated.
* Descriptive statistics on the (filtered) arm: n, n_removed, mean, median,
  std (ddof = 1), min, max, q1, q3, iqr (type 7), sem = std/√n and the 95 %
  CI mean ± t(0.975, n − 1)·sem (``CiMethod.T``) or mean ± 1.96·sem
  (``CiMethod.NORMAL``).
* One comparison per series (workload, metric) and non-baseline scenario: medians and means of
  both arms and their relative change (%), Welch's t-test, the two-sided
  Mann–Whitney U of the scenario against the baseline (exact without ties and
  with both n < 50, otherwise asymptotic with tie and continuity correction),
  Cliff's δ = 2U/(n₁n₂) − 1 with a 95 % CI and its magnitude label, and the
  Mann–Whitney p-values Holm-adjusted over the whole table. The CI of δ is a
  percentile bootstrap up to n₁·n₂ = 25 000 000 pairs (5 000 runs in each arm)
  and above that Cliff's (1993) asymptotic CI with the unbiased variance, as R
  ``effsize::cliff.delta`` computes it; ``cliffs_delta_ci_method`` names the one
  used in each row.

Degenerate data never raises: a statistic that cannot be computed is NaN in
the frames (an empty cell in the files) and a :class:`Note` says why. A metric
that is missing in a scenario (or whose rows all failed) still gets its
comparison row: the empty arm has n = 0 and every statistic that needs it is
empty. ``alpha`` is the significance level applied to the Holm-adjusted
p-values (``significant`` in ``summary.json``); the CIs are always 95 %.

The same numbers in R, for a scenario sample ``s`` and a baseline sample ``b``::

    q <- quantile(x, c(0.25, 0.75), type = 7)          # Tukey fences, per arm
    x <- x[x >= q[1] - 1.5 * (q[2] - q[1]) & x <= q[2] + 1.5 * (q[2] - q[1])]
    mean(x) + c(-1, 1) * qt(0.975, length(x) - 1) * sd(x) / sqrt(length(x))
    t.test(s, b, var.equal = FALSE)                    # welch_t, welch_df, welch_p
    wilcox.test(s, b, correct = TRUE)                  # W = mwu_u; R's default exact
                                                       # rule is ours: no ties, n < 50
    2 * W / (length(s) * length(b)) - 1                # cliffs_delta
    effsize::cliff.delta(s, b)$conf.int                # CI when ..._ci_method is asymptotic
    p.adjust(p, method = "holm")                       # p_holm (NA left out)

The bootstrap CI of δ is reproducible from snpapp's seed with numpy's PCG64
generator; R's generator gives a different (equally valid) interval.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from snpappliance import __version__
from snpappliance.errors import ConfigError, InputError, ReportError
from snpappliance.fsutil import atomic_write_text, ensure_writable_dir
from snpappliance.report.stats.compare import COMPARISON_COLUMNS, Finding, comparison_table
from snpappliance.report.stats.describe import (
    CI_LEVEL,
    DESCRIPTIVE_COLUMNS,
    OUTLIER_COLUMNS,
    TUKEY_K,
    Arm,
    ArmKey,
    CiMethod,
    Series,
    collect_arms,
    describe,
    filter_arm,
    resolution_of,
)
from snpappliance.report.stats.effect import ASYMPTOTIC_ABOVE_PAIRS
from snpappliance.report.stats.frames import csv_text, records, typed_frame

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.report.load import ResultSet

__all__ = [
    "COMPARISON_COLUMNS",
    "DESCRIPTIVE_COLUMNS",
    "EMULATED_LABEL",
    "EXCLUDED_COLUMNS",
    "OUTLIER_COLUMNS",
    "STATS_VERSION",
    "Analysis",
    "CiMethod",
    "Note",
    "NoteTable",
    "Series",
    "StatsOptions",
    "analyse",
    "resolve_baseline",
    "write_stats",
]

#: Called with the number of comparisons just computed (for a progress bar).
Advance = Callable[[float], None]

#: Bumped whenever a statistic's definition changes. 2: the CI of δ is asymptotic above
#: ASYMPTOTIC_ABOVE_PAIRS pairs, and the comparisons gain ``cliffs_delta_ci_method``.
#: 3: arms are (scenario, workload, metric); every table gains a ``workload`` column.
STATS_VERSION = 3
EMULATED_LABEL = "local emulated profile — not an SNP measurement"
EXCLUDED_COLUMNS = ("scenario", "workload", "metric", "status", "count")


class NoteTable(StrEnum):
    """The table a :class:`Note` is about."""

    DESCRIPTIVE = "descriptive"
    COMPARISONS = "comparisons"
    COMPARISONS_UNFILTERED = "comparisons_unfiltered"


@dataclass(frozen=True)
class StatsOptions:
    outlier_filter: bool = True
    ci: CiMethod = CiMethod.T
    bootstrap_resamples: int = 2000
    seed: int = 20250713
    alpha: float = 0.05

    def __post_init__(self) -> None:
        choices = ", ".join(m.value for m in CiMethod)
        if self.ci not in choices.split(", "):
            msg = f"unknown CI method {self.ci!r}"
            raise ConfigError(msg, hint=f"use one of: {choices}")
        object.__setattr__(self, "ci", CiMethod(self.ci))
        if self.bootstrap_resamples < 1:
            msg = f"bootstrap resamples must be at least 1, not {self.bootstrap_resamples}"
            raise ConfigError(
                msg,
                hint="the default, 2000, gives a stable 95 % CI",
            )
        if self.seed < 0:
            msg = f"the bootstrap seed must be ≥ 0, not {self.seed}"
            raise ConfigError(msg)
        if not 0.0 < self.alpha < 1.0:
            msg = f"alpha must lie strictly between 0 and 1, not {self.alpha}"
            raise ConfigError(msg)


@dataclass(frozen=True)
class Note:
    """Why a statistic is empty (``scenario`` is None for a note about a whole series)."""

    scenario: str | None
    metric: str
    statistic: str
    reason: str
    table: NoteTable = NoteTable.COMPARISONS
    workload: str = ""


@dataclass(frozen=True, eq=False)
class Analysis:
    """Every statistic of a result set; frames have exactly the ``*_COLUMNS`` columns."""

    baseline: str
    options: StatsOptions
    descriptive: pd.DataFrame
    comparisons: pd.DataFrame
    comparisons_unfiltered: pd.DataFrame
    outliers: pd.DataFrame
    notes: tuple[Note, ...]
    excluded: pd.DataFrame
    scenarios: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    units: Mapping[str, str] = field(default_factory=dict)
    emulated: bool = False
    #: Every (workload, metric) in report order: grouped by workload ("" = none named).
    series: tuple[Series, ...] = ()
    #: Decimal places of each series' resolution, over its ok values in every scenario
    #: (:mod:`snpappliance.formats.precision`): the digits the report shows.
    resolution: Mapping[Series, int] = field(default_factory=dict)

    def decimals(self, workload: str, metric: str) -> int | None:
        """The decimals of a series, None when it has no ok values."""
        return self.resolution.get((workload, metric))

    def summary(self) -> dict[str, Any]:
        """Everything a machine needs, JSON-serialisable (NaN → None)."""
        options = self.options
        return {
            "stats_version": STATS_VERSION,
            "snpapp_version": __version__,
            "baseline": self.baseline,
            "emulated": self.emulated,
            "profile_label": EMULATED_LABEL if self.emulated else None,
            "options": {
                "outlier_filter": options.outlier_filter,
                "ci": options.ci.value,
                "ci_level": CI_LEVEL,
                "tukey_k": TUKEY_K,
                "bootstrap_resamples": options.bootstrap_resamples,
                "cliffs_delta_asymptotic_above_pairs": ASYMPTOTIC_ABOVE_PAIRS,
                "seed": options.seed,
                "alpha": options.alpha,
            },
            "scenarios": list(self.scenarios),
            "metrics": list(self.metrics),
            "units": dict(self.units),
            "series": [
                {"workload": w, "metric": m, "resolution_decimals": self.resolution.get((w, m))}
                for w, m in self.series
            ],
            "arms": records(self.descriptive[["scenario", "workload", "metric", "n", "n_removed"]]),
            "comparisons": self._comparison_records(self.comparisons),
            "comparisons_unfiltered": self._comparison_records(self.comparisons_unfiltered),
            "outliers_removed": len(self.outliers),
            "notes": [
                {
                    "scenario": n.scenario,
                    "workload": n.workload,
                    "metric": n.metric,
                    "statistic": n.statistic,
                    "reason": n.reason,
                    "table": n.table.value,
                }
                for n in self.notes
            ],
            "excluded": records(self.excluded),
        }

    def _comparison_records(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        rows = records(frame)
        for row in rows:
            p = row["p_holm"]
            row["significant"] = None if p is None else bool(p < self.options.alpha)
        return rows


def resolve_baseline(results: ResultSet, baseline: str | None) -> str:
    """Explicit baseline → the campaign's declared one → the first scenario in the file."""
    scenarios = results.scenarios
    if not scenarios:
        msg = f"{results.source} has no results to analyse"
        raise InputError(msg, hint="it needs data rows")
    listed = ", ".join(scenarios)
    if baseline is not None:
        if baseline not in scenarios:
            msg = (
                f"baseline {baseline!r} is not a scenario in {results.source} (scenarios: {listed})"
            )
            raise InputError(
                msg,
                hint="pass --baseline with one of the scenarios listed",
            )
        return baseline
    declared = results.campaign.baseline if results.campaign else None
    if declared is None:
        return scenarios[0]
    if declared not in scenarios:
        msg = (
            f"the campaign declares baseline {declared!r}, which has no rows in "
            f"{results.source} (scenarios: {listed})"
        )
        raise InputError(
            msg,
            hint="pass --baseline with one of the scenarios listed",
        )
    return declared


def _units(results: ResultSet, metrics: Sequence[str]) -> dict[str, str]:
    """The first non-empty unit of each metric ('' when the file gives none)."""
    frame = results.frame
    given = frame.loc[frame["unit"] != "", ["metric", "unit"]].drop_duplicates("metric")
    units = dict(zip(given["metric"].tolist(), given["unit"].tolist(), strict=True))
    return {m: str(units.get(m, "")) for m in metrics}


def _excluded(results: ResultSet) -> pd.DataFrame:
    counts = results.not_ok.groupby(
        ["scenario", "workload", "metric", "status"], sort=False, observed=True
    ).size()
    return typed_frame(counts.reset_index(name="count").to_dict("records"), EXCLUDED_COLUMNS)


def planned_comparisons(results: ResultSet, baseline: str | None, options: StatsOptions) -> int:
    """How many comparisons :func:`analyse` computes (twice each with the outlier filter on)."""
    others = (
        max(len(results.scenarios) - 1, 0)
        if baseline is None or baseline in results.scenarios
        else 0
    )
    return others * len(results.series) * (2 if options.outlier_filter else 1)


def _comparisons(
    arms: Mapping[ArmKey, Arm],
    layout: tuple[tuple[str, ...], tuple[Series, ...]],
    baseline: str,
    options: StatsOptions,
    table: NoteTable,
    advance: Advance | None,
) -> tuple[pd.DataFrame, list[Note]]:
    frame, findings = comparison_table(
        arms,
        baseline=baseline,
        scenarios=layout[0],
        series=layout[1],
        resamples=options.bootstrap_resamples,
        seed=options.seed,
        advance=advance,
    )
    return frame, _notes(findings, table)


def _notes(findings: list[Finding], table: NoteTable) -> list[Note]:
    return [Note(s, m, stat, reason, table, w) for s, w, m, stat, reason in findings]


def analyse(
    results: ResultSet,
    *,
    baseline: str | None = None,
    options: StatsOptions = StatsOptions(),
    advance: Advance | None = None,
) -> Analysis:
    """All statistics of a result set (see the module docstring for their definitions).

    ``advance`` is called after each comparison (see :func:`planned_comparisons`).
    """
    chosen = resolve_baseline(results, baseline)
    layout = scenarios, series = tuple(results.scenarios), tuple(results.series)
    metrics = tuple(results.metrics)
    raw = collect_arms(results, scenarios, series)
    filtered: dict[ArmKey, Arm] = {}
    outliers: list[dict[str, Any]] = []
    descriptive: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for key, arm in raw.items():
        scenario, workload, metric = key
        kept, removed = filter_arm(key, arm) if options.outlier_filter else (arm, [])
        filtered[key] = kept
        outliers += removed
        row, reasons = describe(kept.values, options.ci)
        counts = {"n": kept.values.size, "n_removed": len(removed)}
        names = {"scenario": scenario, "workload": workload, "metric": metric}
        descriptive.append({**names, **counts, **row})
        findings += [(scenario, workload, metric, stat, reason) for stat, reason in reasons]
    notes = _notes(findings, NoteTable.DESCRIPTIVE)
    comparisons, more = _comparisons(
        filtered, layout, chosen, options, NoteTable.COMPARISONS, advance
    )
    notes += more
    unfiltered = comparisons.copy()
    if options.outlier_filter:
        table = NoteTable.COMPARISONS_UNFILTERED
        unfiltered, more = _comparisons(raw, layout, chosen, options, table, advance)
        notes += more
    return Analysis(
        baseline=chosen,
        options=options,
        descriptive=typed_frame(descriptive, DESCRIPTIVE_COLUMNS),
        comparisons=comparisons,
        comparisons_unfiltered=unfiltered,
        outliers=typed_frame(outliers, OUTLIER_COLUMNS),
        notes=tuple(notes),
        excluded=_excluded(results),
        scenarios=scenarios,
        metrics=metrics,
        units=_units(results, metrics),
        emulated=bool(results.campaign and results.campaign.emulated),
        series=series,
        resolution=_resolution(raw),
    )


def _resolution(arms: Mapping[ArmKey, Arm]) -> dict[Series, int]:
    """Decimals of each series' resolution over all of its arms' ok values."""
    pooled: dict[Series, list[Any]] = {}
    for (_, workload, metric), arm in arms.items():
        if arm.values.size:
            pooled.setdefault((workload, metric), []).append(arm.values)
    return {key: resolution_of(np.concatenate(parts)) for key, parts in pooled.items()}


def write_stats(analysis: Analysis, out_dir: Path) -> None:
    """Write ``out_dir/stats/``: descriptive.csv, comparisons.csv, outliers.csv, summary.json.

    ``comparisons_unfiltered.csv`` (the comparisons on the raw data) is written
    alongside. Floats keep full precision; an empty statistic is an empty cell.
    """
    stats_dir = ensure_writable_dir(out_dir / "stats")
    tables = (
        ("descriptive.csv", analysis.descriptive, DESCRIPTIVE_COLUMNS),
        ("comparisons.csv", analysis.comparisons, COMPARISON_COLUMNS),
        ("comparisons_unfiltered.csv", analysis.comparisons_unfiltered, COMPARISON_COLUMNS),
        ("outliers.csv", analysis.outliers, OUTLIER_COLUMNS),
    )
    for name, frame, columns in tables:
        atomic_write_text(stats_dir / name, csv_text(frame, columns))
    summary = analysis.summary()
    _check_finite(summary, "summary")
    text = json.dumps(summary, indent=2, allow_nan=False, ensure_ascii=False)
    atomic_write_text(stats_dir / "summary.json", text + "\n")


def _check_finite(value: Any, where: str) -> None:
    """Refuse to write a JSON document with a non-finite number (JSON has none)."""
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"the statistic {where} is {value}, which JSON cannot hold"
        raise ReportError(
            msg,
            hint="check the input values of that metric for extreme magnitudes",
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_finite(item, f"{where}[{i}]")
