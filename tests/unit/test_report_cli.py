"""`snpapp report` on bad input: one clear error, the right exit code, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, get_args

import pytest

from snpappliance.cli.report import CiChoice
from snpappliance.formats.results import CampaignInfo
from snpappliance.report.load import ResultSet, load_results
from snpappliance.report.publish import (
    baseline_reason,
    check_out,
    default_out,
    soft_breaks,
    title_of,
)
from snpappliance.report.stats.analysis import CiMethod

if TYPE_CHECKING:
    from tests.conftest import SnpappRunner

GOOD = "scenario,metric,value\nsev_off,cpu_perf,1.0\nsev_on,cpu_perf,2.0\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("scenario,metric,value\n", "has no data rows"),
        ("scenario,value\nsev_off,1.0\n", "lacks the required column(s) metric"),
        ("scenario,metric,value\nsev_off,cpu_perf,1.0\nsev_on,cpu_perf,fast\n",
         "results.csv:3: column 'value' is not a finite number: 'fast'"),
    ],
)  # fmt: skip
def test_bad_results_are_input_errors_and_write_nothing(
    snpapp: SnpappRunner, tmp_path: Path, text: str, message: str
) -> None:
    results = write(tmp_path / "results.csv", text)
    out = tmp_path / "out"
    code, stdout, err = snpapp("report", str(results), "--out", str(out))
    assert code == 4
    assert message in " ".join(err.split())
    assert stdout == ""
    assert not out.exists()


def test_missing_file(snpapp: SnpappRunner, tmp_path: Path) -> None:
    code, _, err = snpapp("report", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "out"))
    assert code == 4
    assert "does not exist" in err
    assert "snpapp campaign" in err
    assert not (tmp_path / "out").exists()


def test_unknown_baseline_names_the_scenarios(snpapp: SnpappRunner, tmp_path: Path) -> None:
    results = write(tmp_path / "r.csv", GOOD)
    code, _, err = snpapp(
        "report", str(results), "--baseline", "sev_of", "--out", str(tmp_path / "o")
    )
    assert code == 4
    assert "baseline 'sev_of' is not a scenario" in " ".join(err.split())
    assert "sev_off, sev_on" in err
    assert not (tmp_path / "o").exists()


def test_no_results_and_no_campaign_says_what_to_do(
    snpapp: SnpappRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = snpapp("report")
    assert code == 4
    assert "no campaign found" in err
    assert "run `snpapp campaign` first" in " ".join(err.split())
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_is_refused_and_kept(snpapp: SnpappRunner, tmp_path: Path) -> None:
    results = write(tmp_path / "r.csv", GOOD)
    target = write(tmp_path / "notes.txt", "keep me")
    code, _, err = snpapp("report", str(results), "--out", str(target))
    assert code == 5
    assert "is not a directory" in err
    assert target.read_text() == "keep me"


def test_out_below_a_file_cannot_be_created(snpapp: SnpappRunner, tmp_path: Path) -> None:
    results = write(tmp_path / "r.csv", GOOD)
    blocker = write(tmp_path / "blocker", "x")
    code, _, err = snpapp("report", str(results), "--out", str(blocker / "report"))
    assert code == 5
    assert "cannot create output directory" in err
    assert blocker.read_text() == "x"


def test_out_holding_other_files_is_never_replaced(snpapp: SnpappRunner, tmp_path: Path) -> None:
    results = write(tmp_path / "r.csv", GOOD)
    home = tmp_path / "home"
    home.mkdir()
    write(home / "thesis.tex", "precious")
    (home / "figures").mkdir()
    before = tree(home)
    code, _, err = snpapp("report", str(results), "--out", str(home))
    assert code == 5
    assert "thesis.tex" in err
    assert "new or empty directory" in " ".join(err.split())
    assert tree(home) == before


def test_check_out_accepts_new_and_empty_dirs(tmp_path: Path) -> None:
    check_out(tmp_path / "new")
    check_out(tmp_path)


def test_default_out_and_baseline_reason(tmp_path: Path) -> None:
    campaign = tmp_path / "c1"
    campaign.mkdir()
    write(campaign / "results.csv", GOOD)
    write(campaign / "campaign.json", '{"campaign_id": "c1", "baseline": "sev_on"}')
    assert default_out(campaign) == campaign / "report"
    assert default_out(campaign / "results.csv") == Path("report")
    from_campaign = load_results(campaign)
    assert baseline_reason(from_campaign, None) == "declared by the campaign (campaign.json)"
    assert baseline_reason(from_campaign, "sev_off") == "chosen with --baseline"
    plain = load_results(campaign / "results.csv")
    assert baseline_reason(plain, None).startswith("first scenario in the results file")


def test_titles_never_call_a_plain_file_an_snp_measurement(tmp_path: Path) -> None:
    frame = load_results(write(tmp_path / "r.csv", GOOD)).frame
    plain = ResultSet(frame, tmp_path / "r.csv", None)
    title, banner = title_of(plain)
    assert title == "snpapp report — results file r.csv"
    assert banner is None
    emulated = ResultSet(frame, tmp_path / "r.csv", CampaignInfo("c", emulated=True))
    title, banner = title_of(emulated)
    assert banner == "local emulated profile — not an SNP measurement"
    assert banner in title


def test_ci_choices_are_the_stats_ci_methods() -> None:
    assert get_args(CiChoice) == tuple(m.value for m in CiMethod)


def test_help_teaches(snpapp: SnpappRunner) -> None:
    code, out, _ = snpapp("report", "--help")
    assert code == 0
    text = " ".join(out.split())
    for phrase in ("campaign directory", "--baseline", "--no-outlier-filter", "--ci",
                   "report.pdf", "Examples"):  # fmt: skip
        assert phrase in text


def test_soft_breaks_only_where_a_long_token_has_seams() -> None:
    assert soft_breaks("campaign.name") == "campaign.name"
    long_key = "workloads.sysbench-memory.block_size"
    assert soft_breaks(long_key) == "workloads.<wbr>sysbench-memory.<wbr>block_size"
    path = "/usr/share/ovmf/OVMF.fd kept as /var/lib/snpapp/releases/genoa-2025/ovmf/OVMF.fd"
    assert soft_breaks(path).count("<wbr>") == 8  # in the long path only
    digest = "sha256:" + "ab" * 32
    assert soft_breaks(digest) == digest
    assert soft_breaks("<x>/" + "y" * 30) == "&lt;x&gt;/<wbr>" + "y" * 30
