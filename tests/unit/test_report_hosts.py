"""Per-host views (pure): which results count as multi-host, and their facts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from snpappliance.report.context import campaign_facts
from snpappliance.report.hosts import host_results, hosts_of
from snpappliance.report.load import ResultSet, rows_to_frame


def _results(hosts: list[str]) -> ResultSet:
    rows = [
        {"scenario": "a", "metric": "cpu_perf", "value": float(i), "host": h}
        for i, h in enumerate(hosts)
    ]
    return ResultSet(frame=rows_to_frame(rows), source=Path("r.csv"), campaign=None)


def test_only_two_or_more_non_empty_hosts_count() -> None:
    assert hosts_of(_results(["b", "", "a", "b"])) == ["b", "a"]
    assert hosts_of(_results(["a", "a", ""])) == []
    assert hosts_of(_results(["", ""])) == []
    mine = host_results(_results(["b", "a", "b"]), "b")
    assert list(mine.frame["value"].astype(float)) == [0.0, 2.0]
    assert isinstance(mine.frame, pd.DataFrame)


def test_multi_host_environment_gives_one_fact_group_per_host(tmp_path: Path) -> None:
    env = {"hosts": {"genoa01": {"host": {"name": "genoa01"}}, "genoa02": {"qemu": {"v": "9"}}}}
    (tmp_path / "environment.json").write_text(json.dumps(env), encoding="utf-8")
    groups = campaign_facts(_results(["x"]), tmp_path)
    assert [g.title for g in groups] == [
        "environment.json — host genoa01",
        "environment.json — host genoa02",
    ]
    assert groups[1].facts == (("qemu.v", "9"),)
