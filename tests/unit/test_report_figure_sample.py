"""Large arms are drawn from a seeded, stated subsample; small arms are drawn whole."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

from snpappliance.report.figures import plots as figures
from snpappliance.report.figures.sample import DRAW_MAX, draw_sample, sample_note
from snpappliance.report.figures.style import make_palette


def arms(sizes: dict[tuple[str, str], int]) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    parts = [
        pd.DataFrame({"scenario": s, "metric": m, "value": rng.normal(100.0, 1.0, n)})
        for (s, m), n in sizes.items()
    ]
    data = pd.concat(parts, ignore_index=True)
    data["unit"] = ""
    data["rep"] = data.groupby(["scenario", "metric"]).cumcount() + 1
    data["started_at"] = ""
    return data


def test_only_arms_above_the_limit_are_cut_reproducibly() -> None:
    data = arms({("off", "cpu"): DRAW_MAX + 700, ("on", "cpu"): 40, ("off", "wall_s"): DRAW_MAX})
    drawn, cut = draw_sample(data, seed=7)
    assert cut == ("off/cpu",)
    sizes = drawn.groupby(["scenario", "metric"]).size().to_dict()
    assert sizes == {("off", "cpu"): DRAW_MAX, ("on", "cpu"): 40, ("off", "wall_s"): DRAW_MAX}
    # rows keep their order and index, and are real rows of the input
    assert drawn.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(drawn, data.loc[drawn.index])
    again, _ = draw_sample(data, seed=7)
    pd.testing.assert_frame_equal(drawn, again)
    other, _ = draw_sample(data, seed=8)
    assert not other.index.equals(drawn.index)


def test_small_data_is_drawn_whole() -> None:
    data = arms({("off", "cpu"): 30, ("on", "cpu"): 30})
    drawn, cut = draw_sample(data, seed=7)
    assert drawn is data
    assert cut == ()


def test_the_note_states_the_subsample_and_the_seed() -> None:
    note = sample_note(("off/cpu", "on/cpu"), 42)
    assert f"subsample of {DRAW_MAX} values" in note
    assert "seed 42" in note
    assert "statistic" in note


def test_violin_marks_every_removed_value_even_outside_the_drawn_sample() -> None:
    data = arms({("off", "cpu"): 50, ("on", "cpu"): 50})
    outliers = pd.DataFrame(
        {
            "scenario": ["off", "on", "on"],
            "metric": ["cpu", "cpu", "other"],
            "value": [1.0, 2.0, 3.0],
        }
    )
    drawn = figures.violin_swarm(data.iloc[10:], make_palette(["off", "on"], "off"), outliers)
    crosses = [
        np.asarray(c.get_offsets(), dtype=np.float64)
        for ax in drawn.figure.axes
        for c in ax.collections
        if isinstance(c, matplotlib.collections.PathCollection)
        and np.asarray(c.get_facecolor(), dtype=np.float64)[0, 0] > 0.8  # the red crosses
    ]
    marked = sorted(float(y) for offsets in crosses for y in offsets[:, 1])
    assert marked == [1.0, 2.0]
