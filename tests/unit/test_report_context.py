"""The template's rows: provenance facts, outlier lists, retried runs, side-by-side comparison."""

from __future__ import annotations

import json
from pathlib import Path

from snpappliance.report import context as rc
from snpappliance.report.load import load_results
from snpappliance.report.stats.analysis import StatsOptions, analyse

FIXTURES = Path(__file__).parent.parent / "fixtures" / "report-environment"
HEADER = "scenario,metric,value,rep,attempt,status\n"


def results_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "results.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def arms_with_outlier() -> str:
    rows = [f"base,cpu_perf,{100 + i % 3},{i + 1},1,ok\n" for i in range(12)]
    rows[4] = "base,cpu_perf,150,5,1,ok\n"
    rows += [f"new,cpu_perf,{97 + i % 3},{i + 1},{2 if i == 0 else 1},ok\n" for i in range(12)]
    rows.append("new,cpu_perf,,13,3,timeout\n")
    return "".join(rows)


def test_outliers_are_listed_per_arm_with_rep_and_value(tmp_path: Path) -> None:
    analysis = analyse(load_results(results_file(tmp_path, arms_with_outlier())))
    rows = rc.outlier_rows(analysis)
    assert [(r["scenario"], r["metric"], r["count"]) for r in rows] == [("base", "cpu_perf", "1")]
    assert rows[0]["removed_values"] == "rep 5: 150"
    assert rows[0]["fences"].startswith("[")


def test_failed_and_retried_runs_are_counted(tmp_path: Path) -> None:
    results = load_results(results_file(tmp_path, arms_with_outlier()))
    analysis = analyse(results)
    assert rc.excluded_rows(analysis) == [
        {
            "scenario": "new",
            "workload": "–",
            "metric": "cpu_perf",
            "status": "timeout",
            "count": "1",
        }
    ]
    assert rc.retried_rows(results) == [
        {"scenario": "new", "workload": "–", "metric": "cpu_perf", "count": "1"}
    ]
    assert rc.counts_line(results).startswith("25 rows: 24 with status ok")


def test_side_by_side_shows_filtered_and_raw(tmp_path: Path) -> None:
    analysis = analyse(load_results(results_file(tmp_path, arms_with_outlier())))
    (row,) = rc.side_by_side_rows(analysis)
    assert row["n_f"] == "11 / 12"
    assert row["n_u"] == "12 / 12"
    assert row["sig_f"] in ("yes", "no")
    unfiltered = analyse(
        load_results(results_file(tmp_path, arms_with_outlier())),
        options=StatsOptions(outlier_filter=False),
    )
    assert rc.side_by_side_rows(unfiltered)[0]["n_f"] == "12 / 12"
    assert rc.outlier_rows(unfiltered) == []


def test_flatten_nested_facts() -> None:
    facts = dict(
        rc.flatten(
            {"host": {"name": "genoa01", "cpu": {"model": "EPYC 9654"}}, "firmware": None,
             "flags": ["sev", "sev_es", "sev_snp"], "disks": [{"dev": "nvme0"}]}
        )
    )  # fmt: skip
    assert facts == {
        "host.name": "genoa01",
        "host.cpu.model": "EPYC 9654",
        "firmware": "–",
        "flags": "sev, sev_es, sev_snp",
        "disks[0].dev": "nvme0",
    }


def test_campaign_facts_show_what_is_there(tmp_path: Path) -> None:
    campaign = tmp_path / "c"
    campaign.mkdir()
    (campaign / "results.csv").write_text(HEADER + "a,m,1,1,1,ok\n", encoding="utf-8")
    (campaign / "campaign.json").write_text(json.dumps({"campaign_id": "c", "seed": 7}), "utf-8")
    (campaign / "campaign.toml").write_text('[snp]\npolicy = "0x30000"\n', encoding="utf-8")
    (campaign / "environment.json").write_text("{not json", encoding="utf-8")
    groups = rc.campaign_facts(load_results(campaign), campaign)
    assert [g.title for g in groups] == ["campaign.json", "campaign.toml", "environment.json"]
    assert ("seed", "7") in groups[0].facts
    assert groups[1].facts == (("snp.policy", "0x30000"),)
    assert groups[2].facts == ()
    assert groups[2].note.startswith("could not be read")


def test_long_fact_files_are_kept_whole_for_the_appendix() -> None:
    group = rc.fact_group("environment.json", {f"k{i}": i for i in range(200)})
    assert len(group.facts) == 200
    assert group.facts[199] == ("k199", "199")
    assert group.note == ""


def test_a_toolchains_debian_packages_share_one_row() -> None:
    data = json.loads((FIXTURES / "environment.json").read_text(encoding="utf-8"))
    flat = dict(rc.flatten(data))
    debs = [k for k in flat if k.startswith("guest.manifest.toolchain.deb:")]
    group = rc.fact_group("environment.json", data)
    facts = dict(group.facts)
    (label,) = [k for k in facts if "Debian packages" in k]
    assert label == f"guest.manifest.toolchain Debian packages ({len(debs)})"
    assert facts[label].startswith("adduser 3.134, apt 2.6.1, ")
    assert facts[label].count(", ") == len(debs) - 1
    assert not any(".deb:" in k for k in facts)
    assert len(group.facts) == len(flat) - len(debs) + 1
    assert (
        facts["guest.manifest.toolchain.base_mirror"]
        == flat["guest.manifest.toolchain.base_mirror"]
    )
