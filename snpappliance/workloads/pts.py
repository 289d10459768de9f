"""Phoronix Test Suite results: ``composite.xml`` → macro smoke results.

The file's structure (schema ``result-file.xsd``, writer ``pts_result_file.php``)::

    PhoronixTestSuite
     ├─ Generated, System (1..n)
     └─ Result (1..n): Identifier, Title, Scale, Proportion (HIB|LIB), ...
          └─ Data/Entry (1..n): Identifier, Value (the mean), [RawString "v1:v2:v3"]

An Entry whose Value is empty is a test that failed: it is kept, flagged
``failed``, never read as zero. Smoke results are reported apart from the
statistics (see :mod:`snpappliance.formats.smoke`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from snpappliance.errors import ParseError
from snpappliance.formats.results import Direction
from snpappliance.formats.smoke import SmokeResult

if TYPE_CHECKING:
    from pathlib import Path

PARSE_HINT = (
    "the file is not a Phoronix Test Suite result file; check the run's raw log "
    "and the phoronix-test-suite version in the guest"
)


_PROPORTIONS = {"HIB": Direction.HIGHER, "LIB": Direction.LOWER}


def parse_composite_file(path: Path) -> list[SmokeResult]:
    """Read and parse a ``composite.xml``."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        msg = f"cannot read the PTS result file {path}: {exc.strerror}"
        raise ParseError(
            msg,
            hint="check that the smoke run copied composite.xml out of the guest",
        ) from exc
    return parse_composite(text, source=str(path))


def parse_composite(text: str, *, source: str) -> list[SmokeResult]:
    """Every Result/Data/Entry of a ``composite.xml`` text; ``source`` names it in errors."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        msg = f"{source} is not well-formed XML: {exc}"
        raise ParseError(msg, hint=PARSE_HINT) from exc
    if root.tag != "PhoronixTestSuite":
        msg = f"{source}: the root element is <{root.tag}>, not <PhoronixTestSuite>"
        raise ParseError(msg, hint=PARSE_HINT)
    results = root.findall("Result")
    if not results:
        msg = f"{source} has no <Result> element"
        raise ParseError(msg, hint=PARSE_HINT)
    parsed: list[SmokeResult] = []
    for number, result in enumerate(results, start=1):
        parsed += _result(result, f"{source}: Result #{number}")
    return parsed


def _text(element: ET.Element, tag: str, where: str, *, required: bool = True) -> str:
    child = element.find(tag)
    value = (child.text or "").strip() if child is not None else ""
    if required and not value:
        msg = f"{where} has no <{tag}>"
        raise ParseError(msg, hint=PARSE_HINT)
    return value


def _number(text: str, where: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        msg = f"{where}: {what} {text!r} is not a number"
        raise ParseError(msg, hint=PARSE_HINT) from None


def _result(result: ET.Element, where: str) -> list[SmokeResult]:
    test = _text(result, "Identifier", where)
    where = f"{where} ({test})"
    proportion = _text(result, "Proportion", where)
    if proportion not in _PROPORTIONS:
        msg = f"{where}: Proportion {proportion!r} is not HIB or LIB"
        raise ParseError(msg, hint=PARSE_HINT)
    entries = result.findall("Data/Entry")
    if not entries:
        msg = f"{where} has no <Data>/<Entry>"
        raise ParseError(msg, hint=PARSE_HINT)
    parsed = []
    for n, entry in enumerate(entries, start=1):
        value, raw = _values(entry, f"{where} Entry #{n}")
        parsed.append(
            SmokeResult(
                test=test,
                title=_text(result, "Title", where),
                unit=_text(result, "Scale", where),
                direction=_PROPORTIONS[proportion],
                system=_text(entry, "Identifier", f"{where} Entry #{n}"),
                value=value,
                raw=raw,
                arguments=_text(result, "Arguments", where, required=False),
            )
        )
    return parsed


def _values(entry: ET.Element, where: str) -> tuple[float | None, tuple[float, ...]]:
    if entry.find("Value") is None:
        msg = f"{where} has no <Value>"
        raise ParseError(msg, hint=PARSE_HINT)
    value_text = _text(entry, "Value", where, required=False)
    raw_text = _text(entry, "RawString", where, required=False)
    if not value_text:
        return None, ()
    raw = tuple(_number(v, where, "RawString value") for v in raw_text.split(":") if v.strip())
    return _number(value_text, where, "Value"), raw
