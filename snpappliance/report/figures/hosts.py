"""The run-order figure faceted by host, for results measured on several hosts (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

from snpappliance.report.figures.plots import run_order_panel
from snpappliance.report.figures.style import (
    RC,
    Drawn,
    Palette,
    axis_label,
    legend,
    metric_of,
    new_figure,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd


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
                run_order_panel(ax, rows, palette)
                ax.set_title(f"{host} · {metric}")
                ax.set_ylabel(axis_label(metric_of(data, metric)))
        legend(fig, palette, palette.present(data["scenario"]))
    return Drawn(fig, ())
