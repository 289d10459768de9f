"""The PDF checked as a reader would: text, tables, outliers, failed runs, figures, pages.

The fixture results are generated here with a seeded RNG (synthetic, not a
measurement): two scenarios × two metrics × 20 runs, one planted outlier and
one failed run.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from snpappliance import proc
from snpappliance.cli import run_cli
from snpappliance.formats.names import file_slug
from snpappliance.formats.results import COLUMNS
from snpappliance.report.publish import write_manifest
from snpappliance.report.text import (
    fmt_at,
    fmt_delta,
    fmt_p,
    fmt_pct,
    fmt_spread_at,
    pct_digits,
    series_name,
)
from tests.conftest import SnpappRunner, require_program
from tests.pdftext import pdf_text, squash

pytestmark = pytest.mark.integration

OUTLIER = 13200.0
WORKLOAD = "sysbench"
#: Per-series figures are named for their series ("sysbench · cpu_perf", made file-safe).
FIGURES = (
    *(
        f"{kind}_{file_slug(series_name(metric, WORKLOAD))}"
        for kind in ("hist", "qq")
        for metric in ("cpu_perf", "ram_bw_mib_s")
    ),
    "violin_swarm",
    "ridgeline",
    "run_order",
)


def write_results(path: Path) -> None:
    """Seeded synthetic results: sev_on ~0.6 % below sev_off, one outlier, one failed run."""
    rng = np.random.default_rng(20250713)
    rows: list[dict[str, object]] = []
    for scenario, factor in (("sev_off", 1.0), ("sev_on", 0.994)):
        for metric, unit, centre, sd in (
            ("cpu_perf", "events/s", 13677.0, 6.0),
            ("ram_bw_mib_s", "MiB/s", 6735.0, 60.0),
        ):
            for rep in range(1, 21):
                rows.append(
                    {
                        "scenario": scenario,
                        "workload": WORKLOAD,
                        "metric": metric,
                        "value": round(centre * factor + rng.normal(0.0, sd), 2),
                        "unit": unit,
                        "rep": rep,
                        "host": "fixture",
                        "run_id": f"{scenario}-{metric}-{rep}",
                        "attempt": 1,
                        "status": "ok",
                        "started_at": f"2025-07-13T10:{rep:02d}:00Z",
                    }
                )
    rows[6]["value"] = OUTLIER  # sev_off cpu_perf rep 7
    failed = dict(rows[-1], rep=21, run_id="sev_on-ram-21", status="guest_error", value="")
    rows.append(failed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def series_decimals(out: Path) -> dict[tuple[str, str], int | None]:
    """Each series' resolution decimals, as stats/summary.json records them."""
    summary = json.loads((out / "stats" / "summary.json").read_text(encoding="utf-8"))
    return {(s["workload"], s["metric"]): s["resolution_decimals"] for s in summary["series"]}


@dataclass(frozen=True)
class Rendered:
    out: Path
    stdout: str
    stderr: str
    text: str


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """One report rendered through the real CLI edge, shared by the reader's checks below."""
    base = tmp_path_factory.mktemp("report")
    results = base / "results.csv"
    write_results(results)
    out = base / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = run_cli(["report", str(results), "--out", str(out)])
    assert code == 0, stderr.getvalue()
    return Rendered(out, stdout.getvalue(), stderr.getvalue(), pdf_text(out / "report.pdf"))


def test_stdout_is_only_the_pdf_path(rendered: Rendered) -> None:
    assert rendered.stdout == f"{rendered.out / 'report.pdf'}\n"


def test_synthesis_sentence_is_in_the_pdf(rendered: Rendered) -> None:
    comparison = next(
        r for r in read_csv(rendered.out / "stats" / "comparisons.csv") if r["metric"] == "cpu_perf"
    )
    change = abs(float(comparison["change_median_pct"]))
    assert 0.4 < change < 0.8
    # values have 2 decimals: one step (0.01) of a ~13677 baseline is far below 0.01 %, so
    # the change gets the most decimals a % has (2)
    sentence = (
        f"sev_on is {change:.2f} % slower (lower throughput) than sev_off in cpu_perf of "
        f"{WORKLOAD} (events/s, higher is better)"
    )
    assert squash(sentence) in rendered.text
    assert squash(f"Mann–Whitney p {fmt_p(comparison['mwu_p'])}") in rendered.text
    assert squash(f"Cliff's δ = {fmt_delta(comparison['cliffs_delta'])}") in rendered.text


def test_table_values_match_the_stats_files(rendered: Rendered) -> None:
    decimals = series_decimals(rendered.out)
    # values recorded with 2 decimals, ~13677 and ~6735: 7 significant digits allow them all
    assert decimals == {(WORKLOAD, "cpu_perf"): 2, (WORKLOAD, "ram_bw_mib_s"): 2}
    descriptive = read_csv(rendered.out / "stats" / "descriptive.csv")
    assert len(descriptive) == 4
    for row in descriptive:
        digits = decimals[row["workload"], row["metric"]]
        for column in ("mean", "median", "min", "max", "q1", "q3"):
            cell = fmt_at(row[column], digits)
            assert squash(cell) in rendered.text, (row["scenario"], column)
        for column in ("std", "iqr", "sem"):
            cell = fmt_spread_at(row[column], digits)
            assert squash(cell) in rendered.text, (row["scenario"], column)
    for row in read_csv(rendered.out / "stats" / "comparisons.csv"):
        digits = decimals[row["workload"], row["metric"]]
        pct = pct_digits(digits, row["median_baseline"])
        for cell in (
            fmt_pct(row["change_median_pct"], decimals=pct),
            fmt_pct(row["change_mean_pct"], decimals=pct),
            fmt_p(row["p_holm"]),
            fmt_delta(row["cliffs_delta"]),
            fmt_at(row["median_baseline"], digits),
            fmt_at(row["median_scenario"], digits),
        ):
            assert squash(cell) in rendered.text, (row["metric"], cell)


def test_outliers_and_failed_runs_are_listed(rendered: Rendered) -> None:
    outliers = read_csv(rendered.out / "stats" / "outliers.csv")
    planted = [o for o in outliers if float(o["value"]) == OUTLIER]
    assert planted == [
        dict(planted[0], scenario="sev_off", workload=WORKLOAD, metric="cpu_perf", rep="7")
    ]
    assert squash(f"Removed outliers ({len(outliers)})") in rendered.text
    decimals = series_decimals(rendered.out)
    for row in outliers:
        value = fmt_at(row["value"], decimals[row["workload"], row["metric"]])
        assert squash(f"rep {row['rep']}: {value}") in rendered.text
    assert squash("rep 7: 13200.00") in rendered.text  # the planted outlier, at 2 decimals
    assert squash("Failed runs (1)") in rendered.text
    assert squash(f"sev_on {WORKLOAD} ram_bw_mib_s guest_error 1") in rendered.text
    summary = json.loads((rendered.out / "stats" / "summary.json").read_text(encoding="utf-8"))
    assert summary["excluded"] == [
        {
            "scenario": "sev_on",
            "workload": WORKLOAD,
            "metric": "ram_bw_mib_s",
            "status": "guest_error",
            "count": 1,
        }
    ]


def test_provenance_names_the_source_and_its_hash(rendered: Rendered) -> None:
    source = rendered.out.parent / "results.csv"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert digest in rendered.text
    assert squash("results file results.csv") in rendered.text
    assert "SNPmeasurement" not in rendered.text


def test_every_figure_exists_and_is_referenced(rendered: Rendered) -> None:
    """report.html carries each figure's PNG inline (one self-contained file) and links
    its vector version."""
    html = (rendered.out / "report.html").read_text(encoding="utf-8")
    for name in FIGURES:
        for suffix in ("svg", "png"):
            path = rendered.out / "figures" / f"{name}.{suffix}"
            assert path.stat().st_size > 5000, path
        png = (rendered.out / "figures" / f"{name}.png").read_bytes()
        assert f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" in html, name
        assert f'href="figures/{name}.svg"' in html
    assert html.count("data:image/png;base64,") == len(FIGURES)
    assert not re.findall(r'src="(?!data:)', html)  # nothing loaded from beside the file
    assert sorted(p.stem for p in (rendered.out / "figures").glob("*.png")) == sorted(FIGURES)


def ink(png: Path) -> float:
    """Fraction of pixels that are not (near) white."""
    grey = np.asarray(Image.open(png).convert("L"))
    return float((grey < 240).mean())


def test_pages_are_not_blank(rendered: Rendered, tmp_path: Path) -> None:
    exe = require_program("pdftoppm")
    proc.run([exe, "-r", "30", "-png", str(rendered.out / "report.pdf"), str(tmp_path / "p")])
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) >= 5
    fractions = [ink(p) for p in pages]
    assert min(fractions) > 0.005, fractions
    assert sum(f > 0.05 for f in fractions) >= 3, fractions


def test_emulated_campaign_is_labelled_and_replaces_the_old_report(
    snpapp: SnpappRunner, tmp_path: Path
) -> None:
    campaign = tmp_path / "campaigns" / "local-1"
    campaign.mkdir(parents=True)
    write_results(campaign / "results.csv")
    (campaign / "campaign.json").write_text(
        json.dumps({"campaign_id": "local-1", "baseline": "sev_off", "emulated": True}),
        encoding="utf-8",
    )
    (campaign / "environment.json").write_text(
        json.dumps({"host": {"kernel": "6.12.0-snp-test", "cpus": 2}}), encoding="utf-8"
    )
    old = campaign / "report" / "figures"
    old.mkdir(parents=True)
    (old / "stale.svg").write_text("<svg/>", encoding="utf-8")
    write_manifest(campaign / "report")  # a report snpapp wrote before: replaced as a whole
    code, out, err = snpapp("report", str(campaign), "--no-outlier-filter", "--ci", "normal")
    assert code == 0, err
    assert out.strip() == str(campaign / "report" / "report.pdf")
    text = pdf_text(campaign / "report" / "report.pdf")
    assert squash("local emulated profile — not an SNP measurement") in text
    assert squash("declared by the campaign (campaign.json)") in text
    assert squash("host.kernel 6.12.0-snp-test") in text
    assert squash("mean ± 1.96·SEM") in text
    assert squash("Removed outliers (0)") in text
    assert not (old / "stale.svg").exists()
    for svg in (campaign / "report" / "figures").glob("*.svg"):
        assert "local emulated profile — not an SNP measurement" in svg.read_text("utf-8"), svg
    assert not list(campaign.glob(".report.*"))


def test_degenerate_data_still_renders_and_says_why(snpapp: SnpappRunner, tmp_path: Path) -> None:
    rows = [
        *[("sev_off", "cpu_perf", "100.0")] * 6,  # zero variance
        *[("sev_on", "cpu_perf", "100.0")] * 6,  # ties everywhere
        ("sev_off", "ram_bw_mib_s", "5000.0"),  # n = 1
        *[("sev_on", "ram_bw_mib_s", str(4990.0 + i)) for i in range(5)],
        *[("sev_on", "wall_s", str(2.0 + i / 100)) for i in range(4)],  # missing in the baseline
    ]
    results = tmp_path / "degenerate.csv"
    results.write_text(
        "scenario,metric,value\n" + "".join(f"{s},{m},{v}\n" for s, m, v in rows), encoding="utf-8"
    )
    code, out, err = snpapp("report", str(results), "--out", str(tmp_path / "out"))
    assert code == 0, err
    text = pdf_text(Path(out.strip()))
    assert squash("sev_on cannot be compared with sev_off in wall_s (s, lower is better)") in text
    assert squash("no KDE for sev_off in cpu_perf: zero variance") in text
    assert squash("no KDE for sev_off in ram_bw_mib_s: only 1 value") in text
    assert squash("std needs n ≥ 2 (n = 1)") in text
    assert squash("Every statistic could be computed.") not in text


def test_pdf_has_no_links_into_the_staging_directory(rendered: Rendered) -> None:
    exe = require_program("pdfinfo")
    urls = proc.run([exe, "-url", str(rendered.out / "report.pdf")]).stdout
    assert ".staging-" not in urls
    assert not list(rendered.out.parent.glob(".out.*"))
