"""Issue 11, the first hour: piped output is plain and whole, primary output is on stdout,
and a build by hand reuses the Debian mirror the last build (`make demo`) used."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance.build.base import MIRROR_ENV
from snpappliance.build.commands import (
    choose_mirror,
    describe_build,
    mirror_file,
    remember_mirror,
    show_summary,
)
from snpappliance.build.component import BuildResult, Status
from snpappliance.campaign.attempt import RunOutcome
from snpappliance.campaign.plan import PlannedRun
from snpappliance.campaign.progress import Lane, LiveProgress
from snpappliance.formats.stack import load_stack

if TYPE_CHECKING:
    import pytest

    from tests.conftest import SnpappRunner

CAPTURES = Path(__file__).resolve().parent.parent / "fixtures" / "snp-captures"
STACK = "debian-bookworm"
DEMO_MIRROR = "http://deb.debian.org/debian"
#: A directory name longer than any terminal: piped, it must come out whole.
LONG = "a-campaign-directory-whose-name-is-far-longer-than-eighty-columns-of-any-terminal"


def test_piped_progress_is_one_whole_line_per_event(capsys: pytest.CaptureFixture[str]) -> None:
    runs = [PlannedRun(1, "baseline", f"sysbench-cpu-{LONG}", 1), PlannedRun(2, "snp", "cpu", 1)]
    with LiveProgress({"": Lane(total=2, done=0, failures=0)}) as progress:
        progress.attempt(runs[0], 1)
        progress.attempt(runs[0], 2)
        progress.finished(RunOutcome(runs[0], "ok", 2, ""))
        progress.attempt(runs[1], 1)
        progress.finished(RunOutcome(runs[1], "failed", 3, "boot timed out after 120 s"))
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines == [
        f"↻ run 1/2 {runs[0].run_id}: attempt 2",
        f"✓ run 1/2 {runs[0].run_id}",
        f"✗ {runs[1].run_id}: failed after 3 attempt(s): boot timed out after 120 s",
    ]
    assert "ETA" not in err


def test_piped_build_summary_keeps_paths_whole(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    where = tmp_path / LONG / STACK / "guest"
    show_summary(STACK, [BuildResult("guest", Status.CACHED, where, duration_s=0.25)])
    out, err = capsys.readouterr()
    assert err == ""
    assert out == f"{STACK}/guest: up to date in 0.2 s, -: {where}\n"


def test_piped_doctor_prints_one_line_per_check_on_stdout(snpapp: SnpappRunner) -> None:
    code, out, err = snpapp("doctor", "--from", str(CAPTURES / "amdsev-197-rmp-not-reserved"))
    assert code == 12
    assert "┃" not in out
    assert re.search(r"^  rmp-not-reserved: .*RMP table has not been reserved by BIOS — fix: ", out,
                     re.MULTILINE), out  # fmt: skip
    assert re.search(r"^  PASS    CPUID 0x8000001F: .*: C-bit 51, .*253 encrypted guests", out,
                     re.MULTILINE), out  # fmt: skip
    assert "not ready for SEV-SNP" in " ".join(err.split())  # the error stays a diagnostic


def test_mirror_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stack = load_stack(STACK)
    remembered = mirror_file(tmp_path, stack)
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    choice = choose_mirror(None, remembered=remembered)
    assert choice.url is None
    assert stack.base.snapshot_mirror in choice.describe(stack)
    remember_mirror(tmp_path, stack, choose_mirror(DEMO_MIRROR))
    assert remembered == tmp_path / STACK / "debian-mirror"
    assert remembered.read_text(encoding="utf-8") == DEMO_MIRROR + "\n"
    choice = choose_mirror(None, remembered=remembered)
    assert choice.url == DEMO_MIRROR
    assert f"remembered in {remembered}" in choice.describe(stack)
    assert choose_mirror("http://other/debian", remembered=remembered).url == "http://other/debian"
    monkeypatch.setenv(MIRROR_ENV, "http://env/debian")
    assert choose_mirror(None, remembered=remembered).url == "http://env/debian"
    monkeypatch.setenv(MIRROR_ENV, "")  # `make demo DEBIAN_MIRROR=`: the pinned snapshot
    assert choose_mirror(None, remembered=remembered).url is None


def _base_line(lines: list[str]) -> str:
    return next(line for line in lines if line.startswith("base image: "))


def test_a_build_by_hand_plans_the_base_the_demo_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`make demo` exports the mirror; the same command typed afterwards must reuse its base."""
    monkeypatch.setenv(MIRROR_ENV, DEMO_MIRROR)
    demo = describe_build(STACK, ["guest"], artifacts_root=tmp_path, mirror=None)
    remember_mirror(tmp_path, load_stack(STACK), choose_mirror(None))  # as the build does
    monkeypatch.delenv(MIRROR_ENV)
    by_hand = describe_build(STACK, ["guest"], artifacts_root=tmp_path, mirror=None)
    assert _base_line(by_hand) == _base_line(demo)
    assert by_hand[0].startswith(f"Debian mirror: {DEMO_MIRROR} (the last build's, remembered")
    elsewhere = describe_build(STACK, ["guest"], artifacts_root=tmp_path / "x", mirror=None)
    assert _base_line(elsewhere) != _base_line(demo)  # the snapshot: another base


def test_build_dry_run_says_which_mirror(
    snpapp: SnpappRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    remember_mirror(tmp_path, load_stack(STACK), choose_mirror(DEMO_MIRROR))
    code, out, err = snpapp(
        "build", "guest", "--stack", STACK, "--dry-run", "--artifacts", str(tmp_path)
    )
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"Debian mirror: {DEMO_MIRROR} (the last build's")
    code, out, err = snpapp("build", "base", "--stack", STACK, "--dry-run", "--artifacts",
                            str(tmp_path))  # fmt: skip
    assert code == 0, err
    assert f"from {DEMO_MIRROR}/;" in out
