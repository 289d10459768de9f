"""smoke.csv: rows from PTS results, the file round trip, the ratio to the baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import InputError
from snpappliance.formats.results import Direction
from snpappliance.formats.smoke import (
    SMOKE_COLUMNS,
    SmokeResult,
    SmokeStatus,
    append_smoke,
    load_smoke,
    relative_to_baseline,
    smoke_rows,
)

if TYPE_CHECKING:
    from pathlib import Path


def result(test: str, value: float | None, raw: tuple[float, ...] = ()) -> SmokeResult:
    return SmokeResult(
        test=test,
        title="C-Ray",
        unit="Seconds",
        direction=Direction.LOWER,
        system="snpapp",
        value=value,
        raw=raw,
        arguments="Total Time",
    )


def test_rows_round_trip_through_smoke_csv(tmp_path: Path) -> None:
    path = tmp_path / "smoke.csv"
    base = smoke_rows(
        [result("pts/c-ray", 30.0, (29.5, 30.5))], scenario="off", host="genoa01", run_id="r1"
    )
    failed = smoke_rows([result("pts/c-ray", None)], scenario="on", host="genoa01", run_id="r2")
    append_smoke(path, base)
    append_smoke(path, failed)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(SMOKE_COLUMNS)
    assert len(lines) == 3
    loaded = load_smoke(path)
    assert loaded == base + failed
    assert loaded[0].metric == "C-Ray: Total Time"
    assert loaded[0].iterations == 2
    assert loaded[1].status is SmokeStatus.FAILED
    assert loaded[1].value is None


def test_ratio_is_against_the_baseline_on_the_same_host_and_test() -> None:
    rows = [
        *smoke_rows([result("pts/c-ray", 33.0)], scenario="on", host="a", run_id="r-on-a"),
        *smoke_rows([result("pts/c-ray", 30.0)], scenario="off", host="a", run_id="r-off-a"),
        *smoke_rows([result("pts/c-ray", 40.0)], scenario="off", host="b", run_id="r-off-b"),
        *smoke_rows([result("pts/c-ray", None)], scenario="on", host="b", run_id="r-on-b"),
    ]
    lines = relative_to_baseline(rows, "off")
    assert [(x.host, x.scenario) for x in lines] == [
        ("a", "off"),
        ("a", "on"),
        ("b", "off"),
        ("b", "on"),
    ]
    assert lines[0].ratio == 1.0
    assert lines[1].ratio == pytest.approx(1.1)
    assert lines[3].ratio is None


def test_wrong_header_or_value_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "smoke.csv"
    path.write_text("scenario,value\noff,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="smoke header"):
        load_smoke(path)
    path.write_text(",".join(SMOKE_COLUMNS) + "\noff,,t,m,s,sideways,1,,ok,r1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"smoke\.csv:2"):
        load_smoke(path)
