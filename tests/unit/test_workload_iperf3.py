"""parse_iperf3 on real iperf3 3.12 output (and one capture from an SEV-SNP study)."""

from __future__ import annotations

from pathlib import Path

import pytest

from snpappliance.errors import ConfigError, ParseError
from snpappliance.workloads.iperf3 import (
    IPERF3_METRICS,
    iperf3_workload,
    looks_like_iperf3,
    parse_iperf3,
)

IPERF3 = Path(__file__).resolve().parent.parent / "fixtures" / "iperf3"
LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
FIO = Path(__file__).resolve().parent.parent / "fixtures" / "fio"

Row = tuple[str, str, float]


def text(name: str) -> str:
    return (IPERF3 / name).read_text(encoding="utf-8")


def values(name: str) -> list[Row]:
    return [(m.workload, m.metric, m.value) for m in parse_iperf3(text(name), source=name)]


def assert_rows(got: list[Row], expected: list[Row]) -> None:
    """Same workloads and metrics in the same order, values equal to 12 digits."""
    assert [row[:2] for row in got] == [row[:2] for row in expected]
    assert [row[2] for row in got] == pytest.approx([row[2] for row in expected], rel=1e-12)


def tcp(workload: str, sender: float, receiver: float, retransmits: float) -> list[Row]:
    return [
        (workload, "iperf3_sender_mbit_s", sender),
        (workload, "iperf3_receiver_mbit_s", receiver),
        (workload, "iperf3_retransmits", retransmits),
    ]


def udp(workload: str, receiver: float, jitter: float, loss: float) -> list[Row]:
    return [
        (workload, "iperf3_receiver_mbit_s", receiver),
        (workload, "iperf3_jitter_ms", jitter),
        (workload, "iperf3_loss_pct", loss),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # text: three significant digits, Gbits → ×1000
        ("tcp-client.txt", tcp("iperf3-tcp", 18800, 18800, 0)),
        ("tcp-p3-client.txt", tcp("iperf3-tcp", 16100, 16100, 0)),  # [SUM] lines
        ("tcp-p3-client-crlf.txt", tcp("iperf3-tcp", 16100, 16100, 0)),
        ("tcp-reverse-client.txt", tcp("iperf3-tcp-reverse", 15400, 15400, 0)),
        ("udp-client.txt", udp("iperf3-udp", 100, 0.012, 0)),
        ("udp-p3-client.txt", udp("iperf3-udp", 150, 0.075, 0)),
        ("udp-reverse-client.txt", udp("iperf3-udp-reverse", 100, 0.212, 0)),
        ("udp-400k-client.txt", udp("iperf3-udp", 0.524, 0.019, 0)),  # Kbits/sec
        # -J: bits_per_second / 1e6
        ("tcp-client.json", tcp("iperf3-tcp", 18966.530239227126, 18954.448186067708, 3)),
        ("tcp-p3-client.json", tcp("iperf3-tcp", 14328.590952154429, 14271.37911918325, 11)),
        (
            "tcp-reverse-client.json",
            tcp("iperf3-tcp-reverse", 22970.744859690287, 22987.05106070856, 8),
        ),
        ("udp-client.json", udp("iperf3-udp", 99.9741447390782, 0.02427701954231019, 0)),
        ("udp-p3-client.json", udp("iperf3-udp", 150.15940987297154, 0.11737129565529594, 0)),
        (
            "udp-reverse-client.json",
            udp("iperf3-udp-reverse", 100.00163589693851, 0.03593138931566498, 0),
        ),
    ],
)
def test_client_output_gives_exact_values(name: str, expected: list[Row]) -> None:
    assert_rows(values(name), expected)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tcp-server.txt", [("iperf3-tcp", "iperf3_receiver_mbit_s", 18800)]),
        ("tcp-server.json", [("iperf3-tcp", "iperf3_receiver_mbit_s", 15590.993723478565)]),
        (
            "tcp-reverse-server.txt",
            [
                ("iperf3-tcp-reverse", "iperf3_sender_mbit_s", 15400),
                ("iperf3-tcp-reverse", "iperf3_retransmits", 0),
            ],
        ),
        (
            "tcp-reverse-server.json",
            [
                ("iperf3-tcp-reverse", "iperf3_sender_mbit_s", 16842.7494165556),
                ("iperf3-tcp-reverse", "iperf3_retransmits", 2),
            ],
        ),
        ("udp-server.txt", udp("iperf3-udp", 100, 0.012, 0)),
        ("udp-server.json", udp("iperf3-udp", 99.9811910313991, 0.03298042229150843, 0)),
    ],
)
def test_server_output_gives_its_own_side(name: str, expected: list[Row]) -> None:
    assert_rows(values(name), expected)


def test_snp_study_udp_with_heavy_loss_uses_the_sum_receiver_line() -> None:
    got = values("cvm-eval-snp-udp-p8-64.log")
    assert_rows(got, udp("iperf3-udp", 150, 0.016, 100 * 9934529 / 12926737))
    assert round(got[2][2]) == 77  # what iperf3 printed: (77%)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("refused-client.json", r"iperf3 reported an error: unable to connect to server"),
        ("refused-client.txt", r"iperf3 reported an error: unable to connect to server"),
        ("udp-reverse-server.txt", r"no receiver summary .* server of a reverse \(-R\) test"),
        ("udp-reverse-server.json", r"no receiver summary .* server of a reverse \(-R\) test"),
        ("tcp-bidir-client.txt", r"bidirectional \(--bidir\)"),
        ("tcp-bidir-client.json", r"bidirectional \(--bidir\)"),
    ],
)
def test_failures_name_the_source_and_the_cause(name: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        parse_iperf3(text(name), source=f"logs/{name}")
    assert caught.value.message.startswith(f"logs/{name}")
    assert caught.value.hint


def test_output_cut_before_the_summary() -> None:
    cut = text("tcp-client.txt").split("- - - -")[0]
    with pytest.raises(ParseError, match=r"x: iperf3 output has no summary line"):
        parse_iperf3(cut, source="x")


def test_two_tests_in_one_file_are_refused() -> None:
    both = text("tcp-client.txt") + text("tcp-reverse-client.txt")
    with pytest.raises(ParseError, match=r"more than one sender summary; expected one test"):
        parse_iperf3(both, source="x")


def test_json_cut_off_falls_back_to_no_summary() -> None:
    cut = text("tcp-client.json")[:1500]
    with pytest.raises(ParseError, match=r"x: iperf3 output has no summary line"):
        parse_iperf3(cut, source="x")


def test_empty_output() -> None:
    with pytest.raises(ParseError, match="x is empty"):
        parse_iperf3(" \r\n", source="x")


@pytest.mark.parametrize(
    ("protocol", "reverse", "name"),
    [
        ("tcp", False, "iperf3-tcp"),
        ("udp", False, "iperf3-udp"),
        ("tcp", True, "iperf3-tcp-reverse"),
        ("UDP", True, "iperf3-udp-reverse"),
    ],
)
def test_workload_names(protocol: str, reverse: bool, name: str) -> None:
    assert iperf3_workload(protocol, reverse) == name


def test_workload_of_an_unknown_protocol() -> None:
    with pytest.raises(ConfigError, match="'sctp' is not tcp or udp"):
        iperf3_workload("sctp", reverse=False)


def test_metric_names() -> None:
    assert IPERF3_METRICS == (
        "iperf3_sender_mbit_s",
        "iperf3_receiver_mbit_s",
        "iperf3_retransmits",
        "iperf3_jitter_ms",
        "iperf3_loss_pct",
    )
    units = {m.metric: m.unit for n in ("tcp-client.json", "udp-client.json")
             for m in parse_iperf3(text(n), source=n)}  # fmt: skip
    assert units == {
        "iperf3_sender_mbit_s": "Mbit/s", "iperf3_receiver_mbit_s": "Mbit/s",
        "iperf3_retransmits": "count", "iperf3_jitter_ms": "ms", "iperf3_loss_pct": "%",
    }  # fmt: skip


def test_recognises_iperf3_output_only() -> None:
    for path in IPERF3.iterdir():
        if path.suffix != ".md":
            assert looks_like_iperf3(path.read_text(encoding="utf-8")), path.name
    for path in [*LOGS.iterdir(), *FIO.iterdir()]:
        if path.suffix != ".md":
            content = path.read_text(encoding="utf-8", errors="replace")
            assert not looks_like_iperf3(content), path.name
