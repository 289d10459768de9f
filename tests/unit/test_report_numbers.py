"""One precision rule: the data's resolution for every number of a series, CI bounds in
the digits of their mean, in the report and in the campaign's terminal summary."""

from __future__ import annotations

import csv
import math
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign import progress
from snpappliance.formats import precision
from snpappliance.formats.results import COLUMNS
from snpappliance.log import console
from snpappliance.report import text as rt
from snpappliance.report.context import descriptive_rows
from snpappliance.report.load import load_results
from snpappliance.report.stats.analysis import StatsOptions, analyse

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("values", "decimals"),
    [([5.12, 5.2, 5.13], 2), ([13677.96, 13596.1], 2), ([100.0, 120.0], 0), ([1e-05, 2e-05], 5),
     ([58.123456789, 60.1], 5), ([1234567.0], 0), ([], 0), ([0.5, math.nan], 1)],
)  # fmt: skip
def test_resolution_is_the_finest_recorded_decimal_capped(
    values: list[float], decimals: int
) -> None:
    assert precision.resolution_decimals(values) == decimals


def test_spreads_keep_two_significant_digits_and_percentages_follow_one_step() -> None:
    assert rt.fmt_spread_at(0.03899, 2) == "0.039"
    assert rt.fmt_spread_at(1119.234, 2) == "1119.23"
    assert rt.fmt_spread_at(0.0, 2) == "0.00"
    # 0.01 s at 5.18 s is 0.19 %: one decimal; 0.01 at 13678 is far below 0.01 %: two
    assert precision.percent_decimals(2, 5.18) == 1
    assert precision.percent_decimals(2, 13678.0) == 2
    assert rt.fmt_pct(1.6283, decimals=1) == "+1.6 %"
    assert rt.fmt_at(-0.001, 2) == "0.00"


def test_table_2_numbers_follow_the_resolution(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    values = [5.12, 5.17, 5.21, 5.15, 5.19, 5.14, 5.22, 5.16]
    path.write_text(
        "scenario,workload,metric,value,unit\n"
        + "".join(f"base,sysbench-cpu,cpu_wall_s,{v},s\n" for v in values),
        encoding="utf-8",
    )
    [row] = descriptive_rows(analyse(load_results(path), options=StatsOptions()))
    assert row["mean"] == "5.17"
    assert row["median"] == "5.17"
    low, high = row["ci95"].strip("[]").split(", ")
    assert len(low.split(".")[1]) == len(high.split(".")[1]) == 2
    assert row["std"] == "0.035"  # sd 0.0354: finer than 0.01, two significant digits
    assert row["min"] == "5.12"


def test_terminal_summary_uses_the_same_rule_and_says_before_filtering(tmp_path: Path) -> None:
    rows = [
        {"scenario": "base", "workload": "sysbench-cpu", "metric": "cpu_perf", "value": v,
         "unit": "events/s", "status": "ok"}
        for v in (13677.96, 13596.1, 13650.5)
    ] + [
        {"scenario": "base", "workload": "boot", "metric": "boot_s", "value": v, "unit": "s",
         "status": "ok"}
        for v in (3.2, 3.25, 3.4)
    ]  # fmt: skip
    with (tmp_path / "results.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with console.capture() as captured:
        console.print(progress._medians(tmp_path))
    text = captured.get()
    assert "before outlier filtering" in text
    assert "13650.50 events/s" in text
    assert "3.25 s" in text
