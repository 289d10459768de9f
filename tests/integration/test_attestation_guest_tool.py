"""The guest's attestation step for real: snp-guest-report built from its source with
gcc (static, as in the guest image) and the sh step run by busybox sh.

This machine is no SNP guest (no configfs-tsm report interface, no
/dev/sev-guest), so both must say "no interface" cleanly, and a baseline run
judged from that output is recorded as showing no SNP.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from snpappliance import proc
from snpappliance.attestation.guest import (
    TOOL_EXIT_NO_INTERFACE,
    attest_snippet,
    parse_attest_line,
)
from snpappliance.attestation.judge import RunExpectations, judge_run
from snpappliance.attestation.nonce import RunNonce
from snpappliance.formats.attestation import AttestationStatus, GuestStatus
from tests.conftest import require_program, unavailable

pytestmark = pytest.mark.integration

SOURCE = Path(__file__).parents[2] / "Dockerfiles" / "guest" / "snp-guest-report.c"
EXIT_USAGE = 64


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if Path("/dev/sev-guest").exists() or Path("/sys/kernel/config/tsm/report").exists():
        unavailable("this machine has an SNP report interface; these tests need one without")
    gcc = require_program("gcc")
    out = tmp_path_factory.mktemp("tool") / "snp-guest-report"
    proc.run([gcc, "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", out, SOURCE])
    return out


def test_tool_reports_no_interface(tool: Path) -> None:
    done = proc.run([tool, "-l", "0", "ab" * 64], check=False)
    assert done.returncode == TOOL_EXIT_NO_INTERFACE
    assert done.stdout == ""
    assert "cannot open /dev/sev-guest: No such file or directory" in done.stderr


@pytest.mark.parametrize(
    "args",
    [[], ["ab" * 63], ["zz" * 64], ["-l", "4", "ab" * 64], ["-l", "x", "ab" * 64]],
    ids=["none", "short", "not-hex", "vmpl-4", "vmpl-x"],
)
def test_tool_usage_errors(tool: Path, args: list[str]) -> None:
    done = proc.run([tool, *args], check=False)
    assert done.returncode == EXIT_USAGE
    assert "usage: snp-guest-report" in done.stderr


def test_step_in_busybox_sh_prints_one_no_interface_line(tool: Path, tmp_path: Path) -> None:
    busybox = require_program("busybox")
    nonce = RunNonce.fresh("campaign", "run-1")
    script = tmp_path / "attest.sh"
    script.write_text(attest_snippet(nonce.value, tool=str(tool)), encoding="utf-8")
    done = proc.run([busybox, "sh", script], check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("SNPGUEST-ATTEST status=no-interface src=sev-guest detail=")
    guest = parse_attest_line(done.stdout)
    assert guest.status is GuestStatus.NO_INTERFACE
    assert guest.source == "sev-guest"
    assert "cannot_open_/dev/sev-guest" in guest.detail
    assert guest.report is None

    baseline = judge_run(RunExpectations(snp=False, nonce=nonce), guest)
    assert baseline.status is AttestationStatus.NO_SNP
    snp = judge_run(RunExpectations(snp=True, nonce=nonce, measurement=bytes(48)), guest)
    assert snp.status is AttestationStatus.INVALID
    assert "missing report: guest attestation status no-interface (sev-guest" in snp.reason


def test_step_without_the_tool_or_device_is_no_interface(tmp_path: Path) -> None:
    busybox = require_program("busybox")
    script = tmp_path / "attest.sh"
    script.write_text(attest_snippet(bytes(64), tool=str(tmp_path / "absent")), encoding="utf-8")
    guest = parse_attest_line(proc.run([busybox, "sh", script]).stdout)
    assert guest.status is GuestStatus.NO_INTERFACE
    assert guest.source == "none"
