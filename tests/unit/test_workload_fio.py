"""parse_fio on real fio 3.33 output (and one fio 3.30 capture from an SEV study)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from snpappliance.errors import ParseError
from snpappliance.workloads.fio import (
    FIO_METRICS,
    histogram_percentile,
    looks_like_fio,
    parse_fio,
)
from snpappliance.workloads.parsers import Measurement

FIO = Path(__file__).resolve().parent.parent / "fixtures" / "fio"
LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"


def text(name: str) -> str:
    return (FIO / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(text(name))
    return loaded


def values(name: str) -> list[tuple[str, str, float]]:
    return [(m.workload, m.metric, m.value) for m in parse_fio(text(name), source=name)]


def rw(
    job: str, direction: str, bw: float, iops: float, lat: float, p99: float
) -> list[tuple[str, str, float]]:
    return [
        (job, f"fio_{direction}_bw_kib_s", bw),
        (job, f"fio_{direction}_iops", iops),
        (job, f"fio_{direction}_lat_mean_us", lat),
        (job, f"fio_{direction}_clat_p99_us", p99),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("read-psync.json", rw("seqread", "read", 2340571, 18285.714286, 51.067273438, 1384.448)),
        (
            "write-libaio-direct.json",
            rw("seqwrite", "write", 364088, 5688.888889, 683.931574219, 4489.216),
        ),
        (
            "randread-libaio-direct.json",
            rw("randread-4k", "read", 391126, 97781.609195, 81.437711343, 97.792),
        ),
        (
            "randrw-psync.json",
            rw("randrw-mix", "read", 102540, 25635.182409, 26.40706094, 41.216)
            + rw("randrw-mix", "write", 43976, 10994.002999, 27.907378881, 43.264),
        ),
        (
            "two-jobs.json",
            rw("seq-read", "read", 1018114, 7954.022989, 502.250725371, 602.112)
            + rw("rand-write", "write", 252761, 63190.404798, 126.144093535, 220.16),
        ),
        (
            "randrw-libaio-jsonplus.json",
            rw("randrw-plus", "read", 126308, 31577.211394, 55.298830548, 96.768)
            + rw("randrw-plus", "write", 125725, 31431.284358, 70.318584762, 125.44),
        ),
        (
            "numjobs2-group.json",
            rw("randread-grp", "read", 223016, 55754.122939, 35.483851359, 58.624),
        ),
        (
            "qd-capped-note.json",
            rw("qd-capped", "write", 888123, 222030.969031, 3.120088233, 7.904),
        ),
        (
            "cvm-eval-sev-blk-bandwidth.json",
            rw(
                "bandwidth-sev-blk-qalpchk43j-read",
                "read",
                1274089,
                9953.827461,
                99.709044678,
                148.48,
            )
            + rw(
                "bandwidth-sev-blk-qalpchk43j-write",
                "write",
                1296138,
                10126.081582,
                98.138105835,
                140.288,
            ),
        ),
    ],
)
def test_real_output_gives_exact_values(name: str, expected: list[tuple[str, str, float]]) -> None:
    assert values(name) == expected


def test_units() -> None:
    found = parse_fio(text("randrw-psync.json"), source="x")
    assert {m.metric: m.unit for m in found} == {
        "fio_read_bw_kib_s": "KiB/s", "fio_read_iops": "IOPS", "fio_read_lat_mean_us": "us",
        "fio_read_clat_p99_us": "us", "fio_write_bw_kib_s": "KiB/s", "fio_write_iops": "IOPS",
        "fio_write_lat_mean_us": "us", "fio_write_clat_p99_us": "us",
    }  # fmt: skip
    assert set(FIO_METRICS) == {m.metric for m in found}


def test_repeated_job_name_sums_rates_and_weights_latency_without_p99() -> None:
    jobs = fixture_json("numjobs2.json")["jobs"]
    reads = [job["read"] for job in jobs]
    assert [job["jobname"] for job in jobs] == ["randread-nj2", "randread-nj2"]
    found = {m.metric: m.value for m in parse_fio(text("numjobs2.json"), source="x")}
    assert found["fio_read_bw_kib_s"] == reads[0]["bw"] + reads[1]["bw"] == 230670
    assert found["fio_read_iops"] == pytest.approx(reads[0]["iops"] + reads[1]["iops"])
    weighted = sum(r["lat_ns"]["mean"] * r["total_ios"] for r in reads) / sum(
        r["total_ios"] for r in reads
    )
    assert found["fio_read_lat_mean_us"] == pytest.approx(weighted / 1000, abs=1e-9)
    assert "fio_read_clat_p99_us" not in found  # plain json: not computable exactly


def test_repeated_job_name_p99_from_merged_jsonplus_bins() -> None:
    found = {m.metric: m.value for m in parse_fio(text("numjobs2-jsonplus.json"), source="x")}
    assert found["fio_read_bw_kib_s"] == 214016
    assert found["fio_read_clat_p99_us"] == 63.232
    own = [job["read"]["clat_ns"]["percentile"]["99.000000"] for job in
           fixture_json("numjobs2-jsonplus.json")["jobs"]]  # fmt: skip
    assert min(own) <= 63232 <= max(own)


@pytest.mark.parametrize("name", ["numjobs2-jsonplus.json", "randrw-libaio-jsonplus.json"])
def test_histogram_walk_reproduces_every_percentile_fio_printed(name: str) -> None:
    checked = 0
    for job in fixture_json(name)["jobs"]:
        for direction in ("read", "write"):
            clat = job[direction]["clat_ns"]
            if "bins" not in clat:
                continue
            bins = {int(k): v for k, v in clat["bins"].items()}
            for percent, value in clat["percentile"].items():
                assert histogram_percentile(bins, clat["N"], Fraction(percent)) == value
                checked += 1
    assert checked >= 17


def test_serial_console_line_ends_parse_the_same() -> None:
    crlf = parse_fio(text("numjobs2-jsonplus-crlf.json"), source="x")
    assert crlf == parse_fio(text("numjobs2-jsonplus.json"), source="x")


def test_text_around_the_json_is_ignored() -> None:
    assert text("qd-capped-note.json").startswith("note: both iodepth")
    wrapped = "console noise\r\n" + text("read-psync.json") + "\r\nlogin: "
    assert parse_fio(wrapped, source="x") == parse_fio(text("read-psync.json"), source="x")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "unaligned-direct-error.json",
            r"job 'unaligned' failed with error 22 \(Invalid argument\)",
        ),
        ("trim-error.json", r"job 'trimjob' failed with error 25 \(Inappropriate ioctl"),
        ("status-interval.json", r"holds 4 fio JSON reports; expected one fio run"),
        ("bad-option.log", r"no fio JSON report"),
        ("two-jobs-truncated.json", r"fio's JSON report is cut off or malformed"),
    ],
)
def test_failures_name_the_source_and_the_cause(name: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        parse_fio(text(name), source=f"logs/{name}")
    assert caught.value.message.startswith(f"logs/{name}")
    assert caught.value.hint


def test_empty_output() -> None:
    with pytest.raises(ParseError, match=r"x\.json is empty"):
        parse_fio("\r\n", source="x.json")


# Cases fio did not produce here: derived in memory from a real report, said so.


def _derived(change: Any) -> str:
    document = fixture_json("read-psync.json")
    change(document)
    return json.dumps(document)


def test_no_jobs_is_an_error() -> None:
    with pytest.raises(ParseError, match=r"x: fio JSON has no jobs"):
        parse_fio(_derived(lambda d: d.update(jobs=[])), source="x")


def test_job_without_read_or_write_io_is_an_error() -> None:
    def zero(document: dict[str, Any]) -> None:
        document["jobs"][0]["read"].update(io_bytes=0, total_ios=0)

    with pytest.raises(ParseError, match=r"x: fio job 'seqread' did no read or write I/O"):
        parse_fio(_derived(zero), source="x")


def test_missing_p99_of_a_single_job_is_an_error() -> None:
    def drop(document: dict[str, Any]) -> None:
        del document["jobs"][0]["read"]["clat_ns"]["percentile"]["99.000000"]

    with pytest.raises(ParseError, match=r'clat_ns.percentile\["99.000000"\]') as caught:
        parse_fio(_derived(drop), source="x")
    assert "--percentile_list" in (caught.value.hint or "")


def test_recognises_fio_output_only() -> None:
    for path in FIO.iterdir():
        if path.suffix in (".json", ".log"):
            assert looks_like_fio(path.read_text(encoding="utf-8")), path.name
    for path in LOGS.iterdir():
        assert not looks_like_fio(path.read_text(encoding="utf-8", errors="replace")), path.name


def test_measurement_is_the_shared_type() -> None:
    assert all(isinstance(m, Measurement) for m in parse_fio(text("two-jobs.json"), source="x"))
