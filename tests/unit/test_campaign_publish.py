"""A campaign directory is published complete or not at all, and leftovers of dead runs go."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign import store
from snpappliance.campaign.runner import _publish
from snpappliance.formats.campaigndir import CampaignDir

if TYPE_CHECKING:
    from pathlib import Path


class Planned(Exception):
    """Raised while the campaign directory is being written."""


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _write_then_fail(root: Path) -> None:
    with _publish(root, "mini") as (final, staging):
        (staging / "plan.json").write_text("[]", encoding="utf-8")
        assert final.is_dir()  # reserved, empty
        raise Planned


def test_a_failure_while_writing_leaves_no_campaign_directory(tmp_path: Path) -> None:
    with pytest.raises(Planned):
        _write_then_fail(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_published_directory_holds_what_was_written(tmp_path: Path) -> None:
    with _publish(tmp_path, "mini") as (final, staging):
        (staging / "plan.json").write_text("[]", encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == [final.name]
    assert (final / "plan.json").read_text(encoding="utf-8") == "[]"


def test_staging_left_by_a_killed_run_is_removed_at_the_next_one(tmp_path: Path) -> None:
    dead = tmp_path / f".20260101-000000-mini.staging-{_dead_pid()}-x1y2"
    dead.mkdir()
    alive = tmp_path / ".20260101-000000-mini.staging-1-x1y2"  # init never dies
    alive.mkdir()
    with _publish(tmp_path, "mini"):
        pass
    assert not dead.exists()
    assert alive.exists()


def test_pruning_a_resumed_campaign_keeps_the_results_files_mode(tmp_path: Path) -> None:
    cdir = CampaignDir(tmp_path)
    cdir.results.write_text("scenario,metric,value,run_id\na,m,1,r1\nb,m,2,r2\n", encoding="utf-8")
    cdir.results.chmod(0o640)
    cdir.attempts.write_text('{"record": "run", "run_id": "r1", "status": "ok"}\n')
    assert store.prune_uncommitted(cdir) == 1
    assert cdir.results.stat().st_mode & 0o777 == 0o640
    assert cdir.results.read_text(encoding="utf-8").splitlines()[-1] == "a,m,1,r1"
