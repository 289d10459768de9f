"""The report's five figures, each a pure function from data to a matplotlib Figure.

Every function takes the measurements in the long format (``scenario``,
``metric``, ``value`` and optionally ``unit``, ``rep``, ``started_at``) and a
:class:`Palette`, and returns a :class:`Drawn`: the figure plus notes on what
could not be drawn and why (a KDE of one value, a Q–Q line through a constant
sample …). Nothing here writes files: :func:`snpappliance.report.figures.style.save` does.

Shared size, fonts, palette and saving live in :mod:`snpappliance.report.figures.style`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from scipy import stats

from snpappliance.report.figures.style import (
    RASTERISE_ABOVE,
    RC,
    Drawn,
    Palette,
    axis_label,
    grid,
    legend,
    metric_of,
    new_figure,
    shown,
    slant,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from matplotlib.axes import Axes

#: Above this many points in one arm the swarm gives way to a jittered strip plot: at
#: 300 a swarm of ten arms takes seconds and piles dots it cannot place at its edges.
SWARM_LIMIT = 150
#: Q–Q panels of larger arms show this many evenly spaced order statistics (plus both tails).
QQ_POINTS = 400
QQ_TAIL = 25
MAX_BINS = 60


def kde_problem(values: np.ndarray) -> str | None:
    """Why a kernel density estimate of ``values`` is undefined, or None if it is fine."""
    if len(values) < 2:
        return f"only {len(values)} value"
    if float(np.ptp(values)) == 0.0:
        return "zero variance"
    return None


def _arm(data: pd.DataFrame, scenario: str, metric: str) -> np.ndarray:
    rows = data[(data["scenario"] == scenario) & (data["metric"] == metric)]
    return rows["value"].to_numpy(dtype=float)


def _bin_edges(values: np.ndarray) -> np.ndarray:
    edges = np.histogram_bin_edges(values, bins="auto")
    if len(edges) > MAX_BINS + 1:
        edges = np.linspace(edges[0], edges[-1], MAX_BINS + 1)
    return edges


def histogram_kde(data: pd.DataFrame, metric: str, palette: Palette) -> Drawn:
    """Histogram (density) of one metric with a KDE per scenario, scenarios overlaid."""
    info = metric_of(data, metric)
    rows = data[data["metric"] == metric]
    scenarios = palette.present(rows["scenario"])
    edges = _bin_edges(rows["value"].to_numpy(dtype=float))
    notes: list[str] = []
    with matplotlib.rc_context(RC):
        fig = new_figure(3.0)
        ax = fig.subplots()
        for scenario in scenarios:
            values = _arm(rows, scenario, metric)
            ax.hist(
                values,
                bins=edges.tolist(),
                density=True,
                histtype="stepfilled",
                alpha=0.35,
                color=palette[scenario],
                edgecolor=palette[scenario],
            )
            problem = kde_problem(values)
            if problem is None:
                sns.kdeplot(x=values, ax=ax, color=palette[scenario], linewidth=1.4)
            else:
                notes.append(f"no KDE for {scenario} in {metric}: {problem}")
        ax.set_xlabel(axis_label(info))
        ax.set_ylabel(f"density (1/{info.unit})" if info.unit else "density")
        ax.set_title(f"{info.title}: distribution per scenario ({info.direction.better_word})")
        legend(fig, palette, scenarios)
    return Drawn(fig, tuple(notes))


def qq_fit(values: np.ndarray) -> float | None:
    """Correlation r of the normal Q–Q plot (1 = perfectly normal), None when undefined."""
    if len(values) < 3 or float(np.ptp(values)) == 0.0:
        return None
    (_, _), (_, _, r) = stats.probplot(values, dist="norm")
    return float(r)


def thin_quantiles(osm: np.ndarray, osr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most about QQ_POINTS Q–Q points: evenly spaced order statistics and both tails whole."""
    n = len(osm)
    if n <= QQ_POINTS:
        return osm, osr
    middle = np.linspace(0, n - 1, QQ_POINTS - 2 * QQ_TAIL).round().astype(int)
    keep = np.unique(np.concatenate([np.arange(QQ_TAIL), middle, np.arange(n - QQ_TAIL, n)]))
    return osm[keep], osr[keep]


def qq_plot(data: pd.DataFrame, metric: str, palette: Palette) -> Drawn:
    """Normal Q–Q plot of one metric, one panel per scenario, with the least-squares line."""
    info = metric_of(data, metric)
    rows = data[data["metric"] == metric]
    scenarios = palette.present(rows["scenario"])
    notes: list[str] = []
    thinned: list[str] = []
    with matplotlib.rc_context(RC):
        cols = min(4, len(scenarios))
        fig = new_figure(2.3 * math.ceil(len(scenarios) / cols) + 0.4)
        for ax, scenario in zip(grid(fig, len(scenarios), cols), scenarios, strict=True):
            values = _arm(rows, scenario, metric)
            colour = palette[scenario]
            if qq_fit(values) is None:
                osm, osr = stats.probplot(values, dist="norm", fit=False)
                notes.append(
                    f"no Q–Q line for {scenario} in {metric}: "
                    f"{kde_problem(values) or 'fewer than 3 values'}"
                )
            else:
                (osm, osr), (slope, intercept, r) = stats.probplot(values, dist="norm")
                ax.plot(osm, slope * osm + intercept, color="0.3", linewidth=1)
                ax.text(0.03, 0.95, f"r = {r:.3f}", transform=ax.transAxes, va="top")
            if len(values) > QQ_POINTS:
                thinned.append(scenario)
                osm, osr = thin_quantiles(osm, osr)
            ax.scatter(osm, osr, s=6, color=colour)
            ax.set_title(scenario, color=colour)
            ax.set_xlabel("normal quantile (σ)")
            ax.set_ylabel(axis_label(info))
        fig.suptitle(f"{info.title}: normal Q–Q plots")
    if thinned:
        notes.append(
            f"arms with more than {QQ_POINTS} values ({', '.join(thinned)}) show {QQ_POINTS} "
            f"evenly spaced order statistics, the {QQ_TAIL} most extreme on each side all included"
        )
    return Drawn(fig, tuple(notes))


def _removed(outliers: pd.DataFrame, metric: str, order: list[str]) -> pd.DataFrame:
    """The removed values of ``metric`` in the drawn scenarios (all of them, even when the
    dots are a subsample)."""
    if outliers.empty:
        return outliers
    return outliers[(outliers["metric"] == metric) & outliers["scenario"].isin(order)]


def _dots(ax: Axes, rows: pd.DataFrame, order: list[str], *, swarm: bool, raster: bool) -> None:
    kwargs: dict[str, Any] = {
        "data": rows,
        "x": "scenario",
        "y": "value",
        "order": order,
        "color": "0.15",
        "ax": ax,
        "rasterized": raster,
    }
    if swarm:
        sns.swarmplot(size=2.2, **kwargs)
    else:
        sns.stripplot(size=0.9, alpha=0.25, jitter=0.3, **kwargs)


def violin_swarm(data: pd.DataFrame, palette: Palette, outliers: pd.DataFrame) -> Drawn:
    """Violin per scenario and metric with every run as a dot; removed outliers as red crosses."""
    metrics = list(dict.fromkeys(data["metric"]))
    notes: list[str] = []
    with matplotlib.rc_context(RC):
        cols = min(3 if data["scenario"].nunique() <= 4 else 2, len(metrics))
        fig = new_figure(2.8 * math.ceil(len(metrics) / cols) + 0.4)
        for ax, metric in zip(grid(fig, len(metrics), cols), metrics, strict=True):
            rows = data[data["metric"] == metric]
            order = palette.present(rows["scenario"])
            largest = int(rows.groupby("scenario").size().max())
            sns.violinplot(
                data=rows,
                x="scenario",
                y="value",
                hue="scenario",
                order=order,
                hue_order=order,
                palette=dict(palette.colours),
                inner=None,
                cut=0,
                density_norm="width",
                linewidth=0.8,
                legend=False,
                ax=ax,
            )
            swarm = largest <= SWARM_LIMIT
            if not swarm:
                notes.append(
                    f"{metric}: {largest} runs in the largest arm, dots jittered "
                    "(strip plot) instead of a swarm"
                )
            _dots(ax, rows, order, swarm=swarm, raster=len(rows) > RASTERISE_ABOVE)
            flagged = _removed(outliers, metric, order)
            if not flagged.empty:
                xs = [order.index(s) for s in flagged["scenario"]]
                ax.scatter(
                    xs, flagged["value"].astype(float), marker="x", s=18, color="#d62728", zorder=5
                )
            ax.set_xlabel("")
            ax.set_ylabel(axis_label(metric_of(data, metric)))
            ax.set_title(shown(metric))
            if len(order) > 3:
                slant(ax)
        fig.legend(
            handles=[
                Line2D(
                    [],
                    [],
                    marker="x",
                    color="#d62728",
                    linestyle="",
                    label="removed by the Tukey fences",
                )
            ],
            loc="outside lower center",
            frameon=False,
        )
    return Drawn(fig, tuple(notes))


def percent_of_baseline(
    data: pd.DataFrame, baseline: str, scale: Mapping[str, float]
) -> tuple[pd.DataFrame, list[str]]:
    """``data`` plus a ``pct`` column: each value as % of ``scale[metric]`` (a baseline median)."""
    usable = {m: v for m, v in scale.items() if not math.isnan(v) and v != 0}
    notes = [
        f"{m}: no baseline median to scale by ({baseline} has no usable values)"
        for m in dict.fromkeys(data["metric"])
        if m not in usable
    ]
    kept = data[data["metric"].isin(list(usable))].copy()
    kept["pct"] = 100.0 * kept["value"].astype(float) / kept["metric"].map(usable).astype(float)
    return kept, notes


def ridgeline(data: pd.DataFrame, palette: Palette, scale: Mapping[str, float]) -> Drawn:
    """All measurements on one axis as % of ``scale`` (the baseline median of each metric)."""
    scaled, notes = percent_of_baseline(data, palette.order[0], scale)
    rows = [
        (m, s)
        for m in dict.fromkeys(scaled["metric"])
        for s in palette.present(scaled.loc[scaled["metric"] == m, "scenario"])
    ]
    with matplotlib.rc_context(RC):
        fig = new_figure(min(9.0, 1.0 + 0.32 * max(len(rows), 1)))
        ax = fig.subplots()
        if not rows:
            ax.text(0.5, 0.5, "nothing to draw: no metric has a baseline median", ha="center")
            return Drawn(fig, tuple(notes))
        for i, (metric, scenario) in enumerate(rows):
            y0 = len(rows) - 1 - i
            values = scaled.loc[
                (scaled["metric"] == metric) & (scaled["scenario"] == scenario), "pct"
            ].to_numpy(dtype=float)
            _ridge(ax, values, y0, palette[scenario], notes, f"{scenario} in {metric}")
        ax.axvline(100.0, color="0.3", linewidth=0.8, linestyle="--")
        ax.set_yticks(range(len(rows)), [f"{shown(m)} · {shown(s)}" for m, s in reversed(rows)])
        ax.set_xlabel(f"% of the baseline ({palette.order[0]}) median of the metric")
        ax.set_title("All measurements on one axis")
        ax.grid(axis="y", visible=False)
        legend(fig, palette, palette.present(scaled["scenario"]))
    return Drawn(fig, tuple(notes))


#: A ridge's density is drawn out to this many kernel bandwidths beyond its data, where
#: a Gaussian kernel has fallen to 1 % of its peak.
RIDGE_TAIL_BANDWIDTHS = 3.0
#: Bands of decreasing opacity that fade each tail out.
RIDGE_FADE_STEPS = 8
RIDGE_ALPHA = 0.55


def ridge_support(values: np.ndarray, kde: stats.gaussian_kde) -> tuple[float, float]:
    """Where a ridge's density is drawn: its data range widened by its own tails."""
    bandwidth = float(np.sqrt(kde.covariance[0, 0]))
    tail = RIDGE_TAIL_BANDWIDTHS * bandwidth
    return float(values.min()) - tail, float(values.max()) + tail


def _ridge(
    ax: Axes,
    values: np.ndarray,
    y0: int,
    colour: str,
    notes: list[str],
    what: str,
) -> None:
    """One ridge, evaluated over its own support; beyond its data the tails fade out."""
    problem = kde_problem(values)
    if problem is not None:
        ax.vlines(values, y0, y0 + 0.8, color=colour, linewidth=1.5)
        notes.append(f"no KDE ridge for {what}: {problem} (drawn as a tick)")
        return
    kde = stats.gaussian_kde(values)
    low, high = ridge_support(values, kde)
    grid = np.linspace(low, high, 400)
    density = kde(grid)
    height = 1.6 * density / density.max()
    inside = (grid >= values.min()) & (grid <= values.max())
    ax.fill_between(grid, y0, y0 + height, where=inside, color=colour, alpha=RIDGE_ALPHA,
                    linewidth=0, interpolate=True)  # fmt: skip
    left = np.flatnonzero(grid < values.min())[::-1]
    right = np.flatnonzero(grid > values.max())
    # The fading bands of both tails as one collection (one artist, not one per band).
    bands: list[np.ndarray] = []
    colours: list[tuple[float, float, float, float]] = []
    for ordered in (left, right):  # each tail from the data outwards
        if ordered.size < 2:
            continue
        for step, band in enumerate(np.array_split(ordered, RIDGE_FADE_STEPS)):
            if band.size == 0:
                continue
            span = np.arange(max(band.min() - 1, 0), min(band.max() + 2, grid.size))
            alpha = RIDGE_ALPHA * (1.0 - (step + 0.5) / RIDGE_FADE_STEPS)
            top = np.column_stack([grid[span], y0 + height[span]])
            bottom = np.column_stack([grid[span][::-1], np.full(span.size, float(y0))])
            bands.append(np.concatenate([top, bottom]))
            colours.append(to_rgba(colour, alpha))
    if bands:
        ax.add_collection(PolyCollection(bands, facecolors=colours, linewidths=0))
    ax.plot(grid[inside], y0 + height[inside], color=colour, linewidth=0.8)


def run_positions(rows: pd.DataFrame) -> tuple[pd.Series, str]:
    """x positions for the run-order plot of ``rows`` (one metric) and what they are.

    One kind for all arms of the metric, so they share an axis: start times if
    every row has one, else repetition numbers if every row has one, else the
    position of the row within its arm.
    """
    started = rows["started_at"] if "started_at" in rows else pd.Series([], dtype=str)
    if len(started) == len(rows) and len(rows) and (started != "").all():
        parsed = pd.to_datetime(started, errors="coerce", utc=True, format="ISO8601")
        if parsed.notna().all():
            return parsed, "start time (UTC)"
    reps = pd.to_numeric(rows["rep"], errors="coerce") if "rep" in rows else pd.Series([])
    if len(reps) == len(rows) and len(rows) and reps.notna().all():
        return reps, "repetition (rep)"
    return rows.groupby("scenario", sort=False).cumcount() + 1, "run index in the arm"


def run_order_panel(ax: Axes, rows: pd.DataFrame, palette: Palette) -> None:
    """One metric's values against their run position, a line per scenario."""
    if rows.empty:
        ax.text(0.5, 0.5, "no ok values", ha="center", va="center", transform=ax.transAxes)
        return
    positions, label = run_positions(rows)
    for scenario in palette.present(rows["scenario"]):
        xs = positions[rows.index[rows["scenario"] == scenario]].sort_values(kind="stable")
        ax.plot(
            xs,
            rows.loc[xs.index, "value"],
            color=palette[scenario],
            marker="o",
            markersize=2,
            linewidth=0.6,
            alpha=0.8,
            rasterized=len(rows) > RASTERISE_ABOVE,
        )
    ax.set_xlabel(label)
    if label.startswith("start"):
        slant(ax)


def run_order(data: pd.DataFrame, palette: Palette) -> Drawn:
    """Each value against its start time (or repetition) per arm, so drift can be seen."""
    metrics = list(dict.fromkeys(data["metric"]))
    with matplotlib.rc_context(RC):
        cols = min(2, len(metrics))
        fig = new_figure(2.6 * math.ceil(len(metrics) / cols) + 0.4)
        for ax, metric in zip(grid(fig, len(metrics), cols), metrics, strict=True):
            run_order_panel(ax, data[data["metric"] == metric], palette)
            ax.set_ylabel(axis_label(metric_of(data, metric)))
            ax.set_title(shown(metric))
        legend(fig, palette, palette.present(data["scenario"]))
    return Drawn(fig, ())


@dataclass(frozen=True)
class Drift:
    """Spearman rank correlation of value with run position in one arm."""

    scenario: str
    metric: str
    rho: float
    p: float


def drift(data: pd.DataFrame, palette: Palette) -> list[Drift]:
    """Spearman ρ of value against run position per arm (arms with < 3 distinct values skipped)."""
    found: list[Drift] = []
    for metric in dict.fromkeys(data["metric"]):
        rows = data[data["metric"] == metric]
        positions, _ = run_positions(rows)
        for scenario in palette.present(rows["scenario"]):
            arm = rows[rows["scenario"] == scenario]
            x = positions[arm.index].rank().to_numpy(dtype=float)
            y = arm["value"].to_numpy(dtype=float)
            if len(y) < 3 or float(np.ptp(y)) == 0.0 or float(np.ptp(x)) == 0.0:
                continue
            result = stats.spearmanr(x, y)
            found.append(Drift(scenario, metric, float(result.statistic), float(result.pvalue)))
    return found
