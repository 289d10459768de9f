"""Draw the report's figures into a directory and caption them with the numbers behind them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from snpappliance.formats.names import file_slug
from snpappliance.report.context import records
from snpappliance.report.figures import hosts as figures_hosts
from snpappliance.report.figures import plots as figures
from snpappliance.report.figures.sample import draw_sample, sample_note
from snpappliance.report.figures.style import Drawn, Palette, metric_of, save, series_frame
from snpappliance.report.stats.analysis import EMULATED_LABEL, Analysis
from snpappliance.report.text import (
    fmt_delta,
    histogram_caption,
    p_clause,
    qq_caption,
    ridgeline_caption,
    run_order_caption,
    series_name,
    violin_caption,
)
from snpappliance.report.workers import Done

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from snpappliance.formats.results import Metric

FIGURES_DIR = "figures"


@dataclass(frozen=True)
class FigureEntry:
    """One figure as the template shows it; paths are relative to the report directory."""

    name: str
    title: str
    caption: str
    svg: str
    png: str


def _rows(frame: pd.DataFrame, **where: str) -> list[dict[str, Any]]:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    return records(frame[mask])


def _series_rows(frame: pd.DataFrame, series: tuple[str, str]) -> list[dict[str, Any]]:
    workload, metric = series
    return _rows(frame, workload=workload, metric=metric)


def _medians(analysis: Analysis, series: tuple[str, str], palette: Palette) -> dict[str, float]:
    found = {
        str(r["scenario"]): float(r["median"]) for r in _series_rows(analysis.descriptive, series)
    }
    return {s: found[s] for s in palette.order if s in found and not math.isnan(found[s])}


def _relabelled(frame: pd.DataFrame) -> pd.DataFrame:
    """A statistics frame (workload, metric columns) with series names as metrics."""
    if frame.empty:
        return frame
    out = frame.copy()
    out["metric"] = [
        series_name(str(m), str(w or ""))
        for w, m in zip(out["workload"], out["metric"], strict=True)
    ]
    return out


class FigureWriter:
    """Draws figures for one report into ``directory`` and collects their entries."""

    def __init__(self, data: pd.DataFrame, analysis: Analysis, palette: Palette, directory: Path):
        #: Rows with "workload · metric" series names in ``metric`` (see ``series_frame``).
        self.data = data = series_frame(data)
        self.analysis = analysis
        self.palette = palette
        self.directory = directory
        self.names = {s: series_name(s[1], s[0]) for s in analysis.series}
        self.slugs = {name: file_slug(name) for name in self.names.values()}
        self.stamp = EMULATED_LABEL if analysis.emulated else None
        #: What the histogram, violin, ridgeline and run-order figures draw: every row,
        #: or a seeded subsample of the arms too large to draw whole (see ``sample``).
        self.drawn, self.cut = draw_sample(data, analysis.options.seed)

    def metric(self, name: str) -> Metric:
        return metric_of(self.data, name)

    def sampled(self) -> str:
        """The caption sentence of a figure drawn from ``self.drawn`` ('' if nothing was cut)."""
        return f" {sample_note(self.cut, self.analysis.options.seed)}." if self.cut else ""

    def _save(self, drawn: Drawn, name: str, title: str, caption: str) -> Done[FigureEntry]:
        """The figure's entry once its PNG is written; its SVG is written after (see Done)."""
        saved = save(drawn, self.directory, name, stamp=self.stamp)
        entry = FigureEntry(
            name=name,
            title=title,
            caption=caption,
            svg=f"{FIGURES_DIR}/{name}.svg",
            png=f"{FIGURES_DIR}/{name}.png",
        )
        return Done(entry, saved.write_svg)

    def histograms(self, series: tuple[str, str]) -> Done[FigureEntry]:
        metric = self.names[series]
        drawn = figures.histogram_kde(self.drawn, metric, self.palette)
        caption = (
            histogram_caption(
                self.metric(metric),
                _medians(self.analysis, series, self.palette),
                _series_rows(self.analysis.comparisons, series),
                drawn.notes,
                self.analysis.decimals(*series),
            )
            + self.sampled()
        )
        return self._save(
            drawn, f"hist_{self.slugs[metric]}", f"{metric}: histogram and KDE", caption
        )

    def qq(self, series: tuple[str, str]) -> Done[FigureEntry]:
        metric = self.names[series]
        drawn = figures.qq_plot(self.data, metric, self.palette)
        rows = self.data[self.data["metric"] == metric]
        fits = {
            s: figures.qq_fit(rows.loc[rows["scenario"] == s, "value"].to_numpy(dtype=float))
            for s in self.palette.present(rows["scenario"])
        }
        caption = qq_caption(self.metric(metric), fits, drawn.notes)
        return self._save(drawn, f"qq_{self.slugs[metric]}", f"{metric}: normal Q–Q plots", caption)

    def violins(self) -> Done[FigureEntry]:
        drawn = figures.violin_swarm(self.drawn, self.palette, _relabelled(self.analysis.outliers))
        counts = {
            (str(r["scenario"]), str(r["metric"])): (
                int(r["n"]) + int(r["n_removed"]),
                int(r["n_removed"]),
            )
            for r in _rows(self.analysis.descriptive)
            if int(r["n"]) + int(r["n_removed"]) > 0
        }
        return self._save(
            drawn,
            "violin_swarm",
            "Violins with a seeded sample of the runs" if self.cut else "Violins with every run",
            violin_caption(counts, drawn.notes) + self.sampled(),
        )

    def ridgeline(self) -> Done[FigureEntry]:
        baseline = self.analysis.baseline
        medians = {
            self.names[s]: _medians(self.analysis, s, self.palette) for s in self.analysis.series
        }
        scale = {m: found.get(baseline, math.nan) for m, found in medians.items()}
        drawn = figures.ridgeline(self.drawn, self.palette, scale)
        percents = {
            (m, s): 100.0 * v / scale[m]
            for m, found in medians.items()
            if not math.isnan(scale[m]) and scale[m] != 0
            for s, v in found.items()
        }
        return self._save(
            drawn,
            "ridgeline",
            "All measurements on one axis",
            ridgeline_caption(baseline, percents, drawn.notes) + self.sampled(),
        )

    def run_order(self) -> Done[FigureEntry]:
        drawn = figures.run_order(self.drawn, self.palette)
        drifts = figures.drift(self.data, self.palette)
        caption = run_order_caption(drifts, self.analysis.options.alpha) + self.sampled()
        return self._save(drawn, "run_order", "Run order", caption)

    def run_order_by_host(self, hosts: Sequence[str]) -> Done[FigureEntry]:
        """The run-order plot again, one row of panels per host (multi-host results only)."""
        drawn = figures_hosts.run_order_by_host(self.drawn, self.palette, hosts)
        alpha = self.analysis.options.alpha
        parts = []
        for host in hosts:
            drifts = figures.drift(self.data[self.data["host"] == host], self.palette)
            if not drifts:
                parts.append(f"{host}: no arm to test for a trend")
                continue
            worst = max(drifts, key=lambda d: abs(d.rho))
            flagged = sum(1 for d in drifts if d.p < alpha)
            parts.append(
                f"{host}: strongest {worst.scenario}/{worst.metric} ρ = {fmt_delta(worst.rho)} "
                f"({p_clause(worst.p)}, unadjusted), {flagged} arm(s) with a trend at α = {alpha:g}"
            )
        caption = (
            "Each value against its host's own run order, one row of panels per host and one "
            "line per scenario, so that drift on one host is not hidden among the others' runs. "
            f"Spearman rank correlation per host — {'; '.join(parts)}."
        )
        caption += self.sampled()
        return self._save(drawn, "run_order_by_host", "Run order per host", caption)

    def _drawn_series(self) -> list[tuple[str, str]]:
        present = set(pd.unique(self.data["metric"]))
        return [s for s in self.analysis.series if self.names[s] in present]

    def tasks(self) -> list[Callable[[], Done[FigureEntry]]]:
        """Every figure of the report as a call that draws it, in reading order."""
        series = self._drawn_series()
        calls: list[Callable[[], Done[FigureEntry]]] = [partial(self.histograms, s) for s in series]
        calls += [partial(self.qq, s) for s in series]
        if series:
            calls += [self.violins, self.ridgeline, self.run_order]
        return calls
