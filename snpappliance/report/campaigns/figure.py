"""The comparison's figure: every overhead of every campaign with its 95 % CI.

One row per (workload, metric, scenario); each campaign is a marker with its
CI as a horizontal bar, offset vertically within the row. Positive is worse
for every metric, so the rows share one axis. Built with
:class:`matplotlib.figure.Figure` (never pyplot), saved as SVG and PNG.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from snpappliance.report.campaigns.overhead import Key, Overhead

WIDTH_IN = 17 / 2.54
ROW_IN = 0.32
PNG_DPI = 150
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")
STAMP_COLOUR = "#b3261e"


def row_label(key: Key, baseline: str) -> str:
    workload, metric, scenario = key
    where = f"{workload} · {metric}" if workload else metric
    return f"{where}\n{scenario} vs {baseline}"


def draw_overheads(
    overheads: Sequence[Sequence[Overhead]],
    labels: Sequence[str],
    directory: Path,
    name: str,
    *,
    stamp: str | None,
) -> tuple[Path, Path]:
    """Draw the overheads of each campaign (``labels[i]`` for ``overheads[i]``); write
    ``name``.svg and ``name``.png into ``directory``. ``stamp`` goes in the top margin."""
    keys: list[Key] = []
    baselines: dict[Key, str] = {}
    for found in overheads:
        for o in found:
            if o.key not in baselines:
                keys.append(o.key)
                baselines[o.key] = o.baseline
    rows = {key: i for i, key in enumerate(keys)}
    height = 1.3 + ROW_IN * len(keys) * max(1.0, len(labels) / 2)
    figure = Figure(figsize=(WIDTH_IN, height), layout="constrained")
    ax = figure.add_subplot()
    step = 0.7 / max(1, len(labels))
    for i, (found, label) in enumerate(zip(overheads, labels, strict=True)):
        offset = (i - (len(labels) - 1) / 2) * step
        shown = [o for o in found if not math.isnan(o.overhead_pct)]
        ys = [rows[o.key] + offset for o in shown]
        xs = [o.overhead_pct for o in shown]
        lows = [max(0.0, o.overhead_pct - o.ci_low) for o in shown]
        highs = [max(0.0, o.ci_high - o.overhead_pct) for o in shown]
        ax.errorbar(
            xs,
            ys,
            xerr=[lows, highs],
            fmt=MARKERS[i % len(MARKERS)],
            color=COLOURS[i % len(COLOURS)],
            markersize=4,
            capsize=2,
            linewidth=1,
            label=label,
        )
    ax.axvline(0.0, color="#555555", linewidth=0.8, linestyle="--")
    ax.set_yticks(range(len(keys)), [row_label(k, baselines[k]) for k in keys], fontsize=7)
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.set_xlabel(
        "overhead vs baseline (% of its median, positive = worse) with 95 % CI", fontsize=8
    )
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", color="#dddddd", linewidth=0.5)
    figure.legend(loc="outside lower center", ncols=min(2, len(labels)), fontsize=7, frameon=False)
    if stamp:
        figure.suptitle(stamp, fontsize=7, color=STAMP_COLOUR)
    svg, png = directory / f"{name}.svg", directory / f"{name}.png"
    figure.savefig(svg, format="svg", metadata={"Date": None})
    figure.savefig(png, format="png", dpi=PNG_DPI, metadata={"Software": None})
    figure.clear()
    return svg, png
