"""Statistics per (workload, metric, scenario): workloads sharing a metric never pool."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import numpy as np
import pytest

from snpappliance.formats.results import COLUMNS
from snpappliance.report.context import comparison_rows, descriptive_rows, synthesis
from snpappliance.report.load import load_results
from snpappliance.report.stats.analysis import StatsOptions, analyse, write_stats

if TYPE_CHECKING:
    from pathlib import Path

FAST = StatsOptions(bootstrap_resamples=200)

#: (workload, metric, unit, baseline level, factor in "snp", decimals)
SERIES = [
    ("randread", "fio_read_iops", "IOPS", 20000.0, 0.80, 0),
    ("seqread", "fio_read_iops", "IOPS", 900.0, 1.00, 0),
    ("randread", "fio_read_lat_mean_us", "us", 400.0, 1.25, 3),
    ("tcp", "iperf3_receiver_mbit_s", "Mbit/s", 9000.0, 0.90, 2),
    ("udp", "iperf3_receiver_mbit_s", "Mbit/s", 950.0, 1.00, 2),
    ("udp", "iperf3_loss_pct", "%", 0.5, 1.40, 3),
    ("boot", "boot_s", "s", 3.2, 1.10, 3),
]


def write_results(path: Path, *, workloads: bool = True, reps: int = 12) -> Path:
    rng = np.random.default_rng(7)
    rows = []
    for scenario in ("baseline", "snp"):
        for rep in range(1, reps + 1):
            for workload, metric, unit, level, factor, digits in SERIES:
                mean = level * (factor if scenario == "snp" else 1.0)
                value = round(mean * (1 + 0.01 * rng.standard_normal()), digits)
                rows.append({
                    "scenario": scenario, "workload": workload if workloads else "",
                    "metric": metric, "value": value, "unit": unit, "rep": rep, "host": "h",
                    "run_id": f"{scenario}-{workload}-{rep}", "attempt": 1, "status": "ok",
                    "started_at": "",
                })  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_two_workloads_with_one_metric_are_two_arms(tmp_path: Path) -> None:
    analysis = analyse(load_results(write_results(tmp_path / "r.csv")), options=FAST)
    iops = analysis.descriptive[analysis.descriptive["metric"] == "fio_read_iops"]
    assert sorted(zip(iops["workload"], iops["scenario"], strict=True)) == [
        ("randread", "baseline"), ("randread", "snp"), ("seqread", "baseline"), ("seqread", "snp"),
    ]  # fmt: skip
    assert set(iops["n"] + iops["n_removed"]) == {12}
    medians = dict(zip(zip(iops["workload"], iops["scenario"], strict=True), iops["median"],
                       strict=True))  # fmt: skip
    # Pooled, the medians would lie between the two levels; apart each keeps its own.
    assert medians[("randread", "baseline")] == pytest.approx(20000, rel=0.05)
    assert medians[("seqread", "baseline")] == pytest.approx(900, rel=0.05)
    comparisons = analysis.comparisons
    assert len(comparisons) == len(SERIES)
    rand = comparisons[(comparisons["workload"] == "randread")
                       & (comparisons["metric"] == "fio_read_iops")].iloc[0]  # fmt: skip
    assert rand["change_median_pct"] == pytest.approx(-20, abs=2)
    tcp = comparisons[comparisons["workload"] == "tcp"].iloc[0]
    assert tcp["change_median_pct"] == pytest.approx(-10, abs=2)


def test_series_are_grouped_by_workload(tmp_path: Path) -> None:
    analysis = analyse(load_results(write_results(tmp_path / "r.csv")), options=FAST)
    assert analysis.series == (
        ("randread", "fio_read_iops"), ("randread", "fio_read_lat_mean_us"),
        ("seqread", "fio_read_iops"), ("tcp", "iperf3_receiver_mbit_s"),
        ("udp", "iperf3_receiver_mbit_s"), ("udp", "iperf3_loss_pct"), ("boot", "boot_s"),
    )  # fmt: skip
    shown = [(r["workload"], r["metric"]) for r in comparison_rows(analysis.comparisons, analysis)]
    assert shown == list(analysis.series)
    table2 = [r["workload"] for r in descriptive_rows(analysis)]
    assert table2 == sorted(table2, key=[w for w, _ in analysis.series].index)


def test_stats_files_name_the_workload_beside_the_metric(tmp_path: Path) -> None:
    analysis = analyse(load_results(write_results(tmp_path / "r.csv")), options=FAST)
    write_stats(analysis, tmp_path / "out")
    for name in ("descriptive.csv", "comparisons.csv", "outliers.csv"):
        with (tmp_path / "out" / "stats" / name).open(encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        assert header.index("workload") + 1 == header.index("metric"), name


def test_rows_without_a_workload_keep_working(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(
        "scenario,metric,value\n" + "".join(f"off,cpu_perf,{v}\non,cpu_perf,{v - 5}\n"
                                            for v in (100, 101, 102, 103, 104)),
        encoding="utf-8",
    )  # fmt: skip
    analysis = analyse(load_results(path), options=FAST)
    assert analysis.series == (("", "cpu_perf"),)
    [row] = comparison_rows(analysis.comparisons, analysis)
    assert row["workload"] == "–"
    assert row["change_median"] == "−4.9 %"
    sentences = synthesis(analysis)
    assert "in cpu_perf (events/s, higher is better)" in sentences[-1]


@pytest.mark.parametrize(
    ("workload", "metric", "words"),
    [
        ("randread", "fio_read_iops", "slower (lower throughput)"),
        ("randread", "fio_read_lat_mean_us", "slower (more time)"),
        ("udp", "iperf3_loss_pct", "worse (higher iperf3_loss_pct)"),
        ("boot", "boot_s", "slower (more time)"),
        ("tcp", "iperf3_receiver_mbit_s", "slower (lower throughput)"),
    ],
)
def test_direction_drives_the_words(tmp_path: Path, workload: str, metric: str, words: str) -> None:
    analysis = analyse(load_results(write_results(tmp_path / "r.csv")), options=FAST)
    sentence = next(s for s in synthesis(analysis) if f"in {metric} of {workload} " in s)
    assert "snp is " in sentence
    assert words in sentence, sentence
    row = next(r for r in comparison_rows(analysis.comparisons, analysis)
               if (r["workload"], r["metric"]) == (workload, metric))  # fmt: skip
    assert row["effect"] == "worse"


def test_synthesis_leads_with_the_largest_significant_overheads(tmp_path: Path) -> None:
    analysis = analyse(load_results(write_results(tmp_path / "r.csv")), options=FAST)
    sentences = synthesis(analysis)
    assert sentences[0].startswith(
        "Largest significant overheads against baseline: "
        "udp · iperf3_loss_pct in snp (39.5 % worse)"
    ), sentences[0]
    assert "randread · fio_read_lat_mean_us in snp (25" in sentences[0]
    assert "randread · fio_read_iops in snp (20" in sentences[0]
    # then one sentence per comparison, significant ones by decreasing |change|, the
    # unchanged series (seqread IOPS, UDP throughput) last
    body = sentences[1:]
    assert len(body) == len(SERIES)
    assert "of udp (%" in body[0]
    assert all(s.startswith("No significant difference") for s in body[-2:]), body[-2:]
