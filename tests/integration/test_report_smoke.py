"""A campaign with smoke.csv: the report shows the macro smoke tests apart from the statistics.

results.csv comes from the seeded synthetic generator of test_report_pdf; smoke.csv
values are made up here (not measurements).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from snpappliance.formats.campaigndir import SMOKE_FILE
from snpappliance.formats.results import Direction
from snpappliance.formats.smoke import (
    SmokeResult,
    SmokeStatus,
    append_smoke,
    failed_smoke_rows,
    smoke_rows,
)
from snpappliance.report.text import fmt_pct
from tests.integration.test_report_pdf import read_csv, write_results
from tests.pdftext import pdf_text, squash

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SnpappRunner

pytestmark = pytest.mark.integration

SECTION = "Macro smoke tests (not in the statistics)"


def zip7(value: float | None, raw: tuple[float, ...]) -> SmokeResult:
    return SmokeResult(
        test="pts/compress-7zip",
        title="7-Zip Compression",
        unit="MIPS",
        direction=Direction.HIGHER,
        system="snpapp",
        value=value,
        raw=raw,
        arguments="Test: Compression Rating",
    )


def campaign(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir()
    write_results(path / "results.csv")
    info = {"campaign_id": name, "baseline": "sev_off", "emulated": False}
    (path / "campaign.json").write_text(json.dumps(info), encoding="utf-8")
    return path


def test_smoke_section_is_shown_and_statistics_are_unchanged(
    snpapp: SnpappRunner, tmp_path: Path
) -> None:
    plain = campaign(tmp_path, "plain")
    smoked = campaign(tmp_path, "smoked")
    off = smoke_rows(
        [zip7(1000.0, (990.0, 1010.0, 1000.0, 995.0, 1005.0))],
        scenario="sev_off",
        host="",
        run_id="r1",
    )
    on = smoke_rows(
        [zip7(975.0, (970.0, 980.0, 975.0, 972.5, 977.5))], scenario="sev_on", host="", run_id="r2"
    )
    lost = failed_smoke_rows(
        ["c-ray"], scenario="sev_on", host="", run_id="r3", status=SmokeStatus.FAILED
    )
    append_smoke(smoked / SMOKE_FILE, off + on + lost)
    for directory in (plain, smoked):
        code, _, err = snpapp("report", str(directory))
        assert code == 0, err
    with_smoke = pdf_text(smoked / "report" / "report.pdf")
    without = pdf_text(plain / "report" / "report.pdf")
    assert squash(SECTION) in with_smoke
    assert squash("no significance is claimed") in with_smoke
    assert squash("7-Zip Compression: Test: Compression Rating") in with_smoke
    assert squash(fmt_pct(-2.5)) in with_smoke
    assert squash("pts/c-ray") in with_smoke
    assert squash(SECTION) not in without
    for name in ("descriptive.csv", "comparisons.csv"):
        assert read_csv(smoked / "report" / "stats" / name) == read_csv(
            plain / "report" / "stats" / name
        ), name
