"""Issue 11, the first hour: help placeholders and command order, primary output on stdout,
plain output when piped, and --resume of a finished campaign."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign import store
from snpappliance.campaign.plan import plan_runs, plan_to_json
from snpappliance.campaign.profiles import profile_path
from snpappliance.campaign.runner import campaign_info
from snpappliance.campaign.spec import Order, load_spec
from snpappliance.formats.campaigndir import CampaignDir
from tests.unit.test_cli import COMMANDS

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SnpappRunner

#: Every placeholder a help text may show: one spelling per kind of value.
PLACEHOLDERS = {
    "FILE", "DIR", "PATH", "HOST", "N", "SECONDS", "NAME", "URL", "KIB", "TEXT",
    "COMPONENT=DIR", "REF@sha256:…", "OUT.tar.gz", "FILE...", "PATH...",
    "t|normal", "apply|check", "LIST",
}  # fmt: skip
WORKFLOW = ["build", "deploy", "campaign", "report", "doctor", "import", "stacks", "host"]


def _options(help_text: str) -> list[str]:
    """The lines naming an option or an argument in a help text's Arguments and Options."""
    lines = []
    section = ""
    for line in help_text.splitlines():
        if line and not line[0].isspace():
            section = line
        elif section in ("Arguments:", "Options:") and re.match(r"^  [-\w]", line):
            lines.append(line.strip())
    return lines


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_placeholders_are_uniform(snpapp: SnpappRunner, command: tuple[str, ...]) -> None:
    code, out, _ = snpapp(*command, "--help")
    assert code == 0
    for line in _options(out):
        name_column = re.split(r"\s{2,}", line)[0]
        shown = [w for w in name_column.replace(",", " ").split() if not w.startswith("-")]
        assert all(w in PLACEHOLDERS for w in shown), line


def test_on_off_flags_show_no_placeholder(snpapp: SnpappRunner) -> None:
    _, out, _ = snpapp("--help")
    assert re.search(r"^  --debug\s{2,}Log", out, re.MULTILINE), out
    _, out, _ = snpapp("report", "--help")
    assert re.search(r"^  --no-outlier-filter\s{2,}Keep", out, re.MULTILINE), out


def test_numbers_and_names_have_words_for_placeholders(snpapp: SnpappRunner) -> None:
    _, out, _ = snpapp("campaign", "--help")
    assert "-n, --reps N" in out
    assert "--resume DIR" in out
    assert "-p, --profile NAME" in out
    _, out, _ = snpapp("report", "--help")
    assert "  PATH...  " in out
    assert "list[" not in out


def test_commands_are_listed_in_workflow_order(snpapp: SnpappRunner) -> None:
    _, out, _ = snpapp("--help")
    commands = out.split("Commands:", 1)[1]
    names = [line.split()[0] for line in commands.splitlines() if line.startswith("  ")]
    assert names == WORKFLOW


def _finished_campaign(tmp_path: Path) -> CampaignDir:
    """A campaign directory whose every planned run is committed, as the runner leaves it."""
    local = load_spec(profile_path("local"))
    spec = replace(local, repetitions=1, workloads=local.workloads[:1])
    plan = plan_runs(spec, seed=5)
    cdir = CampaignDir(tmp_path / "20261204-101500-local")
    cdir.path.mkdir()
    cdir.plan.write_text(plan_to_json(plan, 5, Order.INTERLEAVED), encoding="utf-8")
    cdir.spec.write_text(profile_path("local").read_text(encoding="utf-8"), encoding="utf-8")
    cdir.info.write_text(campaign_info(spec, cdir.campaign_id, 5, ()).to_json(), encoding="utf-8")
    for run in plan:
        store.append_record(cdir.attempts, {"record": store.RECORD_RUN, "run_id": run.run_id,
                                            "status": "ok"})  # fmt: skip
    return cdir


def test_campaign_status_prints_on_stdout(snpapp: SnpappRunner, tmp_path: Path) -> None:
    cdir = _finished_campaign(tmp_path)
    code, out, err = snpapp("campaign", "status", str(cdir.path))
    assert code == 0, err
    assert "state: finished" in out
    assert f"campaign {cdir.path}" in out  # never cut, however long
    assert err == ""


def test_resume_of_a_finished_campaign_says_so(snpapp: SnpappRunner, tmp_path: Path) -> None:
    cdir = _finished_campaign(tmp_path)
    code, out, err = snpapp("campaign", "--resume", str(cdir.path))
    assert code == 0, err
    said = " ".join(err.split())
    assert f"campaign {cdir.campaign_id} is already complete" in said
    assert f"snpapp report {cdir.path}" in said
    assert "0 run(s)" not in said
    assert "ETA" not in said
    assert out.strip() == str(cdir.path)
    report = cdir.path / "report" / "report.pdf"
    report.parent.mkdir()
    report.write_bytes(b"%PDF-1.7\n")
    code, _out, err = snpapp("campaign", "--resume", str(cdir.path))
    assert code == 0
    assert f"its report: {report}" in " ".join(err.split())
