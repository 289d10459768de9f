"""`snpapp report A B` on two real local campaigns: guests booted here under QEMU TCG.

Both campaigns are emulated (the local profile's kind of campaign), so the
comparison must say so on every page it prints, and each campaign is labelled by
the name its spec gives it.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import pytest

from tests.integration.test_campaign_runs import run_campaign, spec_file
from tests.pdftext import pdf_pages, spaced

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SnpappRunner

pytestmark = [pytest.mark.integration, pytest.mark.qemu, pytest.mark.docker, pytest.mark.slow]

LABEL = "local emulated profile — not an SNP measurement"
COMPARISON_LABEL = "Local emulated profile (every campaign): not SNP measurements"


def _pages(pdf: Path) -> list[str]:
    """The non-empty pages, each with its whitespace as single spaces."""
    return [spaced(page) for page in pdf_pages(pdf, layout=False) if page.strip()]


def _campaign(snpapp: SnpappRunner, tmp_path: Path, guest_artifacts: Path, name: str) -> Path:
    spec = spec_file(tmp_path, reps=2)
    spec.write_text(
        spec.read_text(encoding="utf-8").replace('name = "mini"', f'name = "{name}"'),
        encoding="utf-8",
    )
    code, cdir, output = run_campaign(snpapp, spec, tmp_path / "campaigns", guest_artifacts)
    assert code == 0, output
    assert cdir is not None
    return cdir


def test_two_local_campaigns_compare(
    snpapp: SnpappRunner, guest_artifacts: Path, tmp_path: Path
) -> None:
    first = _campaign(snpapp, tmp_path, guest_artifacts, "local-a")
    second = _campaign(snpapp, tmp_path, guest_artifacts, "local-b")
    out = tmp_path / "compared"
    code, stdout, err = snpapp("report", str(first), str(second), "--out", str(out))
    assert code == 0, err
    assert stdout == f"{out / 'report.pdf'}\n"

    with (out / "stats" / "comparison_overheads.csv").open(encoding="utf-8", newline="") as fh:
        overheads = list(csv.DictReader(fh))
    assert {r["campaign"] for r in overheads} == {"local-a", "local-b"}
    assert {r["metric"] for r in overheads} >= {"ram_bw_mib_s", "boot_s"}
    assert {r["emulated"] for r in overheads} == {"true"}
    for row in overheads:
        assert float(row["ci95_low"]) <= float(row["overhead_pct"]) <= float(row["ci95_high"])
    with (out / "stats" / "comparison_differences.csv").open(encoding="utf-8", newline="") as fh:
        differences = list(csv.DictReader(fh))
    assert {(r["reference"], r["campaign"]) for r in differences} == {("local-a", "local-b")}

    pages = _pages(out / "report.pdf")
    text = " ".join(pages)
    for phrase in ("Difference of overheads", "Overheads per campaign",
                   "Campaign local-a", "Campaign local-b", "Holm"):  # fmt: skip
        assert phrase in text, phrase
    assert all(COMPARISON_LABEL in page for page in pages)
    for name in ("1-local-a", "2-local-b"):
        campaign_pages = _pages(out / "campaigns" / name / "report.pdf")
        assert campaign_pages, name
        assert all(LABEL in page for page in campaign_pages), name
