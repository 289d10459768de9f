"""The guest's attestation step: the sh it runs and the console line it prints.

The line from a real run of the step is tested in
tests/integration/test_attestation_guest_tool.py; here are the parser's
refusals and the step's input checks.
"""

from __future__ import annotations

import pytest

from snpappliance.attestation.guest import GuestAttestation, attest_snippet, parse_attest_line
from snpappliance.errors import ConfigError, ParseError
from snpappliance.formats.attestation import GuestStatus

NONCE = bytes(range(64))


def test_snippet_carries_the_nonce_as_hex_and_as_printf_escapes() -> None:
    script = attest_snippet(NONCE, vmpl=2)
    assert NONCE.hex() in script
    assert "\\000\\001\\002" in script
    assert "-l 2 " in script
    assert "bash" not in script
    assert script.rstrip().endswith("snp_attest")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nonce": bytes(63)}, "64 bytes"),
        ({"nonce": NONCE, "vmpl": 4}, "VMPL must be 0 to 3"),
        ({"nonce": NONCE, "tool": "snp-guest-report"}, "must be absolute"),
        ({"nonce": NONCE, "tool": "/usr/bin/x; reboot"}, "no shell quoting"),
    ],
)
def test_snippet_refuses_bad_inputs(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        attest_snippet(**kwargs)  # type: ignore[arg-type]


def test_no_line_is_missing() -> None:
    parsed = parse_attest_line("SNPGUEST-INIT id=1\n===SNP-END id=1 rc=0===\n")
    assert parsed.status is GuestStatus.MISSING
    assert parsed.report is None


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ("SNPGUEST-ATTEST status=report src=sev-guest detail= data=***", "data-not-base64"),
        ("SNPGUEST-ATTEST status=report src=sev-guest detail= data=-", "report-without-data"),
        ("SNPGUEST-ATTEST status=fine src=sev-guest detail= data=-", "unknown-status:fine"),
        ("SNPGUEST-ATTEST status=missing src=none detail= data=-", "unexpected-status:missing"),
        ("SNPGUEST-ATTEST status=report src=tpm detail= data=-", "unexpected-src:tpm"),
        ("SNPGUEST-ATTEST status=report", "malformed-attest-line"),
    ],
)
def test_bad_lines_are_errors_not_crashes(line: str, detail: str) -> None:
    parsed = parse_attest_line(f"noise\n{line}\n")
    assert parsed.status is GuestStatus.ERROR
    assert parsed.detail == detail


def test_two_lines_in_one_boot_are_refused() -> None:
    line = "SNPGUEST-ATTEST status=no-interface src=none detail=x data=-\n"
    with pytest.raises(ParseError, match="2 SNPGUEST-ATTEST lines"):
        parse_attest_line(line * 2)


def test_no_interface_line() -> None:
    line = "SNPGUEST-ATTEST status=no-interface src=none detail=no-configfs-tsm data=-\r\n"
    assert parse_attest_line(line) == GuestAttestation(
        GuestStatus.NO_INTERFACE, "none", "no-configfs-tsm", None
    )
