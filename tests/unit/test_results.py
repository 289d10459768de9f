"""Loading and writing the long results format."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import InputError
from snpappliance.formats.results import (
    COLUMNS,
    CampaignInfo,
    Direction,
    append_rows,
    latest_campaign,
    metric_info,
    repair_tail,
)
from snpappliance.report.load import load_results

if TYPE_CHECKING:
    from pathlib import Path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_csv_gets_defaults(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "scenario,metric,value\na,cpu_perf,1.5\nb,cpu_perf,2\n")
    results = load_results(path)
    assert list(results.frame.columns) == list(COLUMNS)
    assert results.frame["value"].tolist() == [1.5, 2.0]
    assert results.frame["status"].tolist() == ["ok", "ok"]
    assert results.scenarios == ["a", "b"]
    assert results.campaign is None


def test_not_ok_rows_may_have_no_value(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "scenario,metric,value,status\na,m,1,ok\na,m,,failed\n")
    results = load_results(path)
    assert len(results.ok) == 1
    assert results.not_ok["status"].tolist() == ["failed"]


def test_jsonl(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.jsonl",
        '{"scenario": "a", "metric": "m", "value": 3}\n\n'
        '{"scenario": "b", "metric": "m", "value": 4.5}\n',
    )
    assert load_results(path).frame["value"].tolist() == [3.0, 4.5]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty.csv", "", "is empty"),
        ("header.csv", "scenario,metric,value\n", "no data rows"),
        ("cols.csv", "scenario,value\na,1\n", r"lacks the required column\(s\) metric"),
        ("nan.csv", "scenario,metric,value\na,m,1\na,m,fast\n", r"nan.csv:3: column 'value'"),
        ("inf.csv", "scenario,metric,value\na,m,inf\n", r"inf.csv:2: column 'value'"),
        ("blank.csv", "scenario,metric,value\n,m,1\n", r"blank.csv:2: empty 'scenario'"),
        ("bad.jsonl", '{"scenario": "a"\n', r"bad.jsonl:1: not a JSON object"),
        ("r.txt", "x", "unsupported results format .txt"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_results(write(tmp_path / name, text))


def test_missing_file_and_bare_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_results(tmp_path / "nope.csv")
    with pytest.raises(InputError, match=r"directory without results\.csv"):
        load_results(tmp_path)


def test_campaign_directory_and_append(tmp_path: Path) -> None:
    campaign = tmp_path / "campaigns" / "c1"
    rows = [{"scenario": "baseline", "metric": "cpu_perf", "value": 10.0, "rep": 1}]
    assert append_rows(campaign / "results.csv", rows) == 1
    assert append_rows(campaign / "results.csv", [{**rows[0], "rep": 2}]) == 1
    info = CampaignInfo("c1", baseline="baseline", profile="local", emulated=True, label="x")
    (campaign / "campaign.json").write_text(info.to_json())
    results = load_results(campaign)
    assert results.frame["rep"].tolist() == ["1", "2"]
    assert results.campaign == info
    assert latest_campaign(tmp_path / "campaigns") == campaign


def test_append_refuses_foreign_header(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match="header"):
        append_rows(path, [{"scenario": "s", "metric": "m", "value": 1}])


def test_repair_tail_drops_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    append_rows(path, [{"scenario": "s", "metric": "m", "value": 1}])
    with path.open("a") as fh:
        fh.write("s,,m,2,")  # a crash in the middle of a row
    assert repair_tail(path)
    assert not repair_tail(path)
    assert load_results(path).frame["value"].tolist() == [1.0]


def test_metric_directions() -> None:
    assert metric_info("cpu_perf").direction is Direction.HIGHER
    assert metric_info("wall_s").direction is Direction.LOWER
    assert metric_info("boot_time", "s").direction is Direction.LOWER
    assert metric_info("iops", "ops/s").direction is Direction.HIGHER


def test_campaign_info_round_trip(tmp_path: Path) -> None:
    info = CampaignInfo("c", baseline="b", extra={"spec_sha256": "ab"})
    (tmp_path / "campaign.json").write_text(info.to_json())
    assert CampaignInfo.load(tmp_path) == info
    assert json.loads(info.to_json())["spec_sha256"] == "ab"
