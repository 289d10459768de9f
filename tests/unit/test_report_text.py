"""Human formatting and the generated prose: direction-aware, significance-aware, honest."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pytest

from snpappliance.formats.results import metric_info
from snpappliance.report import text as rt
from snpappliance.report.context import comparison_rows, descriptive_rows, synthesis
from snpappliance.report.figures.plots import Drift
from snpappliance.report.load import load_results
from snpappliance.report.stats.analysis import analyse

if TYPE_CHECKING:
    from pathlib import Path

CPU = metric_info("cpu_perf")
WALL = metric_info("wall_s")


def row(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "metric": "cpu_perf", "baseline": "sev_off", "scenario": "sev_on",
        "median_baseline": 13677.96, "median_scenario": 13596.165,
        "change_median_pct": -0.598, "mwu_p": 2.1e-7, "mwu_method": "exact",
        "cliffs_delta": -0.8821, "cliffs_delta_ci_low": -0.97, "cliffs_delta_ci_high": -0.71,
        "magnitude": "large", "p_holm": 4.2e-7,
    }  # fmt: skip
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(13676.704, 6, "13676.7"), (6735.444, 6, "6735.44"), (5.953, 4, "5.953"),
     (-0.25, 4, "−0.25"), (0.61, 6, "0.61"), (13673.0, 6, "13673"), (0.0, 6, "0"),
     (1.5e-7, 4, "1.500e−07"), (math.nan, 6, "–"), (None, 6, "–")],
)  # fmt: skip
def test_fmt_num(value: object, digits: int, text: str) -> None:
    assert rt.fmt_num(value, digits) == text.replace("e−", "e-")


def test_p_values_read_like_a_paper() -> None:
    assert rt.fmt_p(2e-9) == "< 0.001"
    assert rt.fmt_p(0.0143) == "0.0143"
    assert rt.fmt_p(1.0) == "1"
    assert rt.fmt_p(math.nan) == "–"
    assert rt.p_clause(0.0004) == "p < 0.001"
    assert rt.p_clause(0.25) == "p = 0.25"


def test_percentages_and_deltas_use_a_real_minus_sign() -> None:
    assert rt.fmt_pct(-0.598) == "−0.60 %"
    assert rt.fmt_pct(12.34) == "+12.3 %"
    assert rt.fmt_pct(-0.598, signed=False) == "0.60 %"
    assert rt.fmt_delta(-0.8821) == "−0.88"
    assert rt.fmt_u(40.0) == "40"
    assert rt.fmt_u(40.5) == "40.5"


def test_throughput_drop_is_slower() -> None:
    sentence = rt.synthesis_sentence(row(), CPU, alpha=0.05)
    assert sentence.startswith(
        "sev_on is 0.60 % slower (lower throughput) than sev_off in "
        "cpu_perf (events/s, higher is better)"
    )
    assert "Mann–Whitney p < 0.001 (exact; Holm-adjusted p < 0.001)" in sentence
    assert "Cliff's δ = −0.88 (95 % CI [−0.97, −0.71]), large" in sentence


def test_throughput_gain_is_faster() -> None:
    sentence = rt.synthesis_sentence(row(change_median_pct=1.5, cliffs_delta=0.6), CPU, alpha=0.05)
    assert sentence.startswith("sev_on is 1.50 % faster (higher throughput) than sev_off")


def test_time_growth_is_slower_and_time_drop_is_faster() -> None:
    longer = rt.synthesis_sentence(row(metric="wall_s", change_median_pct=4.0), WALL, alpha=0.05)
    assert longer.startswith("sev_on is 4.00 % slower (more time) than sev_off in wall_s (s, lower")
    shorter = rt.synthesis_sentence(row(metric="wall_s", change_median_pct=-4.0), WALL, alpha=0.05)
    assert shorter.startswith("sev_on is 4.00 % faster (less time) than sev_off in wall_s")


@pytest.mark.parametrize("metric", [CPU, WALL])
def test_holm_p_at_or_above_alpha_is_no_significant_difference(metric: Any) -> None:
    sentence = rt.synthesis_sentence(row(p_holm=0.05, mwu_p=0.02), metric, alpha=0.05)
    assert sentence.startswith("No significant difference between sev_on and sev_off")
    assert "slower" not in sentence
    assert "faster" not in sentence
    assert "Holm-adjusted p = 0.05" in sentence


def test_empty_statistics_say_why() -> None:
    untested = rt.synthesis_sentence(
        row(p_holm=math.nan, mwu_p=math.nan), CPU, alpha=0.05,
        reasons=["mwu_p: both arms are constant and equal"],
    )  # fmt: skip
    assert "no significance test could be made (mwu_p: both arms are constant and equal)" in (
        untested
    )
    empty = rt.synthesis_sentence(row(change_median_pct=math.nan), CPU, alpha=0.05)
    assert "cannot be compared" in empty
    assert "an arm has no values" in empty


def test_notes_for_picks_the_comparison_and_metric_wide_notes() -> None:
    class N:
        def __init__(self, scenario: str | None, metric: str) -> None:
            self.scenario, self.metric, self.statistic, self.reason = scenario, metric, "s", "r"

    picked = rt.notes_for([N("sev_on", "m"), N(None, "m"), N("x", "m"), N("sev_on", "o")],
                          "sev_on", "m")  # fmt: skip
    assert picked == ["s: r", "s: r"]


def test_captions_state_the_numbers() -> None:
    hist = rt.histogram_caption(CPU, {"sev_off": 13677.96, "sev_on": 13596.165}, [row()], [])
    assert "sev_off 13678 events/s, sev_on 13596.2 events/s" in hist
    assert "sev_on −0.60 % (δ = −0.88, large)" in hist
    assert "further right is better" in hist
    qq = rt.qq_caption(CPU, {"sev_off": 0.98765, "sev_on": None}, ["no Q–Q line for sev_on"])
    assert "sev_off r = 0.988, sev_on r = –" in qq
    assert "Not drawn: no Q–Q line for sev_on." in qq
    drift = rt.run_order_caption([Drift("sev_on", "cpu_perf", -0.61, 0.004)], 0.05)
    assert "ρ = −0.61 (p = 0.004, unadjusted)" in drift
    assert "Arms with a trend at α = 0.05: sev_on/cpu_perf." in drift
    assert "No arm has three" in rt.run_order_caption([], 0.05)
    violin = rt.violin_caption({("a", "m"): (20, 1), ("b", "m"): (19, 0)}, [])
    assert "39 runs in 2 arms (19–20 per arm); removed per arm: a/m 1." in violin


def test_single_scenario_report_says_there_is_nothing_to_compare(tmp_path: Path) -> None:
    results = tmp_path / "one.csv"
    results.write_text("scenario,metric,value\nonly,cpu_perf,1\nonly,cpu_perf,2\n", "utf-8")
    analysis = analyse(load_results(results))
    assert synthesis(analysis) == [
        "Only one scenario (only) is present: there is nothing to compare with the baseline, "
        "so the report shows descriptive statistics only."
    ]
    assert comparison_rows(analysis.comparisons) == []
    assert [r["n"] for r in descriptive_rows(analysis)] == ["2"]
