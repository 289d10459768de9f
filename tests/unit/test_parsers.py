"""Parsers of raw sysbench and GNU time output, against real captured logs (tests/fixtures/logs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from snpappliance.errors import ParseError
from snpappliance.workloads.parsers import (
    Measurement,
    SysbenchOutput,
    parse_gnu_time,
    parse_log,
    parse_sysbench,
)

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"


def text_of(name: str) -> str:
    return (LOGS / name).read_bytes().decode("utf-8")


def cpu(value: float) -> Measurement:
    return Measurement("cpu_perf", value, "events/s", "sysbench-cpu")


def mem(value: float) -> Measurement:
    return Measurement("ram_bw_mib_s", value, "MiB/s", "sysbench-memory")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "sysbench-1.0.20-cpu-t1.log",
            SysbenchOutput("1.0.20", "cpu", cpu(939.12), 2.0010, 1881, 1),
        ),
        (
            "sysbench-1.0.20-cpu-t2.log",
            SysbenchOutput("1.0.20", "cpu", cpu(1821.78), 2.0010, 3648, 2),
        ),
        (
            "sysbench-1.0.20-cpu-t2-crlf.log",
            SysbenchOutput("1.0.20", "cpu", cpu(1821.78), 2.0010, 3648, 2),
        ),
        (
            "sysbench-1.0.20-memory.log",
            SysbenchOutput("1.0.20", "memory", mem(23767.53), 0.0415, 1024, 1),
        ),
        (
            "sysbench-1.1.0-cpu.log",
            SysbenchOutput("1.1.0-3ceba0b", "cpu", cpu(780.69), 10.0001, 7807, 1),
        ),
        (
            "combined-cpu-time.log",
            SysbenchOutput("1.0.20", "cpu", cpu(850.81), 2.0002, 1703, 1),
        ),
        (
            "combined-memory-time.log",
            SysbenchOutput("1.0.20", "memory", mem(20854.50), 0.0476, 1024, 1),
        ),
    ],
)
def test_parse_sysbench_fixture(name: str, expected: SysbenchOutput) -> None:
    assert parse_sysbench(text_of(name), source=name) == expected


def test_crlf_log_is_really_crlf() -> None:
    assert b"\r\n" in (LOGS / "sysbench-1.0.20-cpu-t2-crlf.log").read_bytes()


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("    events per second:  2725.31", 2725.31),
        ("    events per second:   780.69", 780.69),
        ("    events per second:12345678.90", 12345678.90),
        ("\tevents per second: 5 ", 5.0),
    ],
)
def test_cpu_line_padding_varies(line: str, value: float) -> None:
    text = f"Prime numbers limit: 10000\n\nCPU speed:\n{line}\n"
    parsed = parse_sysbench(text, source="pad.log")
    assert parsed.measurement == cpu(value)
    assert parsed.version is None
    assert parsed.total_time_s is None
    assert parsed.events is None
    assert parsed.threads is None


def test_serial_console_escapes_and_carriage_returns() -> None:
    text = text_of("sysbench-1.0.20-memory.log").replace("\n", "\r\r\n")
    text = text.replace("1024.00 MiB", "\x1b[0m1024.00 MiB")
    assert parse_sysbench(text, source="ttyS0").measurement == mem(23767.53)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sysbench-1.0.20-cpu-t1.log", [cpu(939.12)]),
        ("sysbench-1.0.20-memory.log", [mem(23767.53)]),
        ("sysbench-1.1.0-cpu.log", [cpu(780.69)]),
        (
            "combined-cpu-time.log",
            [cpu(850.81), Measurement("cpu_wall_s", 2.00, "s", "sysbench-cpu")],
        ),
        (
            "combined-memory-time.log",
            [mem(20854.50), Measurement("ram_wall_s", 0.05, "s", "sysbench-memory")],
        ),
        ("time-ok.txt", [Measurement("wall_s", 0.30, "s", "time")]),
        ("time-appended.txt", [Measurement("wall_s", 0.20, "s", "time")]),
    ],
)
def test_parse_log_fixture(name: str, expected: list[Measurement]) -> None:
    assert parse_log(text_of(name), source=name) == expected


def test_gnu_time_takes_the_last_line() -> None:
    assert parse_gnu_time("0.10\n0.20\n123.45\n", source="t.txt").value == 123.45


def expect_parse_error(text: str, source: str, *needles: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse_log(text, source=source)
    error = caught.value
    assert error.message.startswith(source)
    for needle in needles:
        assert needle in error.message
    assert error.hint
    assert error.exit_code == 4
    return error


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        ("empty.log", ("is empty",)),
        ("garbage.log", ("no sysbench", "GNU time", "fio JSON", "iperf3")),
        ("garbage-base64.txt", ("no sysbench", "GNU time", "fio JSON", "iperf3")),
        ("truncated-cpu.log", ("no 'events per second:' line",)),
        ("truncated-memory.log", ("no 'MiB transferred (… MiB/sec)' line",)),
        ("sysbench-1.0.20-memory-oper-none.log", ("--memory-oper=none", "MiB transferred")),
        ("sysbench-1.1.0-cpu-eps-mismatch.log", ("780.69", "812.4410", "disagrees")),
        ("time-nonzero.txt", ("non-zero status 3", "not a measurement")),
        ("time-signal.txt", ("terminated by signal 9", "not a measurement")),
    ],
)
def test_bad_fixture_fails_closed(name: str, needles: tuple[str, ...]) -> None:
    expect_parse_error(text_of(name), str(LOGS / name), *needles)


def test_blank_lines_only_are_empty() -> None:
    expect_parse_error("\r\n\n   \n", "blank.log", "is empty")


def test_zero_throughput_is_not_a_measurement() -> None:
    text = "Prime numbers limit: 10000\nCPU speed:\n    events per second:     0.00\n"
    expect_parse_error(text, "zero.log", "events per second is 0")


def test_two_runs_in_one_log_are_refused() -> None:
    text = text_of("sysbench-1.0.20-cpu-t1.log") + text_of("sysbench-1.0.20-cpu-t2.log")
    expect_parse_error(text, "two.log", "2 'events per second:' lines")


def test_cpu_and_memory_in_one_log_are_refused() -> None:
    text = text_of("sysbench-1.0.20-cpu-t1.log") + text_of("sysbench-1.0.20-memory.log")
    expect_parse_error(text, "mixed.log", "both sysbench cpu and memory")


def test_failed_run_in_combined_log_wins_over_sysbench_result() -> None:
    text = text_of("sysbench-1.0.20-cpu-t1.log") + "Command exited with non-zero status 1\n2.00\n"
    expect_parse_error(text, "combined.log", "non-zero status 1")


def test_status_line_without_time_line_is_a_failed_run() -> None:
    expect_parse_error("0.31\nCommand terminated by signal 15\n", "cut.txt", "signal 15")


def test_earlier_failed_record_does_not_taint_the_last_run() -> None:
    text = "Command exited with non-zero status 2\n0.01\n4.20\n"
    assert parse_log(text, source="a.txt") == [Measurement("wall_s", 4.20, "s", "time")]


def test_gnu_time_missing_is_named() -> None:
    with pytest.raises(ParseError, match=r"^cpu\.log: no GNU time '-f %e' line"):
        parse_gnu_time(text_of("sysbench-1.0.20-cpu-t1.log"), source="cpu.log")


def test_time_line_needs_two_decimals() -> None:
    with pytest.raises(ParseError, match="no GNU time"):
        parse_gnu_time("real 0.30\n0.3\n", source="p.txt")


def test_sysbench_parser_rejects_other_text() -> None:
    with pytest.raises(ParseError, match=r"^t\.txt is not sysbench cpu or memory output"):
        parse_sysbench("0.30\n", source="t.txt")


def test_wall_time_is_named_for_what_it_timed() -> None:
    # One metric per arm: a cpu run's seconds must never pool with a memory run's.
    from snpappliance.workloads.parsers import wall_metric

    assert wall_metric("sysbench-cpu") == "cpu_wall_s"
    assert wall_metric("sysbench-memory") == "ram_wall_s"
    assert wall_metric("time") == "wall_s"
