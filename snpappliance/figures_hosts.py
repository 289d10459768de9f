"""The run-order figure faceted by host, for results measured on several hosts (pure)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import pandas as pd
from matplotlib.axes import Axes

from snpappliance.figure_style import (
    RASTERISE_ABOVE,
    RC,
    Drawn,
    Palette,
    axis_label,
    legend,
    metric_of,
    new_figure,
    slant,
)
from snpappliance.figures import run_positions


def run_order_by_host(data: pd.DataFrame, palette: Palette, hosts: Sequence[str]) -> Drawn:
    """One row of panels per host, one column per metric: each value against its run order.

    Each host's runs are placed on that host's own axis (its start times), so a
    drift on one host is not hidden by the other hosts' runs.
    """
    metrics = list(dict.fromkeys(data["metric"]))
    with matplotlib.rc_context(RC):
        fig = new_figure(2.4 * len(hosts) + 0.8)
        axes = fig.subplots(len(hosts), len(metrics), squeeze=False)
        for row, host in enumerate(hosts):
            for col, metric in enumerate(metrics):
                ax = axes[row][col]
                rows = data[(data["metric"] == metric) & (data["host"] == host)]
                _panel(ax, rows, palette)
                ax.set_title(f"{host} · {metric}")
                ax.set_ylabel(axis_label(metric_of(data, metric)))
        legend(fig, palette, palette.present(data["scenario"]))
    return Drawn(fig, ())


def _panel(ax: Axes, rows: pd.DataFrame, palette: Palette) -> None:
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
