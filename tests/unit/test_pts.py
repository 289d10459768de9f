"""composite.xml parsing (fixtures constructed from the documented format, see their README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from snpappliance.errors import ParseError
from snpappliance.formats.results import Direction
from snpappliance.formats.smoke import SmokeStatus
from snpappliance.workloads.pts import parse_composite, parse_composite_file

FIXTURES = Path(__file__).parent.parent / "fixtures" / "pts"


def test_every_result_with_mean_raw_values_and_direction() -> None:
    results = parse_composite_file(FIXTURES / "smoke-ok.xml")
    assert [r.test for r in results] == [
        "pts/compress-7zip-1.11.0",
        "pts/openssl-3.1.0",
        "pts/c-ray-1.2.0",
    ]
    zip7, openssl, cray = results
    assert zip7.title == "7-Zip Compression"
    assert zip7.unit == "MIPS"
    assert zip7.direction is Direction.HIGHER
    assert zip7.value == 1000.0
    assert zip7.raw == (990.0, 1010.0, 1000.0, 995.0, 1005.0)
    assert zip7.system == "baseline"
    assert zip7.arguments == "Test: Compression Rating"
    assert openssl.raw[-1] == 200.75
    assert cray.direction is Direction.LOWER
    assert cray.unit == "Seconds"
    assert all(r.status is SmokeStatus.OK for r in results)


def test_empty_value_is_a_failed_test_not_zero() -> None:
    results = parse_composite_file(FIXTURES / "smoke-failed.xml")
    openssl = results[1]
    assert openssl.value is None
    assert openssl.raw == ()
    assert openssl.status is SmokeStatus.FAILED
    assert [r.status for r in (results[0], results[2])] == [SmokeStatus.OK, SmokeStatus.OK]


def test_missing_scale_names_the_file_and_the_result() -> None:
    path = FIXTURES / "smoke-no-scale.xml"
    with pytest.raises(ParseError) as info:
        parse_composite_file(path)
    assert str(path) in info.value.message
    assert "pts/c-ray-1.2.0" in info.value.message
    assert "<Scale>" in info.value.message
    assert info.value.hint


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("<PhoronixTestSuite><Generated/></PhoronixTestSuite>", "no <Result>"),
        ("<Other/>", "not <PhoronixTestSuite>"),
        ("<PhoronixTestSuite><Result>", "not well-formed XML"),
        (
            "<PhoronixTestSuite><Result><Identifier>pts/x</Identifier><Title>X</Title>"
            "<Scale>s</Scale><Proportion>HIB</Proportion></Result></PhoronixTestSuite>",
            "no <Data>/<Entry>",
        ),
        (
            "<PhoronixTestSuite><Result><Identifier>pts/x</Identifier><Title>X</Title>"
            "<Scale>s</Scale><Proportion>MAYBE</Proportion></Result></PhoronixTestSuite>",
            "is not HIB or LIB",
        ),
        (
            "<PhoronixTestSuite><Result><Identifier>pts/x</Identifier><Title>X</Title>"
            "<Scale>s</Scale><Proportion>LIB</Proportion><Data><Entry>"
            "<Identifier>a</Identifier><Value>fast</Value></Entry></Data></Result>"
            "</PhoronixTestSuite>",
            "'fast' is not a number",
        ),
    ],
)
def test_malformed_files_fail_closed(text: str, missing: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_composite(text, source="guest/composite.xml")
    assert "guest/composite.xml" in info.value.message
    assert missing in info.value.message


def test_unreadable_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="cannot read"):
        parse_composite_file(tmp_path / "absent.xml")
