"""analyse() and write_stats(): outliers, descriptive table, comparisons, degenerate data, files.

Expected values are hand arithmetic written out in the comments.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from snpappliance.errors import ConfigError, InputError
from snpappliance.formats.results import CampaignInfo
from snpappliance.report.load import ResultSet, rows_to_frame, validate_frame
from snpappliance.report.stats.analysis import (
    COMPARISON_COLUMNS,
    DESCRIPTIVE_COLUMNS,
    OUTLIER_COLUMNS,
    Analysis,
    CiMethod,
    Note,
    NoteTable,
    StatsOptions,
    analyse,
    write_stats,
)
from snpappliance.report.stats.describe import DESCRIPTIVE_STATISTICS

if TYPE_CHECKING:
    from collections.abc import Sequence

FAST = StatsOptions(bootstrap_resamples=200)


def rows(
    scenario: str, metric: str, values: Sequence[float], *, status: str = "ok", unit: str = ""
) -> list[dict[str, object]]:
    return [
        {
            "scenario": scenario,
            "metric": metric,
            "value": v,
            "rep": i,
            "status": status,
            "run_id": f"{scenario}-{metric}-{i}" if status == "ok" else f"{status}-{i}",
            "unit": unit,
        }
        for i, v in enumerate(values, start=1)
    ]


def result_set(*groups: list[dict[str, object]], campaign: CampaignInfo | None = None) -> ResultSet:
    all_rows = [row for group in groups for row in group]
    frame = validate_frame(rows_to_frame(all_rows), Path("results.csv"))
    return ResultSet(frame=frame, source=Path("results.csv"), campaign=campaign)


def one(frame: pd.DataFrame, **where: str) -> dict[str, Any]:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= (frame[column] == value).to_numpy()
    assert mask.sum() == 1, f"expected one row for {where}, found {mask.sum()}"
    return dict(frame[mask].iloc[0])


def notes_for(analysis: Analysis, **where: object) -> list[Note]:
    return [n for n in analysis.notes if all(getattr(n, k) == v for k, v in where.items())]


# The Tukey example. Sorted: 3.5, 4, 10, 11, 12, 13, 14, 20, 20.5 (n = 9).
# Type 7: h = (n − 1)·p + 1 → Q1 at h = 3 → x₃ = 10; Q3 at h = 7 → x₇ = 14; IQR = 4.
# Fences: 10 − 1.5·4 = 4 and 14 + 1.5·4 = 20. 4 and 20 sit exactly on a fence (kept);
# 3.5 and 20.5 lie outside (removed). Filtered: 4, 10, 11, 12, 13, 14, 20 (n = 7).
# A second pass would use Q1 = 10.5, Q3 = 13.5, fences 6 and 18 and drop 4 and 20:
# keeping them shows the filter is applied once.
TUKEY = [12, 3.5, 20, 10, 4, 14, 20.5, 11, 13]  # file order
# Baseline without outliers or ties with TUKEY: 9.5, 10.5, …, 17.5 (Q1 11.5, Q3 15.5).
BASE = [9.5 + i for i in range(9)]


def tukey_analysis(options: StatsOptions = FAST) -> Analysis:
    return analyse(result_set(rows("off", "cpu", BASE), rows("on", "cpu", TUKEY)), options=options)


def test_tukey_removes_outside_and_keeps_values_on_the_fences() -> None:
    analysis = tukey_analysis()
    out = analysis.outliers
    assert list(out.columns) == list(OUTLIER_COLUMNS)
    assert sorted(out["value"]) == [3.5, 20.5]
    assert set(out["fence_low"]) == {4.0}
    assert set(out["fence_high"]) == {20.0}
    # reps are the positions in the file: 3.5 is the 2nd row, 20.5 the 7th
    assert sorted(out["rep"]) == ["2", "7"]
    assert sorted(out["run_id"]) == ["on-cpu-2", "on-cpu-7"]
    assert set(out["scenario"]) == {"on"}


def test_descriptive_by_hand_on_filtered_data() -> None:
    row = one(tukey_analysis().descriptive, scenario="on", metric="cpu")
    # filtered: 4, 10, 11, 12, 13, 14, 20 → sum 84, mean 12, median 12
    # deviations −8, −2, −1, 0, 1, 2, 8 → Σ² = 138 → var = 138/6 = 23
    # Q1: h = 6·0.25 + 1 = 2.5 → 10 + 0.5·(11 − 10) = 10.5; Q3: h = 5.5 → 13.5
    assert (row["n"], row["n_removed"]) == (7, 2)
    assert row["mean"] == 12.0
    assert row["median"] == 12.0
    assert (row["min"], row["max"]) == (4.0, 20.0)
    assert (row["q1"], row["q3"], row["iqr"]) == (10.5, 13.5, 3.0)
    assert row["std"] == pytest.approx(math.sqrt(23), rel=1e-15)
    assert row["sem"] == pytest.approx(math.sqrt(23 / 7), rel=1e-15)
    # t(0.975, 6) = 2.4469 (printed t tables)
    half = row["ci95_high"] - row["mean"]
    assert half == pytest.approx(2.4469 * math.sqrt(23 / 7), abs=1e-4 * math.sqrt(23 / 7))
    assert row["mean"] - row["ci95_low"] == pytest.approx(half)
    assert list(analysis_columns := tukey_analysis().descriptive.columns) == list(
        DESCRIPTIVE_COLUMNS
    ), analysis_columns


def test_normal_ci_is_the_papers_1_96_sem() -> None:
    row = one(tukey_analysis(StatsOptions(ci=CiMethod.NORMAL)).descriptive, scenario="on")
    assert row["ci95_low"] == pytest.approx(12 - 1.96 * math.sqrt(23 / 7), rel=1e-15)
    assert row["ci95_high"] == pytest.approx(12 + 1.96 * math.sqrt(23 / 7), rel=1e-15)


def test_comparison_by_hand_with_unequal_n_after_trimming() -> None:
    analysis = tukey_analysis()
    row = one(analysis.comparisons, metric="cpu", scenario="on")
    assert list(analysis.comparisons.columns) == list(COMPARISON_COLUMNS)
    assert (row["baseline"], row["n_baseline"], row["n_scenario"]) == ("off", 9, 7)
    # baseline median = mean = 13.5; scenario 12 → 100·(12 − 13.5)/13.5 = −11.11…%
    assert row["median_baseline"] == 13.5
    assert row["change_median_pct"] == pytest.approx(-100 * 1.5 / 13.5, rel=1e-14)
    assert row["change_mean_pct"] == pytest.approx(-100 * 1.5 / 13.5, rel=1e-14)
    # U: baseline values below each scenario value: 4→0, 10→1, 11→2, 12→3, 13→4, 14→5,
    # 20→9 → U = 24; δ = 2·24/63 − 1 = −15/63. No ties, n < 50 → exact.
    assert row["mwu_u"] == 24.0
    assert row["mwu_method"] == "exact"
    assert row["cliffs_delta"] == pytest.approx(-15 / 63, rel=1e-14)
    assert row["magnitude"] == "small"
    assert row["cliffs_delta_ci_low"] <= row["cliffs_delta"] <= row["cliffs_delta_ci_high"]
    assert row["p_holm"] == row["mwu_p"]  # a family of one
    # Unfiltered: 3.5 adds 0, 20.5 adds 9 → U = 33 of 81 pairs; δ = 66/81 − 1 = −15/81
    raw = one(analysis.comparisons_unfiltered, metric="cpu", scenario="on")
    assert (raw["n_baseline"], raw["n_scenario"], raw["mwu_u"]) == (9, 9, 33.0)
    assert raw["cliffs_delta"] == pytest.approx(-15 / 81, rel=1e-14)


def test_holm_runs_over_every_comparison_of_a_table() -> None:
    data = np.random.default_rng(8)
    groups = [
        rows(s, m, list(data.normal(shift, 1, 12).round(3)))
        for s, shift in (("a", 0.0), ("b", 0.8), ("c", 1.5))
        for m in ("cpu", "mem")
    ]
    table = analyse(result_set(*groups), options=FAST).comparisons
    assert list(zip(table["metric"], table["scenario"], strict=True)) == [
        ("cpu", "b"), ("cpu", "c"), ("mem", "b"), ("mem", "c")
    ]  # fmt: skip
    p = table["mwu_p"].to_list()
    # Holm by its definition: the i-th smallest of m p-values times (m − i), running maximum
    order = sorted(range(4), key=lambda i: p[i])
    expected, running = [0.0] * 4, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (4 - rank) * p[i]))
        expected[i] = running
    assert table["p_holm"].to_list() == pytest.approx(expected, rel=1e-15)


def test_filter_off_reports_raw_data_everywhere() -> None:
    analysis = tukey_analysis(StatsOptions(outlier_filter=False, bootstrap_resamples=200))
    assert analysis.outliers.empty
    assert list(analysis.outliers.columns) == list(OUTLIER_COLUMNS)
    assert analysis.descriptive["n_removed"].to_list() == [0, 0]
    assert one(analysis.descriptive, scenario="on")["n"] == 9
    pd.testing.assert_frame_equal(analysis.comparisons, analysis.comparisons_unfiltered)


def test_analyse_is_reproducible() -> None:
    first, second = tukey_analysis(StatsOptions()), tukey_analysis(StatsOptions())
    pd.testing.assert_frame_equal(first.comparisons, second.comparisons)
    other_seed = tukey_analysis(StatsOptions(seed=1))
    assert not first.comparisons["cliffs_delta_ci_low"].equals(
        other_seed.comparisons["cliffs_delta_ci_low"]
    ) or not first.comparisons["cliffs_delta_ci_high"].equals(
        other_seed.comparisons["cliffs_delta_ci_high"]
    )


# ----------------------------------------------------------------- degenerate data


def test_arm_with_one_value() -> None:
    analysis = analyse(
        result_set(rows("off", "cpu", [1, 2, 3]), rows("on", "cpu", [5])), options=FAST
    )
    desc = one(analysis.descriptive, scenario="on")
    assert (desc["n"], desc["mean"], desc["median"], desc["q1"], desc["iqr"]) == (1, 5, 5, 5, 0)
    assert all(math.isnan(desc[c]) for c in ("std", "sem", "ci95_low", "ci95_high"))
    [note] = notes_for(analysis, scenario="on", table=NoteTable.DESCRIPTIVE)
    assert note.reason == "std needs n ≥ 2 (n = 1)"
    row = one(analysis.comparisons, scenario="on")
    assert math.isnan(row["welch_t"])
    assert math.isnan(row["welch_p"])
    assert row["mwu_u"] == 3.0  # 5 is above all three baseline values
    assert row["cliffs_delta"] == 1.0
    reasons = [n.reason for n in notes_for(analysis, table=NoteTable.COMPARISONS)]
    assert reasons == ["Welch's t needs n ≥ 2 in both arms (n_baseline = 3, n_scenario = 1)"]


def test_zero_variance_in_both_arms() -> None:
    analysis = analyse(
        result_set(rows("off", "cpu", [5] * 4), rows("on", "cpu", [6] * 3)), options=FAST
    )
    desc = one(analysis.descriptive, scenario="on")
    assert (desc["std"], desc["sem"], desc["ci95_low"], desc["ci95_high"]) == (0, 0, 6, 6)
    row = one(analysis.comparisons, scenario="on")
    assert all(math.isnan(row[c]) for c in ("welch_t", "welch_df", "welch_p"))
    # every scenario value beats every baseline value: U = 12, δ = 1; pooled ties → asymptotic
    assert (row["mwu_u"], row["cliffs_delta"], row["mwu_method"]) == (12.0, 1.0, "asymptotic")
    assert (row["cliffs_delta_ci_low"], row["cliffs_delta_ci_high"]) == (1.0, 1.0)
    assert 0 < row["mwu_p"] < 1
    [note] = notes_for(analysis, table=NoteTable.COMPARISONS)
    assert note.statistic == "welch_t, welch_df, welch_p"
    assert note.reason == "Welch's t is undefined: both arms have zero variance"


def test_ties_everywhere() -> None:
    analysis = analyse(
        result_set(rows("off", "cpu", [7] * 5), rows("on", "cpu", [7] * 4)), options=FAST
    )
    row = one(analysis.comparisons, scenario="on")
    assert math.isnan(row["mwu_p"])
    assert math.isnan(row["p_holm"])
    assert row["mwu_method"] is None
    assert (row["mwu_u"], row["cliffs_delta"], row["magnitude"]) == (10.0, 0.0, "negligible")
    assert (row["cliffs_delta_ci_low"], row["cliffs_delta_ci_high"]) == (0.0, 0.0)
    assert row["change_median_pct"] == 0.0
    reasons = {n.reason for n in notes_for(analysis, table=NoteTable.COMPARISONS)}
    assert reasons == {
        "Welch's t is undefined: both arms have zero variance",
        "Mann–Whitney p is undefined: all 9 pooled values are equal",
    }


def test_single_scenario_has_no_comparisons_and_says_so() -> None:
    analysis = analyse(result_set(rows("only", "cpu", [1, 2, 3]), rows("only", "mem", [4, 5])))
    assert analysis.comparisons.empty
    assert list(analysis.comparisons.columns) == list(COMPARISON_COLUMNS)
    assert analysis.comparisons_unfiltered.empty
    notes = notes_for(analysis, table=NoteTable.COMPARISONS)
    assert [(n.scenario, n.metric) for n in notes] == [(None, "cpu"), (None, "mem")]
    assert "only one scenario (only)" in notes[0].reason
    json.dumps(analysis.summary(), allow_nan=False)


def test_metric_missing_in_a_scenario_keeps_its_row_with_n_zero() -> None:
    results = result_set(
        rows("off", "cpu", [1, 2, 3]), rows("off", "wall_s", [9, 8, 7]), rows("on", "cpu", [4, 5])
    )
    analysis = analyse(results, options=FAST)
    assert one(analysis.descriptive, scenario="off", metric="wall_s")["n"] == 3
    assert not (
        (analysis.descriptive["scenario"] == "on") & (analysis.descriptive["metric"] == "wall_s")
    ).any()
    row = one(analysis.comparisons, metric="wall_s", scenario="on")
    assert (row["n_baseline"], row["n_scenario"], row["median_baseline"]) == (3, 0, 8.0)
    present = ("n_baseline", "n_scenario", "median_baseline", "mean_baseline")
    text = (
        "workload",
        "metric",
        "baseline",
        "scenario",
        "mwu_method",
        "magnitude",
        "cliffs_delta_ci_method",
    )
    empty = [c for c in COMPARISON_COLUMNS if c not in present + text]
    assert row["mean_baseline"] == 8.0
    assert all(math.isnan(row[c]) for c in empty)
    assert row["mwu_method"] is None
    assert row["magnitude"] is None
    [note] = notes_for(analysis, metric="wall_s", table=NoteTable.COMPARISONS)
    assert note.reason == "no ok values in the scenario arm: nothing to compare"
    # the other comparison is complete and the Holm family only counts it
    cpu = one(analysis.comparisons, metric="cpu", scenario="on")
    assert cpu["p_holm"] == cpu["mwu_p"]


def test_arm_whose_runs_all_failed() -> None:
    results = result_set(
        rows("off", "cpu", [1, 2, 3]),
        rows("on", "cpu", [4, 5], status="failed"),
        rows("on", "cpu", [6], status="timeout"),
    )
    analysis = analyse(results, options=FAST)
    desc = one(analysis.descriptive, scenario="on")
    assert (desc["n"], desc["n_removed"]) == (0, 0)
    assert all(math.isnan(desc[c]) for c in DESCRIPTIVE_STATISTICS)
    [note] = notes_for(analysis, scenario="on", table=NoteTable.DESCRIPTIVE)
    assert note.reason == "the arm has no values with status ok"
    assert one(analysis.comparisons, scenario="on")["n_scenario"] == 0
    assert analysis.excluded.to_dict("records") == [
        {"scenario": "on", "workload": "", "metric": "cpu", "status": "failed", "count": 2},
        {"scenario": "on", "workload": "", "metric": "cpu", "status": "timeout", "count": 1},
    ]


def test_baseline_median_zero_leaves_relative_change_empty() -> None:
    analysis = analyse(
        result_set(rows("off", "x", [-1, 0, 1]), rows("on", "x", [1, 2, 3])), options=FAST
    )
    row = one(analysis.comparisons, scenario="on")
    assert math.isnan(row["change_median_pct"])
    assert math.isnan(row["change_mean_pct"])
    statistics = {n.statistic for n in notes_for(analysis, table=NoteTable.COMPARISONS)}
    assert statistics == {"change_median_pct", "change_mean_pct"}


# ------------------------------------------------------------------ baseline choice


def three_scenarios(campaign: CampaignInfo | None = None) -> ResultSet:
    groups = [rows(s, "cpu", [1, 2, 3]) for s in ("a", "b", "c")]
    return result_set(*groups, campaign=campaign)


def test_baseline_resolution_order() -> None:
    declared = CampaignInfo(campaign_id="x", baseline="b")
    assert analyse(three_scenarios(), options=FAST).baseline == "a"
    assert analyse(three_scenarios(declared), options=FAST).baseline == "b"
    explicit = analyse(three_scenarios(declared), baseline="c", options=FAST)
    assert explicit.baseline == "c"
    assert explicit.comparisons["scenario"].to_list() == ["a", "b"]


def test_unknown_baseline_names_the_scenarios() -> None:
    with pytest.raises(InputError, match=r"baseline 'd' is not a scenario .*a, b, c") as info:
        analyse(three_scenarios(), baseline="d")
    assert info.value.hint is not None
    declared = CampaignInfo(campaign_id="x", baseline="gone")
    with pytest.raises(InputError, match=r"declares baseline 'gone'.*a, b, c"):
        analyse(three_scenarios(declared))


def test_invalid_options_are_config_errors() -> None:
    assert StatsOptions(ci="normal").ci is CiMethod.NORMAL  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown CI method"):
        StatsOptions(ci="bca")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="resamples"):
        StatsOptions(bootstrap_resamples=0)
    with pytest.raises(ConfigError, match="alpha"):
        StatsOptions(alpha=1.0)
    with pytest.raises(ConfigError, match="seed"):
        StatsOptions(seed=-1)


# ----------------------------------------------------------------------- files


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_write_stats_exact_columns_and_full_precision(tmp_path: Path) -> None:
    # 0.1 + 0.2 = 0.30000000000000004 needs 17 significant digits to survive
    results = result_set(
        rows("off", "cpu", [0.1 + 0.2, 0.7, 0.9]),
        rows("on", "cpu", [2 / 3]),
        rows("on", "cpu", [1.0], status="failed"),
    )
    analysis = analyse(results, options=FAST)
    write_stats(analysis, tmp_path)
    stats_dir = tmp_path / "stats"
    descriptive = read_csv(stats_dir / "descriptive.csv")
    assert descriptive[0] == list(DESCRIPTIVE_COLUMNS)
    off = dict(zip(descriptive[0], descriptive[1], strict=True))
    assert off["min"] == "0.30000000000000004"
    assert off["n"] == "3"
    assert off["n_removed"] == "0"
    assert float(off["mean"]) == analysis.descriptive["mean"].iloc[0]  # round-trips exactly
    on = dict(zip(descriptive[0], descriptive[2], strict=True))
    assert on["mean"] == repr(2 / 3)
    assert on["std"] == ""  # n = 1: empty, not "nan"
    comparisons = read_csv(stats_dir / "comparisons.csv")
    assert comparisons[0] == list(COMPARISON_COLUMNS)
    row = dict(zip(comparisons[0], comparisons[1], strict=True))
    assert row["welch_p"] == ""
    assert row["n_scenario"] == "1"
    assert row["mwu_method"] == "exact"
    assert read_csv(stats_dir / "outliers.csv") == [list(OUTLIER_COLUMNS)]
    assert read_csv(stats_dir / "comparisons_unfiltered.csv")[0] == list(COMPARISON_COLUMNS)

    def no_constants(name: str) -> None:
        msg = f"summary.json contains {name}"
        raise AssertionError(msg)

    summary = json.loads((stats_dir / "summary.json").read_text(), parse_constant=no_constants)
    assert summary["baseline"] == "off"
    assert summary["scenarios"] == ["off", "on"]
    assert summary["metrics"] == ["cpu"]
    assert summary["options"]["ci"] == "t"
    # ok values 0.30000000000000004, 0.7, 0.9, 2/3: the largest (0.9) allows 7 significant
    # digits = 7 decimals, and 2/3's 16 decimals are capped there
    assert summary["series"] == [{"workload": "", "metric": "cpu", "resolution_decimals": 7}]
    assert summary["arms"] == [
        {"scenario": "off", "workload": "", "metric": "cpu", "n": 3, "n_removed": 0},
        {"scenario": "on", "workload": "", "metric": "cpu", "n": 1, "n_removed": 0},
    ]
    [comparison] = summary["comparisons"]
    assert comparison["welch_p"] is None
    # 2/3 lies above 0.30000000000000004 only: U = 1 of 3 pairs; exact p = 1 (n = 1/3)
    assert comparison["mwu_u"] == 1.0
    assert comparison["significant"] is False
    assert summary["excluded"] == [
        {"scenario": "on", "workload": "", "metric": "cpu", "status": "failed", "count": 1}
    ]
    assert {n["statistic"] for n in summary["notes"]} >= {"welch_t, welch_df, welch_p"}
    assert summary["stats_version"] == 3
    assert summary["emulated"] is False


def test_summary_labels_emulated_profiles() -> None:
    campaign = CampaignInfo(campaign_id="local", emulated=True)
    summary = analyse(three_scenarios(campaign), options=FAST).summary()
    assert summary["emulated"] is True
    assert summary["profile_label"] == "local emulated profile — not an SNP measurement"


def test_units_are_the_first_non_empty_unit_of_each_metric() -> None:
    results = result_set(
        rows("off", "cpu", [1, 2]),
        rows("on", "cpu", [3, 4], unit="events/s"),
        rows("off", "free", [5, 6]),
    )
    assert analyse(results, options=FAST).units == {"cpu": "events/s", "free": ""}


def test_case_study_trap_end_to_end() -> None:
    # Every sev_on run slower than every sev_off run (cpu_perf, n = 20/20): U = 0, so
    # δ = 2·0/400 − 1 = −1 (the case study printed 0.88 next to U = 0).
    off = [13677 + 0.5 * i for i in range(20)]
    on = [13590 + 0.5 * i for i in range(20)]
    analysis = analyse(result_set(rows("sev_off", "cpu_perf", off), rows("sev_on", "cpu_perf", on)))
    row = one(analysis.comparisons, scenario="sev_on")
    assert (row["mwu_u"], row["cliffs_delta"], row["magnitude"]) == (0.0, -1.0, "large")
    assert (row["cliffs_delta_ci_low"], row["cliffs_delta_ci_high"]) == (-1.0, -1.0)
    assert row["mwu_method"] == "exact"
    assert row["welch_t"] < 0
    # medians 13681.75 and 13594.75: 100·(13594.75 − 13681.75)/13681.75
    assert row["change_median_pct"] == pytest.approx(-8700 / 13681.75, rel=1e-12)
