"""Parser for iperf3 3.x output: the text report and the ``-J`` JSON report.

Metrics (Mbit/s in SI units as iperf3 prints them: 1 Gbit = 1000 Mbit):

* TCP: ``iperf3_sender_mbit_s``, ``iperf3_receiver_mbit_s`` and, when the sender
  side reports them, ``iperf3_retransmits``;
* UDP: ``iperf3_receiver_mbit_s``, ``iperf3_jitter_ms``, ``iperf3_loss_pct``
  (all three from the receiver's summary).

With several streams (``-P``) the ``[SUM]`` summary lines are used (JSON: the
``end.sum*`` objects, which are sums already), else the single stream's summary.
JSON: TCP reads ``end.sum_sent`` / ``end.sum_received``; UDP reads
``end.sum_received`` where iperf3 writes it (3.12 does) and ``end.sum`` otherwise.
Text: the summary lines that end in ``sender`` / ``receiver``; the UDP receiver
line carries ``jitter ms  lost/total (pct%)``, and the loss is computed from the
two counts (iperf3 rounds the percentage it prints to two digits). The text
report prints three significant digits (``18.8 Gbits/sec``); the JSON report
carries full precision, so prefer ``-J``.

Both the client's and the server's output parse where they carry the summary.
A server only reports its own side: for a normal (client → server) test the
receiver, so its TCP output has no ``iperf3_sender_mbit_s`` nor retransmits;
for a reverse (``-R``) test the sender, so its TCP output has no receiver rate,
and its UDP output holds no receiver summary at all, which is an error (parse
the client's output instead). The workload is named by :func:`iperf3_workload`
from the protocol and the direction (JSON ``test_start.reverse``; the client's
text says "Reverse mode"; the server's text is reverse when it sent the data).

Failing closed (:class:`~snpappliance.errors.ParseError`): an iperf3 error
(``"error"`` in the JSON, ``iperf3: error - …`` in the text), no summary,
several tests in one file, a bidirectional (``--bidir``) test, or a side that
moved no data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from snpappliance.errors import ConfigError, ParseError
from snpappliance.workloads.parsers import Measurement

PROTOCOLS = ("tcp", "udp")
METRIC_SENDER = "iperf3_sender_mbit_s"
METRIC_RECEIVER = "iperf3_receiver_mbit_s"
METRIC_RETRANSMITS = "iperf3_retransmits"
METRIC_JITTER = "iperf3_jitter_ms"
METRIC_LOSS = "iperf3_loss_pct"
UNIT_RATE = "Mbit/s"
UNIT_RETRANSMITS = "count"
UNIT_JITTER = "ms"
UNIT_LOSS = "%"
#: Every metric iperf3 output yields.
IPERF3_METRICS = (METRIC_SENDER, METRIC_RECEIVER, METRIC_RETRANSMITS, METRIC_JITTER, METRIC_LOSS)

#: Mbit per unit of iperf3's bit-rate prefixes (SI, as iperf3 prints bits).
_MBIT_PER = {"": Decimal("0.000001"), "K": Decimal("0.001"), "M": Decimal(1),
             "G": Decimal(1000), "T": Decimal(1000000)}  # fmt: skip
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_OBJECT_START = re.compile(r"^[ \t]*\{", re.MULTILINE)
_SUMMARY = re.compile(
    r"\[\s*(?P<id>SUM|\d+)\]\s+\d+\.\d+-\s*\d+\.\d+\s+sec\s+[\d.]+\s+[KMGT]?Bytes\s+"
    r"(?P<rate>[\d.]+)\s+(?P<prefix>[KMGT]?)bits/sec\s+(?P<rest>.*?)\s*(?P<role>sender|receiver)\s*$"
)
_UDP_REST = re.compile(
    r"^(?P<jitter>[\d.]+)\s+ms\s+(?P<lost>-?\d+)/\s*(?P<total>\d+)\s+\([^)]*%\)$"
)
_RETR_REST = re.compile(r"^(?P<retr>\d+)$")
_ERROR_LINE = re.compile(r"^iperf3: (?:error|interrupt) - (?P<why>.*)$", re.MULTILINE)
_REVERSE = re.compile(r"^Reverse mode, remote host .* is sending", re.MULTILINE)
_BIDIR = re.compile(r"\[\s*(?:SUM|\d+)\]\[(?:TX|RX)-[CS]\]")
_SERVER = re.compile(r"^(?:Server listening on|Accepted connection from) ", re.MULTILINE)
_TEXT_MARKERS = re.compile(
    r"^(?:Connecting to host |Server listening on |Accepted connection from |iperf Done\.|"
    r"iperf3: (?:error|interrupt) - )",
    re.MULTILINE,
)
_JSON_MARKERS = ('"test_start"', '"connecting_to"', '"accepted_connection"')

Json = Mapping[str, Any]


def iperf3_workload(protocol: str, reverse: bool) -> str:
    """The workload name of an iperf3 test: ``iperf3-tcp``, ``iperf3-udp-reverse``, …"""
    name = protocol.strip().lower()
    if name not in PROTOCOLS:
        msg = f"iperf3 protocol {protocol!r} is not tcp or udp"
        raise ConfigError(msg, hint='set protocol = "tcp" or "udp"')
    return f"iperf3-{name}-reverse" if reverse else f"iperf3-{name}"


def looks_like_iperf3(text: str) -> bool:
    """Whether ``text`` is iperf3 output (text or ``-J``), what :func:`parse_iperf3` reads."""
    clean = _clean(text)
    if _TEXT_MARKERS.search(clean) or any(_SUMMARY.search(line) for line in clean.splitlines()):
        return True
    if any(marker in clean for marker in _JSON_MARKERS):
        return True
    return '"start"' in clean and '"intervals"' in clean and '"end"' in clean


@dataclass(frozen=True)
class _Side:
    """One side's summary: Mbit/s and what else that side reported."""

    mbit_s: Decimal | float
    retransmits: int | None = None
    jitter_ms: float | None = None
    loss_pct: float | None = None


@dataclass(frozen=True)
class _Report:
    protocol: str
    reverse: bool
    sender: _Side | None
    receiver: _Side | None
    server: bool


def _clean(text: str) -> str:
    return _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


def _fail(message: str, hint: str) -> ParseError:
    return ParseError(message, hint=hint)


def _no_constant(name: str) -> float:
    msg = f"{name} is not a JSON value"
    raise ValueError(msg)


def _json_report(text: str) -> Json | None:
    """The iperf3 ``-J`` object in ``text`` (the first line that opens one), if any."""
    decoder = json.JSONDecoder(parse_constant=_no_constant)
    for match in _OBJECT_START.finditer(text):
        try:
            value, _ = decoder.raw_decode(text, match.end() - 1)
        except ValueError:
            continue
        if isinstance(value, dict) and ("start" in value or "end" in value or "error" in value):
            return value
    return None


# --- JSON --------------------------------------------------------------------------


def _mapping(parent: Json, key: str, *, source: str, where: str) -> Json:
    value = parent.get(key)
    if not isinstance(value, Mapping):
        msg = f"{source}: iperf3 JSON has no {where}"
        raise _fail(msg, "the report is incomplete; keep iperf3's whole -J output")
    return value


def _json_number(summary: Json, key: str, *, source: str, where: str) -> float:
    value = summary.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f'{source}: iperf3 JSON {where} has no numeric "{key}"'
        raise _fail(msg, "the report is incomplete; keep iperf3's whole -J output")
    return float(value)


def _json_side(summary: Json, *, udp: bool, source: str, where: str) -> _Side | None:
    """A side's summary; None when it moved nothing (what a server writes for the far side)."""
    if _json_number(summary, "bytes", source=source, where=where) <= 0:
        return None
    mbit_s = _json_number(summary, "bits_per_second", source=source, where=where) / 1e6
    retransmits = summary.get("retransmits")
    if udp:
        return _Side(
            mbit_s,
            jitter_ms=_json_number(summary, "jitter_ms", source=source, where=where),
            loss_pct=_json_number(summary, "lost_percent", source=source, where=where),
        )
    return _Side(mbit_s, retransmits=retransmits if isinstance(retransmits, int) else None)


def _from_json(report: Json, *, source: str) -> _Report:
    error = report.get("error")
    if error is not None:
        msg = f"{source}: iperf3 reported an error: {error}"
        raise _fail(msg, "fix the cause iperf3 names (server reachable? port free?) and rerun")
    start = _mapping(report, "start", source=source, where='"start" object')
    test = _mapping(start, "test_start", source=source, where="start.test_start (no test ran)")
    protocol = str(test.get("protocol", "")).lower()
    if protocol not in PROTOCOLS:
        msg = f"{source}: iperf3 JSON test_start.protocol is {test.get('protocol')!r}"
        raise _fail(msg, "import TCP or UDP tests")
    end = _mapping(report, "end", source=source, where='"end" object (the test did not finish)')
    if test.get("bidir") or "sum_sent_bidir_reverse" in end:
        raise _bidir(source)
    udp = protocol == "udp"
    sent = _mapping(end, "sum_sent", source=source, where="end.sum_sent") if not udp else None
    if udp:
        key = "sum_received" if "sum_received" in end else "sum"
        received = _mapping(end, key, source=source, where=f"end.{key}")
    else:
        received = _mapping(end, "sum_received", source=source, where="end.sum_received")
    return _Report(
        protocol=protocol,
        reverse=bool(test.get("reverse")),
        sender=_json_side(sent, udp=udp, source=source, where="end.sum_sent") if sent else None,
        receiver=_json_side(received, udp=udp, source=source, where="end.sum_received"),
        server="accepted_connection" in start,
    )


# --- text --------------------------------------------------------------------------


def _text_side(match: re.Match[str], *, source: str) -> tuple[str, _Side]:
    mbit_s = Decimal(match["rate"]) * _MBIT_PER[match["prefix"]]
    rest = match["rest"].strip()
    udp = _UDP_REST.match(rest)
    if udp is not None:
        total = int(udp["total"])
        if total <= 0:
            msg = f"{source}: iperf3 UDP {match['role']} summary counts 0 datagrams"
            raise _fail(msg, "no datagram arrived; check the network path and run it again")
        loss = 100 * int(udp["lost"]) / total
        return "udp", _Side(mbit_s, jitter_ms=float(udp["jitter"]), loss_pct=loss)
    retr = _RETR_REST.match(rest)
    return "tcp", _Side(mbit_s, retransmits=int(retr["retr"]) if retr else None)


def _summaries(lines: Sequence[str], *, source: str) -> list[re.Match[str]]:
    found = [m for line in lines if (m := _SUMMARY.search(line)) is not None]
    if not found:
        msg = f"{source}: iperf3 output has no summary line ('… sender' / '… receiver')"
        raise _fail(
            msg, "the test did not finish or its output was cut off; see the log and run it again"
        )
    totals = [m for m in found if m["id"] == "SUM"]
    if totals:
        return totals
    streams = {m["id"] for m in found}
    if len(streams) > 1:
        msg = f"{source}: iperf3 output has summaries of {len(streams)} streams but no [SUM] lines"
        raise _fail(msg, "keep iperf3's whole output; with -P it prints [SUM] summary lines")
    return found


def _from_text(text: str, *, source: str) -> _Report:
    if (error := _ERROR_LINE.search(text)) is not None:
        msg = f"{source}: iperf3 reported an error: {error['why'].strip()}"
        raise _fail(msg, "fix the cause iperf3 names (server reachable? port free?) and rerun")
    if _BIDIR.search(text):
        raise _bidir(source)
    sides: dict[str, _Side] = {}
    protocols: set[str] = set()
    for match in _summaries(text.splitlines(), source=source):
        role = match["role"]
        if role in sides:
            msg = f"{source}: iperf3 output has more than one {role} summary; expected one test"
            raise _fail(msg, "keep one iperf3 test per file (run the server with -1)")
        protocol, side = _text_side(match, source=source)
        protocols.add(protocol)
        if side.mbit_s > 0:
            sides[role] = side
    server = _SERVER.search(text) is not None
    udp = "udp" in protocols or "Lost/Total Datagrams" in text
    reverse = _REVERSE.search(text) is not None
    if server:
        reverse = "sender" in sides and "receiver" not in sides
    return _Report(
        protocol="udp" if udp else "tcp",
        reverse=reverse,
        sender=sides.get("sender"),
        receiver=sides.get("receiver"),
        server=server,
    )


# --- measurements ------------------------------------------------------------------


def _bidir(source: str) -> ParseError:
    msg = f"{source}: iperf3 ran a bidirectional (--bidir) test"
    return _fail(msg, "run one direction per test (-R for guest-bound traffic) and import those")


def _tcp_measurements(report: _Report, workload: str, *, source: str) -> list[Measurement]:
    sender, receiver = report.sender, report.receiver
    missing = [role for role, side in (("sender", sender), ("receiver", receiver)) if not side]
    if (missing and not report.server) or len(missing) == 2:
        msg = f"{source}: iperf3 TCP output has no {' and '.join(missing)} summary with data"
        raise _fail(msg, "the test moved no data or was cut off; see the log and run it again")
    found: list[Measurement] = []
    if sender is not None:
        found.append(Measurement(METRIC_SENDER, float(sender.mbit_s), UNIT_RATE, workload))
    if receiver is not None:
        found.append(Measurement(METRIC_RECEIVER, float(receiver.mbit_s), UNIT_RATE, workload))
    if sender is not None and sender.retransmits is not None:
        retransmits = float(sender.retransmits)
        found.append(Measurement(METRIC_RETRANSMITS, retransmits, UNIT_RETRANSMITS, workload))
    return found


def _udp_measurements(report: _Report, workload: str, *, source: str) -> list[Measurement]:
    receiver = report.receiver
    if receiver is None or receiver.jitter_ms is None or receiver.loss_pct is None:
        side = "the server of a reverse (-R) test, which sent" if report.server else "it"
        msg = (
            f"{source}: iperf3 UDP output has no receiver summary with data (jitter, "
            f"lost/total): {side} the datagrams"
        )
        raise _fail(msg, "import the output of the side that received: the client's with -R")
    return [
        Measurement(METRIC_RECEIVER, float(receiver.mbit_s), UNIT_RATE, workload),
        Measurement(METRIC_JITTER, receiver.jitter_ms, UNIT_JITTER, workload),
        Measurement(METRIC_LOSS, receiver.loss_pct, UNIT_LOSS, workload),
    ]


def parse_iperf3(text: str, *, source: str) -> list[Measurement]:
    """The measurements of one iperf3 test: its ``-J`` JSON or its text report.

    TCP yields the sender and receiver rates (and retransmits when the sender
    side reports them); UDP yields the receiver rate, jitter and loss. The
    workload is :func:`iperf3_workload` of the test's protocol and direction.
    """
    clean = _clean(text)
    if not clean.strip():
        msg = f"{source} is empty"
        raise _fail(msg, "iperf3 produced no output; see how it was run and run it again")
    document = _json_report(clean)
    report = _from_json(document, source=source) if document else _from_text(clean, source=source)
    workload = iperf3_workload(report.protocol, report.reverse)
    if report.protocol == "tcp":
        return _tcp_measurements(report, workload, source=source)
    return _udp_measurements(report, workload, source=source)
