"""Per-host views of results measured on several hosts, next to the pooled ones.

When the ``host`` column holds more than one distinct non-empty value, the
report keeps every pooled statistic and adds each host on its own: the same
analysis run on that host's rows alone, against the pooled baseline, with its
own Holm family (its p-values are adjusted over that host's comparisons
only). Their tables go to ``stats/per_host/<host>/descriptive.csv`` and
``comparisons.csv`` with the pooled files' columns. Results from one host give
no per-host views at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from snpappliance.formats.names import file_slug
from snpappliance.fsutil import atomic_write_text, ensure_writable_dir
from snpappliance.report.context import (
    Row,
    comparison_rows,
    descriptive_rows,
    records,
    workload_label,
)
from snpappliance.report.load import ResultSet
from snpappliance.report.stats.analysis import Advance, Analysis, StatsOptions, analyse
from snpappliance.report.stats.compare import COMPARISON_COLUMNS
from snpappliance.report.stats.describe import DESCRIPTIVE_COLUMNS
from snpappliance.report.stats.frames import csv_text
from snpappliance.report.text import DASH, fmt_at, fmt_int, fmt_p, fmt_pct, pct_digits

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

PER_HOST_DIR = "per_host"
POOLED = "all hosts (pooled)"


@dataclass(frozen=True, eq=False)
class HostView:
    """One host's statistics; ``analysis`` is None when the host has no baseline rows."""

    host: str
    rows: int
    analysis: Analysis | None
    why_empty: str = ""

    @property
    def directory(self) -> str:
        return file_slug(self.host)


def hosts_of(results: ResultSet) -> list[str]:
    """The distinct non-empty hosts in file order, or [] when there are fewer than two."""
    hosts = [h for h in dict.fromkeys(results.frame["host"]) if h and h != "nan"]
    return hosts if len(hosts) > 1 else []


def host_results(results: ResultSet, host: str) -> ResultSet:
    """The rows of ``host`` only, as a result set of their own."""
    frame = results.frame[results.frame["host"] == host].reset_index(drop=True)
    return ResultSet(frame=frame, source=results.source, campaign=results.campaign)


def host_views(
    results: ResultSet, baseline: str, options: StatsOptions, advance: Advance | None = None
) -> list[HostView]:
    """Each host's own analysis against the pooled ``baseline`` ([] for one host)."""
    views = []
    for host in hosts_of(results):
        mine = host_results(results, host)
        if baseline not in mine.scenarios:
            why = f"host {host} has no rows of the baseline {baseline}: nothing to compare"
            views.append(HostView(host, len(mine.frame), None, why))
            continue
        views.append(
            HostView(
                host,
                len(mine.frame),
                analyse(mine, baseline=baseline, options=options, advance=advance),
            )
        )
    return views


def write_host_stats(views: Sequence[HostView], out_dir: Path) -> None:
    """``out_dir/stats/per_host/<host>/``: descriptive.csv and comparisons.csv of each host."""
    for view in views:
        if view.analysis is None:
            continue
        directory = ensure_writable_dir(out_dir / "stats" / PER_HOST_DIR / view.directory)
        atomic_write_text(
            directory / "descriptive.csv", csv_text(view.analysis.descriptive, DESCRIPTIVE_COLUMNS)
        )
        atomic_write_text(
            directory / "comparisons.csv", csv_text(view.analysis.comparisons, COMPARISON_COLUMNS)
        )


def _changes(analysis: Analysis) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (str(r["workload"] or ""), str(r["metric"]), str(r["scenario"])): r
        for r in records(analysis.comparisons)
    }


def _median_row(
    analysis: Analysis,
    label: str,
    series: tuple[str, str],
    scenario: str,
    found: tuple[Any, Any, int | None],
) -> Row:
    workload, metric = series
    n, median, digits = found
    change = _changes(analysis).get((workload, metric, scenario))
    is_baseline = scenario == analysis.baseline
    pct = pct_digits(digits, change["median_baseline"]) if change else None
    return {
        "workload": workload_label(workload),
        "metric": metric,
        "scenario": scenario,
        "host": label,
        "n": fmt_int(n),
        "median": fmt_at(median, digits),
        "change": "baseline"
        if is_baseline
        else fmt_pct(change["change_median_pct"], decimals=pct)
        if change
        else DASH,
        "p_holm": DASH if is_baseline or not change else fmt_p(change["p_holm"]),
    }


def median_rows(pooled: Analysis, views: Sequence[HostView]) -> list[Row]:
    """Median and change against the baseline per series, scenario and host, then pooled;
    every median at the pooled series' resolution."""
    labelled = [(v.host, v.analysis) for v in views if v.analysis is not None]
    labelled.append((POOLED, pooled))
    rows = []
    for series in pooled.series:
        digits = pooled.decimals(*series)
        for scenario in pooled.scenarios:
            for label, analysis in labelled:
                found = [
                    r
                    for r in records(analysis.descriptive)
                    if (str(r["workload"] or ""), r["metric"]) == series
                    and r["scenario"] == scenario
                ]
                if not found or _empty(found[0]["median"]):
                    continue
                row = found[0]
                rows.append(
                    _median_row(
                        analysis, label, series, scenario, (row["n"], row["median"], digits)
                    )
                )
    return rows


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def host_context(pooled: Analysis, views: Sequence[HostView]) -> dict[str, Any]:
    """The template's per-host variables (empty lists for results from one host)."""
    return {
        "hosts": [v.host for v in views],
        "host_medians": median_rows(pooled, views) if views else [],
        "per_host": [
            {
                "host": v.host,
                "rows": v.rows,
                "directory": f"stats/{PER_HOST_DIR}/{v.directory}/",
                "why_empty": v.why_empty,
                "descriptive": descriptive_rows(v.analysis) if v.analysis else [],
                "comparisons": comparison_rows(v.analysis.comparisons, v.analysis)
                if v.analysis
                else [],
            }
            for v in views
        ],
    }


def host_sentence(views: Sequence[HostView]) -> list[str]:
    """The synthesis line saying the results pool several hosts ([] for one host)."""
    if not views:
        return []
    listed = ", ".join(f"{v.host} ({v.rows} rows)" for v in views)
    return [
        f"The results come from {len(views)} hosts: {listed}. The sentences above and "
        "Tables 2–4 pool all hosts; Table 5 and the per-host tables give each host on its own."
    ]
