"""The PDF of an emulated multi-workload campaign read back as a person reads it:
text via pdftotext, pages via pdftoppm (Table 1, whole hashes, the running label,
no "baseline baseline", no mostly empty page, a self-contained report.html)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from snpappliance import proc
from snpappliance.fsutil import sha256_file
from snpappliance.report.stats.analysis import EMULATED_LABEL
from tests.conftest import SnpappRunner, require_program
from tests.pdftext import pdf_pages
from tests.unit.test_report_workloads import write_results

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent.parent / "fixtures" / "report-environment"
CAMPAIGN_ID = "20261204-200018-mini-workloads"
#: A page whose body is emptier than this (below its last ink) fails, unless a section ends there.
MOST_EMPTY = 0.5


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_program("pdftotext")
    require_program("pdftoppm")
    campaign = tmp_path_factory.mktemp("layout") / CAMPAIGN_ID
    campaign.mkdir()
    write_results(campaign / "results.csv", reps=10)
    for name in ("environment.json", "campaign.toml"):
        shutil.copy(FIXTURES / name, campaign / name)
    info = {"campaign_id": CAMPAIGN_ID, "baseline": "baseline", "emulated": True,
            "profile": "local", "label": EMULATED_LABEL}  # fmt: skip
    (campaign / "campaign.json").write_text(json.dumps(info), encoding="utf-8")
    return campaign


def _body(page: str) -> str:
    """A page's text without its running header (the label, on a line of its own)."""
    lines = page.lstrip().splitlines()
    if lines and lines[0].strip() == EMULATED_LABEL:
        lines = lines[1:]
    return "\n".join(lines).lstrip()


def _emptiness(png: Path) -> float:
    """Share of the page body below its last line of ink (header and footer left out)."""
    grey = np.asarray(Image.open(png).convert("L"))
    height = grey.shape[0]
    top, bottom = int(height * 0.07), int(height * 0.92)
    inked = np.flatnonzero((grey[top:bottom] < 200).any(axis=1))
    last = inked.max() if inked.size else 0
    return 1.0 - (last + 1) / (bottom - top)


def test_the_pdf_reads_right(report: Path, snpapp: SnpappRunner, tmp_path: Path) -> None:
    code, _, err = snpapp("report", str(report))
    assert code == 0, err
    pdf = report / "report" / "report.pdf"
    pages = pdf_pages(pdf)
    text = "\n".join(pages)
    flat = re.sub(r"\s+", " ", text)
    # Table 1 with the stack's versions
    assert "Table 1: Hardware and software stack under test" in flat
    assert "QEMU emulator version 7.2.22" in flat
    assert "linux-image-6.1.0-57-amd64" in flat
    # whole hashes: the results' and the guest image's
    assert sha256_file(report / "results.csv") in text
    env = json.loads((report / "environment.json").read_text(encoding="utf-8"))
    assert env["guest"]["manifest"]["image_id"] in text
    assert env["firmware"]["sha256"] in text
    # the campaign id never breaks: whole on one line of the title (the lines above
    # "Scenarios:", below the running header)
    title = _body(pages[0]).split("Scenarios:")[0].splitlines()
    assert title[0].startswith("snpapp report")
    assert any(CAMPAIGN_ID in line for line in title), title
    # the label on every page, and never "baseline baseline"
    for number, page in enumerate(pages, start=1):
        assert EMULATED_LABEL in re.sub(r"\s+", " ", page), f"page {number} lacks the label"
    # (the prose; the appendix lists campaign.json's fact "baseline" = "baseline" as a row)
    assert "baseline baseline" not in flat.split("Appendix A")[0]
    # provenance up front is short; the full environment is an appendix
    assert "Appendix A" in flat
    assert "first 80 of" not in flat
    # no page more than half empty, except where a section ends
    proc.run(["pdftoppm", "-r", "25", "-gray", "-png", str(pdf), str(tmp_path / "p")])
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == len(pages)
    for i, png in enumerate(images[:-1]):
        following = _body(pages[i + 1])
        section_ends = bool(re.match(r"(\d+ [A-Z]|Appendix)", following))
        if not section_ends:
            assert _emptiness(png) <= MOST_EMPTY, f"page {i + 1} is mostly empty"


def test_report_html_is_self_contained(report: Path, snpapp: SnpappRunner) -> None:
    out = report / "report"
    if not (out / "report.html").is_file():
        code, _, err = snpapp("report", str(report))
        assert code == 0, err
    html = (out / "report.html").read_text(encoding="utf-8")
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert sorted(p.name for p in (out / "figures").glob("*.png"))
