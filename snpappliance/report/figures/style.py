"""What every report figure shares: size, fonts, the scenario palette, canvas and saving.

Figures are built with :class:`matplotlib.figure.Figure` directly, never
through ``pyplot``: they are not kept in pyplot's registry, and :func:`save`
clears them so their memory goes as soon as the caller drops them.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch

from snpappliance.formats.results import Metric, metric_info
from snpappliance.report.text import series_name, split_series

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: A4 text width is about 17 cm; figures are drawn at that size so 8 pt stays 8 pt.
WIDTH_IN = 17 / 2.54
PNG_DPI = 150
#: Longest metric or scenario name drawn inside a figure.
LABEL_MAX = 60
#: Above this many points in one figure, point clouds are rasterised inside the SVG.
RASTERISE_ABOVE = 500

#: dict[Any, Any]: matplotlib types rc keys as literals, this table is checked at run time.
RC: dict[Any, Any] = {
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "snpapp",
    "svg.fonttype": "none",
    # Scenario and metric names come from user data: a "$" must stay a dollar sign.
    "text.parse_math": False,
}


@dataclass(frozen=True)
class Palette:
    """One colour per scenario, the same in every figure; the baseline comes first."""

    order: tuple[str, ...]
    colours: Mapping[str, str]

    def __getitem__(self, scenario: str) -> str:
        return self.colours[scenario]

    def present(self, scenarios: Sequence[str] | pd.Series) -> list[str]:
        """The scenarios among ``scenarios``, in palette order."""
        wanted = set(pd.unique(pd.Series(scenarios, dtype=object)))
        return [s for s in self.order if s in wanted]


def make_palette(scenarios: Sequence[str], baseline: str) -> Palette:
    """Palette for ``scenarios`` with ``baseline`` first (colour-blind safe up to ten)."""
    order = [baseline, *(s for s in dict.fromkeys(scenarios) if s != baseline)]
    base = sns.color_palette("colorblind" if len(order) <= 10 else "husl", len(order))
    return Palette(
        order=tuple(order),
        colours={s: matplotlib.colors.to_hex(c) for s, c in zip(order, base, strict=True)},
    )


@dataclass(frozen=True)
class Drawn:
    """A finished figure and what it had to leave out (for the caption)."""

    figure: Figure
    notes: tuple[str, ...] = ()


def metric_of(data: pd.DataFrame, metric: str) -> Metric:
    """The :class:`Metric` of ``metric`` (a metric or a "workload · metric" series name),
    using the unit recorded in ``data`` if it has one; the name stays the series name."""
    units = data.loc[data["metric"] == metric, "unit"] if "unit" in data else pd.Series([])
    unit = next((str(u) for u in units if str(u)), None)
    workload, name = split_series(metric)
    info = metric_info(name, unit)
    title = f"{workload}: {info.title}" if workload else info.title
    return replace(info, name=shown(metric), title=shown(title))


def series_frame(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` with each row's ``metric`` replaced by its series name ("workload · metric"
    when the row names a workload), so that figures never pool two workloads."""
    if "workload" not in data or data.empty:
        return data
    codes = data.groupby(["workload", "metric"], sort=False, observed=True).ngroup().to_numpy()
    _, first = np.unique(codes, return_index=True)
    workloads = data["workload"].iloc[first].astype(str).to_numpy()
    if not (workloads != "").any():
        return data
    metrics = data["metric"].iloc[first].astype(str).to_numpy()
    names = [series_name(m, w) for w, m in zip(workloads, metrics, strict=True)]
    out = data.copy()
    out["metric"] = pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype=object))
    return out


def shown(name: str) -> str:
    """``name`` cut to :data:`LABEL_MAX` characters for a figure's text (a long name
    would squeeze the axes to nothing); captions and tables keep the whole name."""
    return name if len(name) <= LABEL_MAX else name[: LABEL_MAX - 1] + "…"


def axis_label(metric: Metric) -> str:
    return f"{metric.name} ({metric.unit})" if metric.unit else f"{metric.name} (no unit)"


def new_figure(height: float) -> Figure:
    """An A4-wide figure ``height`` inches tall with constrained layout."""
    return Figure(figsize=(WIDTH_IN, height), layout="constrained")


def grid(fig: Figure, count: int, max_cols: int) -> list[Axes]:
    """``count`` axes in rows of at most ``max_cols``; spare cells are hidden."""
    cols = max(1, min(max_cols, count))
    rows = math.ceil(count / cols)
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for extra in axes[count:]:
        extra.set_visible(False)
    return axes[:count]


def legend(fig: Figure, palette: Palette, scenarios: Sequence[str]) -> None:
    """One colour patch per scenario above the plots."""
    handles = [Patch(facecolor=palette[s], label=s) for s in scenarios]
    fig.legend(
        handles=handles, loc="outside upper center", ncols=min(len(handles), 5), frameon=False
    )


def slant(ax: Axes) -> None:
    """Tilt x tick labels so that long scenario names or dates do not overlap."""
    for label in ax.get_xticklabels():
        label.set(rotation=40, ha="right", rotation_mode="anchor")


#: Height of the strip below a figure's axes that holds its stamp, in inches.
STAMP_STRIP_IN = 0.2


def stamp_margin(fig: Figure, stamp: str) -> None:
    """Print ``stamp`` in a strip added below everything the layout places, so that it
    never covers an axis label, a tick or a legend."""
    width, height = fig.get_size_inches()
    total = height + STAMP_STRIP_IN
    fig.set_size_inches(width, total)
    strip = STAMP_STRIP_IN / total
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0.0, strip, 1.0, 1.0 - strip))
    fig.text(0.005, strip / 2, stamp, ha="left", va="center", fontsize=6.5, color="#b3261e")


@contextlib.contextmanager
def _writing() -> Iterator[None]:
    """The report's rc settings, and quiet about what seaborn only warns of."""
    with warnings.catch_warnings(), matplotlib.rc_context(RC):
        # seaborn places swarm dots at draw time; a swarm wider than its slot still
        # draws every point (overlapping) and only warns that some "cannot be placed".
        warnings.filterwarnings("ignore", message=".*cannot be placed.*", category=UserWarning)
        yield


@dataclass(frozen=True)
class Saved:
    """A figure whose PNG is written; its SVG is written by :attr:`write_svg`."""

    png: Path
    svg: Path
    #: Writes ``svg`` and releases the figure.
    write_svg: Callable[[], None]


def save(drawn: Drawn, directory: Path, name: str, *, stamp: str | None = None) -> Saved:
    """Write ``name``.png under ``directory`` now; ``name``.svg waits for
    :attr:`Saved.write_svg` (the PDF needs only the PNG: the SVG can be written meanwhile).

    ``stamp`` is printed in the figure's corner, so that a figure taken out of
    the report still says what it is (e.g. a local emulated profile).
    """
    figure = drawn.figure
    png, svg = directory / f"{name}.png", directory / f"{name}.svg"
    if stamp:
        stamp_margin(figure, stamp)
    with _writing():
        figure.savefig(png, format="png", dpi=PNG_DPI, metadata={"Software": None})
    # The layout is settled: laying it out again for the SVG would cost a third of
    # the drawing time of a many-panel figure and move nothing.
    figure.set_layout_engine("none")

    def write_svg() -> None:
        with _writing():
            figure.savefig(svg, format="svg", metadata={"Date": None})
        figure.clear()

    return Saved(png, svg, write_svg)
