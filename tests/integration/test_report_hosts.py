"""A report of results from two hosts: pooled and per-host statistics, files, PDF, figure.

The results are generated here with a seeded RNG (synthetic, not a
measurement): two scenarios × two metrics × 12 runs on each of two hosts,
the second host slower and with a larger change.
"""

from __future__ import annotations

import contextlib
import csv
import io
from typing import TYPE_CHECKING

import numpy as np
import pytest

from snpappliance.cli import run_cli
from snpappliance.formats.names import file_slug
from snpappliance.formats.results import COLUMNS
from snpappliance.report.text import fmt_at, fmt_pct, pct_digits
from tests.integration.test_report_pdf import read_csv, series_decimals
from tests.pdftext import pdf_text, squash

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

HOSTS = {"genoa01": (1.0, 0.994), "user@genoa02": (0.97, 0.95)}
REPS = 12

#: "user@genoa02" as a directory name: a bounded slug plus a hash of the name.
SECOND = file_slug("user@genoa02")


def write_results(path: Path, hosts: dict[str, tuple[float, float]]) -> None:
    rng = np.random.default_rng(7)
    rows: list[dict[str, object]] = []
    for host, (speed, snp_factor) in hosts.items():
        for rep in range(1, REPS + 1):
            for scenario, factor in (("sev_off", 1.0), ("sev_on", snp_factor)):
                for metric, unit, centre, sd in (
                    ("cpu_perf", "events/s", 13677.0, 6.0),
                    ("ram_bw_mib_s", "MiB/s", 6735.0, 30.0),
                ):
                    rows.append(
                        {
                            "scenario": scenario,
                            "workload": "sysbench",
                            "metric": metric,
                            "value": round(centre * speed * factor + rng.normal(0.0, sd), 2),
                            "unit": unit,
                            "rep": rep,
                            "host": host,
                            "run_id": f"r{rep}-{scenario}-{metric}@{host}",
                            "attempt": 1,
                            "status": "ok",
                            "started_at": f"2025-07-13T10:{rep:02d}:00Z",
                        }
                    )
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def render(base: Path, hosts: dict[str, tuple[float, float]]) -> tuple[Path, str]:
    results = base / "results.csv"
    write_results(results, hosts)
    out = base / "out"
    stderr = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
        code = run_cli(["report", str(results), "--out", str(out)])
    assert code == 0, stderr.getvalue()
    return out, pdf_text(out / "report.pdf")


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return render(tmp_path_factory.mktemp("hosts"), HOSTS)


def test_per_host_files_hold_each_host_alone(two_hosts: tuple[Path, str]) -> None:
    out, _ = two_hosts
    stats = out / "stats"
    assert sorted(p.name for p in (stats / "per_host").iterdir()) == sorted(["genoa01", SECOND])
    pooled = {(r["scenario"], r["metric"]): r for r in read_csv(stats / "descriptive.csv")}
    assert all(int(r["n"]) + int(r["n_removed"]) == 2 * REPS for r in pooled.values())
    for host, directory in (("genoa01", "genoa01"), ("user@genoa02", SECOND)):
        for name in ("descriptive.csv", "comparisons.csv"):
            header = (stats / name).read_text(encoding="utf-8").splitlines()[0]
            own = (stats / "per_host" / directory / name).read_text(encoding="utf-8")
            assert own.splitlines()[0] == header
        rows = read_csv(stats / "per_host" / directory / "descriptive.csv")
        assert all(int(r["n"]) + int(r["n_removed"]) == REPS for r in rows)
        comparisons = read_csv(stats / "per_host" / directory / "comparisons.csv")
        cpu = next(r for r in comparisons if r["metric"] == "cpu_perf")
        expected = 100.0 * (HOSTS[host][1] - 1.0)
        assert float(cpu["change_median_pct"]) == pytest.approx(expected, abs=0.15)
    one = read_csv(stats / "per_host" / "genoa01" / "comparisons.csv")
    two = read_csv(stats / "per_host" / SECOND / "comparisons.csv")
    assert one[0]["p_holm"] != two[0]["p_holm"]  # each host its own Holm family


def test_pdf_has_the_per_host_section(two_hosts: tuple[Path, str]) -> None:
    out, text = two_hosts
    assert squash("The results come from 2 hosts: genoa01 (48 rows), user@genoa02 (48 rows)") in (
        text
    )
    assert squash("Table 5: Medians per series, scenario and host") in text
    assert squash("Host user@genoa02 (48 rows)") in text
    assert squash("each host is its own Holm family") in text
    assert squash("allhosts(pooled)") in text
    row = next(
        r
        for r in read_csv(out / "stats" / "per_host" / SECOND / "comparisons.csv")
        if r["metric"] == "cpu_perf"
    )
    # each host's numbers at the (pooled) series' resolution
    digits = series_decimals(out)[row["workload"], row["metric"]]
    pct = pct_digits(digits, row["median_baseline"])
    assert squash(fmt_at(row["median_scenario"], digits)) in text
    assert squash(fmt_pct(row["change_median_pct"], decimals=pct)) in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "figures/run_order_by_host.svg" in html
    assert (out / "figures" / "run_order_by_host.png").stat().st_size > 5000


def test_one_host_has_no_per_host_views(tmp_path: Path) -> None:
    out, text = render(tmp_path, {"genoa01": HOSTS["genoa01"]})
    assert not (out / "stats" / "per_host").exists()
    assert not (out / "figures" / "run_order_by_host.png").exists()
    assert "Perhost" not in text
    assert "Table5" not in text
    assert "hosts:" not in text
