"""The five figure functions on tiny and degenerate data: files appear, nothing warns or crashes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from snpappliance.formats.names import file_slug
from snpappliance.report.figures import plots as figures
from snpappliance.report.figures import style
from snpappliance.report.figures.style import Drawn, Palette, make_palette

if TYPE_CHECKING:
    from pathlib import Path


def frame(rows: list[tuple[str, str, float]], **extra: list[str]) -> pd.DataFrame:
    data = pd.DataFrame(rows, columns=["scenario", "metric", "value"])
    data["unit"] = ""
    data["rep"] = [str(i + 1) for i in range(len(data))]
    data["started_at"] = ""
    for column, values in extra.items():
        data[column] = values
    return data


def normal_arms(n: int = 8) -> list[tuple[str, str, float]]:
    rng = np.random.default_rng(3)
    return [
        (scenario, metric, centre + float(noise))
        for scenario, shift in (("sev_off", 0.0), ("sev_on", -50.0))
        for metric, centre in (("cpu_perf", 13677.0 + shift), ("wall_s", 10.0 - shift / 1000))
        for noise in rng.normal(0.0, 5.0 if metric == "cpu_perf" else 0.01, n)
    ]


def draw_all(data: pd.DataFrame, palette: Palette, out: Path) -> list[tuple[str, Drawn]]:
    drawn: list[tuple[str, Drawn]] = []
    for metric in dict.fromkeys(data["metric"]):
        drawn.append((f"hist_{file_slug(metric)}", figures.histogram_kde(data, metric, palette)))
        drawn.append((f"qq_{file_slug(metric)}", figures.qq_plot(data, metric, palette)))
    empty_outliers = pd.DataFrame(columns=["scenario", "metric", "value"])
    scale = data[data["scenario"] == palette.order[0]].groupby("metric")["value"].median()
    drawn.append(("violin", figures.violin_swarm(data, palette, empty_outliers)))
    drawn.append(("ridge", figures.ridgeline(data, palette, {str(k): v for k, v in scale.items()})))
    drawn.append(("run", figures.run_order(data, palette)))
    for name, item in drawn:
        saved = style.save(item, out, name)
        saved.write_svg()
        svg, png = saved.svg, saved.png
        assert svg.stat().st_size > 1000, svg
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return drawn


def all_notes(drawn: list[tuple[str, Drawn]]) -> str:
    return " | ".join(note for _, d in drawn for note in d.notes)


def test_palette_puts_the_baseline_first_with_fixed_colours() -> None:
    palette = make_palette(["a", "b", "base"], "base")
    assert palette.order == ("base", "a", "b")
    assert len(set(palette.colours.values())) == 3
    assert palette.present(pd.Series(["b", "base", "b"])) == ["base", "b"]
    assert make_palette(["a", "b", "base"], "base").colours == palette.colours


def test_regular_data_draws_every_figure_without_notes(tmp_path: Path) -> None:
    data = frame(normal_arms())
    drawn = draw_all(data, make_palette(["sev_off", "sev_on"], "sev_off"), tmp_path)
    assert all_notes(drawn) == ""
    assert len(list(tmp_path.glob("*.svg"))) == len(list(tmp_path.glob("*.png"))) == 7


def test_degenerate_arms_are_drawn_and_explained(tmp_path: Path) -> None:
    rows = [
        *[("sev_off", "cpu_perf", 100.0 + i) for i in range(6)],
        ("sev_on", "cpu_perf", 99.0),  # n = 1
        *[("sev_off", "wall_s", 2.0)] * 5,  # zero variance
        *[("sev_on", "wall_s", 2.5)] * 5,
        ("sev_on", "ram_bw_mib_s", 5000.0),  # metric missing in the baseline
        ("sev_on", "ram_bw_mib_s", 5001.0),
    ]
    drawn = draw_all(frame(rows), make_palette(["sev_off", "sev_on"], "sev_off"), tmp_path)
    notes = all_notes(drawn)
    assert "no KDE for sev_on in cpu_perf: only 1 value" in notes
    assert "no KDE for sev_off in wall_s: zero variance" in notes
    assert "no Q–Q line for sev_on in cpu_perf" in notes
    assert "ram_bw_mib_s: no baseline median to scale by" in notes


def test_a_single_scenario_with_a_single_value(tmp_path: Path) -> None:
    drawn = draw_all(frame([("only", "cpu_perf", 1.0)]), make_palette(["only"], "only"), tmp_path)
    assert "only 1 value" in all_notes(drawn)


def test_large_arms_fall_back_to_strip_dots_and_thinned_qq(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    rows = [("a", "m", float(v)) for v in rng.normal(10.0, 1.0, figures.SWARM_LIMIT + 50)]
    palette = make_palette(["a"], "a")
    violin = figures.violin_swarm(frame(rows), palette, pd.DataFrame(columns=["scenario"]))
    assert "strip plot" in " ".join(violin.notes)
    qq = figures.qq_plot(frame(rows * 3), "m", palette)
    assert f"more than {figures.QQ_POINTS} values (a) show" in " ".join(qq.notes)
    style.save(violin, tmp_path, "violin")


def test_thin_quantiles_keeps_both_tails_whole() -> None:
    osm = np.arange(5000.0)
    kept, _ = figures.thin_quantiles(osm, osm)
    assert len(kept) <= figures.QQ_POINTS
    assert set(range(figures.QQ_TAIL)) <= set(kept.astype(int))
    assert set(range(5000 - figures.QQ_TAIL, 5000)) <= set(kept.astype(int))


@pytest.mark.parametrize(
    ("started", "reps", "label"),
    [
        (["2025-07-13T10:00:00Z", "2025-07-13T10:05:00Z", "2025-07-13T10:02:00Z"],
         ["1", "2", "3"], "start time (UTC)"),
        (["", "", ""], ["3", "1", "2"], "repetition (rep)"),
        (["", "", ""], ["", "", ""], "run index in the arm"),
        (["yesterday", "", ""], ["x", "2", "3"], "run index in the arm"),
    ],
)  # fmt: skip
def test_run_positions_prefer_start_time_then_rep(
    started: list[str], reps: list[str], label: str
) -> None:
    data = frame([("a", "m", 1.0), ("a", "m", 2.0), ("a", "m", 3.0)], started_at=started, rep=reps)
    _, found = figures.run_positions(data)
    assert found == label


def test_run_order_shares_one_axis_kind_when_arms_differ(tmp_path: Path) -> None:
    data = frame(
        [("a", "m", 1.0), ("a", "m", 2.0), ("b", "m", 3.0), ("b", "m", 4.0)],
        started_at=["2025-07-13T10:00:00Z", "2025-07-13T10:01:00Z", "", ""],
        rep=["2", "1", "", ""],
    )
    positions, label = figures.run_positions(data)
    assert label == "run index in the arm"
    assert positions.tolist() == [1, 2, 1, 2]
    style.save(figures.run_order(data, make_palette(["a", "b"], "a")), tmp_path, "run")


def test_drift_detects_a_trend_and_skips_constant_arms() -> None:
    rows = [("a", "m", float(i)) for i in range(12)] + [("b", "m", 5.0)] * 12
    found = figures.drift(frame(rows), make_palette(["a", "b"], "a"))
    assert [(d.scenario, round(d.rho, 6)) for d in found] == [("a", 1.0)]
    assert found[0].p < 0.001


def test_figure_names_stay_distinct_and_bounded() -> None:
    names = ["a/b", "a_b", "a b", "cpu_perf", "m" * 260]
    slugs = [file_slug(n) for n in names]
    assert len(set(slugs)) == len(names)
    assert slugs[1] == "a_b"
    assert slugs[3] == "cpu_perf"
    assert max(len(s) for s in slugs) <= 64


def test_dollar_signs_in_names_are_text(tmp_path: Path) -> None:
    odd = "$\\nosuchmacro$"
    data = frame([(odd, "price_$", 1.0), (odd, "price_$", 2.0), ("b", "price_$", 3.0)])
    palette = make_palette([odd, "b"], odd)
    style.save(figures.violin_swarm(data, palette, pd.DataFrame(columns=["s"])), tmp_path, "v")


def test_axis_labels_carry_units() -> None:
    data = frame([("a", "lat", 1.0)], unit=["ms"])
    assert style.axis_label(style.metric_of(data, "lat")) == "lat (ms)"
    assert style.axis_label(style.metric_of(data, "cpu_perf")) == "cpu_perf (events/s)"


def test_stamp_marks_the_figure_itself(tmp_path: Path) -> None:
    data = frame(normal_arms(4))
    palette = make_palette(["sev_off", "sev_on"], "sev_off")
    plain = style.save(figures.histogram_kde(data, "wall_s", palette), tmp_path, "plain").png
    marked = style.save(
        figures.histogram_kde(data, "wall_s", palette), tmp_path, "marked", stamp="not SNP"
    ).png
    again = style.save(figures.histogram_kde(data, "wall_s", palette), tmp_path, "again").png
    assert plain.read_bytes() == again.read_bytes()
    assert plain.read_bytes() != marked.read_bytes()
