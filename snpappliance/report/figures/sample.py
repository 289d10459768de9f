"""The seeded subsample that large arms are drawn from (the statistics use every row).

Drawing a KDE, a violin or a dot per run over hundreds of thousands of values per
arm costs minutes and shows nothing more than a few thousand random values do.
Above :data:`DRAW_MAX` values, an arm is drawn from :data:`DRAW_MAX` of its rows,
chosen without replacement by a Generator seeded from the report's seed and the
arm's (scenario, metric), so the same input always gives the same figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from snpappliance.report.stats.effect import comparison_rng

if TYPE_CHECKING:
    import pandas as pd

#: Most values of one (scenario, metric) arm that a figure draws.
DRAW_MAX = 5000


def draw_sample(data: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """``data`` with each arm above :data:`DRAW_MAX` rows cut to a seeded random subsample.

    Rows keep their order and index. Also returns the "scenario/metric" names of the
    arms that were cut (empty when nothing was).
    """
    keep: list[npt.NDArray[np.intp]] = []
    cut: list[str] = []
    groups = data.groupby(["scenario", "metric"], sort=False).indices
    for key, found in groups.items():
        scenario, metric = (str(part) for part in cast("tuple[str, str]", key))
        chosen = positions = np.asarray(found, dtype=np.intp)
        if len(positions) > DRAW_MAX:
            rng = comparison_rng(seed, "figure sample", scenario, metric)
            chosen = rng.choice(positions, size=DRAW_MAX, replace=False)
            cut.append(f"{scenario}/{metric}")
        keep.append(chosen)
    if not cut:
        return data, ()
    return data.iloc[np.sort(np.concatenate(keep))], tuple(cut)


def sample_note(cut: tuple[str, ...], seed: int) -> str:
    """The caption sentence for a figure drawn from :func:`draw_sample`."""
    return (
        f"{len(cut)} arm(s) have more than {DRAW_MAX} values; this figure draws a seeded random "
        f"subsample of {DRAW_MAX} values of each (seed {seed}), while every statistic and "
        "number in the text uses all values"
    )
