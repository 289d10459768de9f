"""`snpapp report A B`: two real campaign directories compared through the real CLI edge.

The campaigns are built from the real measurements in examples/host-sysbench/
(sysbench on a plain KVM virtual machine: NOT SEV-SNP measurements, and
labelled so in each campaign.json): repetitions 1–10 form one campaign,
11–20 the other, both with their declared baseline ``native``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from snpappliance.cli import run_cli
from snpappliance.formats.results import COLUMNS
from tests.pdftext import pdf_pages, spaced

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "host-sysbench" / "results.csv"
LABEL = "examples/host-sysbench: host measurements, not an SNP measurement"
FIRST = "host-sysbench-first-half"
SECOND_DIR = "host-sysbench-reps-11-20"


def example_rows() -> list[dict[str, str]]:
    with EXAMPLE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def make_campaign(directory: Path, reps: range, profile: str | None) -> None:
    """A campaign directory holding the example's rows of ``reps``."""
    directory.mkdir()
    with (directory / "results.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(r for r in example_rows() if int(r["rep"]) in reps)
    info = {"campaign_id": directory.name, "baseline": "native", "emulated": False,
            "label": LABEL, **({"profile": profile} if profile else {})}  # fmt: skip
    (directory / "campaign.json").write_text(json.dumps(info), encoding="utf-8")


@dataclass(frozen=True)
class Compared:
    base: Path
    out: Path
    stdout: str
    text: str


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Compared:
    base = tmp_path_factory.mktemp("compare")
    make_campaign(base / "host-sysbench-reps-01-10", range(1, 11), FIRST)
    make_campaign(base / SECOND_DIR, range(11, 21), None)
    out = base / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = run_cli(["report", str(base / "host-sysbench-reps-01-10"), str(base / SECOND_DIR),
                        "--out", str(out)])  # fmt: skip
    assert code == 0, stderr.getvalue()
    text = " ".join(pdf_pages(out / "report.pdf", layout=False))
    return Compared(base, out, stdout.getvalue(), spaced(text))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_stdout_is_the_pdf_and_every_output_is_there(compared: Compared) -> None:
    assert compared.stdout == f"{compared.out / 'report.pdf'}\n"
    for name in ("report.html", "comparison.md", "figures/overheads.svg", "figures/overheads.png",
                 "stats/comparison_overheads.csv", "stats/comparison_differences.csv",
                 "stats/comparison.json", f"campaigns/1-{FIRST}/report.pdf",
                 f"campaigns/2-{SECOND_DIR}/report.pdf",
                 f"campaigns/2-{SECOND_DIR}/stats/descriptive.csv"):  # fmt: skip
        assert (compared.out / name).is_file(), name
    listed = json.loads((compared.out / "snpapp-report.json").read_text(encoding="utf-8"))
    assert f"campaigns/1-{FIRST}/report.pdf" in listed["files"]


def _tukey(values: np.ndarray) -> np.ndarray:
    q1, q3 = np.percentile(values, [25, 75])
    fence = 1.5 * (q3 - q1)
    kept: np.ndarray = values[(values >= q1 - fence) & (values <= q3 + fence)]
    return kept


def test_overheads_are_the_medians_of_the_example_data(compared: Compared) -> None:
    rows = read_csv(compared.out / "stats" / "comparison_overheads.csv")
    assert {r["campaign"] for r in rows} == {FIRST, SECOND_DIR}
    assert len(rows) == 6  # 2 campaigns × (cpu_perf, ram_bw_mib_s, wall_s), pinned-cpu0 vs native
    data = example_rows()
    for row in rows:
        reps = range(1, 11) if row["campaign"] == FIRST else range(11, 21)

        def arm(scenario: str, metric: str = row["metric"], reps: range = reps) -> np.ndarray:
            picked = [float(r["value"]) for r in data
                      if r["scenario"] == scenario and r["metric"] == metric
                      and int(r["rep"]) in reps]  # fmt: skip
            return _tukey(np.array(picked))

        base, scen = float(np.median(arm("native"))), float(np.median(arm("pinned-cpu0")))
        change = 100.0 * (scen / base - 1.0)
        expected = -change if row["metric"] in ("cpu_perf", "ram_bw_mib_s") else change
        assert float(row["overhead_pct"]) == pytest.approx(expected)
        assert float(row["ci95_low"]) <= float(row["overhead_pct"]) <= float(row["ci95_high"])
        assert row["emulated"] == "false"


def test_differences_are_later_minus_first_and_holm_adjusted(compared: Compared) -> None:
    rows = read_csv(compared.out / "stats" / "comparison_differences.csv")
    assert [(r["reference"], r["campaign"]) for r in rows] == [(FIRST, SECOND_DIR)] * 3
    p = [float(r["p_value"]) for r in rows]
    ranks = sorted(range(3), key=lambda i: p[i])
    running, expected = 0.0, [0.0] * 3
    for rank, i in enumerate(ranks):
        running = max(running, min(1.0, (3 - rank) * p[i]))
        expected[i] = running
    assert [float(r["p_holm"]) for r in rows] == pytest.approx(expected)
    for r in rows:
        diff = float(r["overhead_campaign_pct"]) - float(r["overhead_reference_pct"])
        assert float(r["difference_pp"]) == pytest.approx(diff)


def test_the_method_seed_and_sources_are_recorded(compared: Compared) -> None:
    method = json.loads((compared.out / "stats" / "comparison.json").read_text(encoding="utf-8"))
    assert method["ci"]["resamples"] == 10_000
    assert isinstance(method["ci"]["seed"], int)
    first = method["campaigns"][0]
    results = compared.base / "host-sysbench-reps-01-10" / "results.csv"
    assert first["sha256"] == hashlib.sha256(results.read_bytes()).hexdigest()
    assert first["baseline"] == "native"


def test_the_pdf_reads_as_a_comparison(compared: Compared) -> None:
    text = compared.text
    for phrase in ("Difference of overheads", "Overheads per campaign",
                   f"Campaign {FIRST}", f"Campaign {SECOND_DIR}", "positive = worse",
                   "not an SNP measurement", "Holm"):  # fmt: skip
        assert phrase in text, phrase
    assert "emulated" not in text.lower()  # real host data is never called emulated
