"""Names from the data become bounded file names: a 260-character metric or host still renders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from snpappliance.formats.names import file_slug

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SnpappRunner

LONG = "m" * 260


def test_a_260_character_metric_and_host_render(snpapp: SnpappRunner, tmp_path: Path) -> None:
    host = "h" * 260
    rows = [f"{s},{LONG},{v},{h}" for s in ("a", "b") for v in (1, 2, 3, 4) for h in (host, "x")]
    results = tmp_path / "r.csv"
    results.write_text("scenario,metric,value,host\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = snpapp("report", str(results), "--out", str(out))
    assert code == 0, err
    assert (out / "figures" / f"hist_{file_slug(LONG)}.svg").is_file()
    assert (out / "stats" / "per_host" / file_slug(host) / "comparisons.csv").is_file()
    assert max(len(p.name) for p in out.rglob("*")) < 100
