"""Issue 11, the first hour, on a real campaign (the guest built by `snpapp build guest`,
booted under QEMU TCG) and on the Makefile: what a new user meets after `make demo`.

* every file and directory a campaign and its report write follows the umask
  (022: 0644/0755; 027: 0640/0750);
* `campaign status` prints on stdout; `--resume` of a finished campaign says it is
  complete and where its report is, and runs nothing;
* the commands `make demo` prints at its end work as typed.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.integration.test_campaign_runs import spec_file

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import SnpappRunner

pytestmark = [pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]


def flat(text: str) -> str:
    return " ".join(text.split())


def modes(root: Path) -> dict[str, int]:
    """Every path below ``root`` (``root`` itself as ``.``) with its permission bits."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _wrong(found: dict[str, int], root: Path, umask: int) -> list[str]:
    wrong = []
    for name, mode in found.items():
        path = root / name
        if path.is_symlink():
            continue
        expected = (0o777 if path.is_dir() else 0o666) & ~umask
        if path.is_file() and mode & 0o111:  # an executable keeps its x bits, masked
            expected = 0o777 & ~umask
        if mode != expected:
            wrong.append(f"{name}: {mode:04o}, expected {expected:04o}")
    return wrong


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    mask = int(request.param)
    old = os.umask(mask)
    try:
        yield mask
    finally:
        os.umask(old)


@pytest.mark.qemu
@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("umask", [0o022, 0o027], ids=["umask022", "umask027"], indirect=True)
def test_a_campaign_and_its_report_follow_the_umask(
    snpapp: SnpappRunner, guest_artifacts: Path, tmp_path: Path, umask: int
) -> None:
    spec = spec_file(tmp_path)
    root = tmp_path / "campaigns"
    code, out, err = snpapp("campaign", "--spec", str(spec), "--campaigns", str(root),
                            "--artifacts", str(guest_artifacts))  # fmt: skip
    assert code == 0, err
    cdir = Path(out.strip().splitlines()[-1])
    for name in ("campaign.json", "campaign.toml", "environment.json", "plan.json",
                 "results.csv", "attempts.jsonl"):  # fmt: skip
        assert (cdir / name).is_file(), name
    assert _wrong(modes(cdir), cdir, umask) == []
    assert stat.S_IMODE(cdir.stat().st_mode) == 0o777 & ~umask

    # status: stdout, whole.
    code, out, err = snpapp("campaign", "status", str(cdir))
    assert code == 0, err
    assert "state: finished" in out
    assert f"campaign {cdir}" in out.splitlines()

    # --resume of the finished campaign: nothing to run, and the report's command.
    code, out, err = snpapp("campaign", "--resume", str(cdir), "--artifacts",
                            str(guest_artifacts))  # fmt: skip
    assert code == 0, err
    assert f"campaign {cdir.name} is already complete (2/2 runs committed)" in flat(err)
    assert f"make its report with `snpapp report {cdir}`" in flat(err)
    assert "ETA" not in err
    assert "0 run(s)" not in err

    code, _out, err = snpapp("report", str(cdir))
    assert code == 0, err
    report = cdir / "report"
    assert (report / "report.pdf").is_file()
    assert (report / "stats" / "summary.json").is_file()
    assert list((report / "stats").glob("*.csv"))
    assert _wrong(modes(report), report, umask) == []

    code, _out, err = snpapp("campaign", "--resume", str(cdir))
    assert code == 0, err
    assert f"its report: {report / 'report.pdf'}" in flat(err)


def test_the_commands_make_demo_ends_with_work_as_typed(tmp_path: Path) -> None:
    dry = subprocess.run(["make", "-n", "demo"], cwd=REPO, capture_output=True, text=True,
                         check=True)  # fmt: skip
    said = [m.group(1) for m in re.finditer(r'^echo "  (.+)"$', dry.stdout, re.MULTILINE)]
    assert said[0] == ". .venv/bin/activate"
    assert "snpapp campaign status" in said
    # The demo's closing lines, typed in a fresh shell in the repository.
    script = "\n".join(["set -e", *said[:1], "command -v snpapp", "snpapp --version",
                        *(s for s in said[1:] if s != "snpapp campaign status")])  # fmt: skip
    fresh = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    typed = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True,
                           env=fresh, check=False)  # fmt: skip
    assert typed.returncode == 0, typed.stderr
    assert typed.stdout.splitlines()[0] == str(REPO / ".venv" / "bin" / "snpapp")
    # Before activating, snpapp is not on a fresh PATH: the README must not assume it is.
    bare = subprocess.run(["bash", "-c", "snpapp --version"], cwd=REPO, capture_output=True,
                          text=True, env=fresh, check=False)  # fmt: skip
    assert bare.returncode == 127
    quickstart = (REPO / "README.md").read_text(encoding="utf-8").split("## Quickstart")[1]
    quickstart = quickstart.split("\n## ")[0]
    assert ". .venv/bin/activate" in quickstart
