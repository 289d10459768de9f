"""Attempt numbering and the end of a campaign that measured nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign import store
from snpappliance.campaign.runner import _check_any_ok
from snpappliance.errors import CampaignError
from snpappliance.formats.campaigndir import CampaignDir

if TYPE_CHECKING:
    from pathlib import Path


def test_an_attempt_killed_before_its_record_keeps_its_log(tmp_path: Path) -> None:
    # kill -9 during attempt 1 leaves logs/r1.a1.log but no record: the resumed
    # attempt is number 2, so attempt 1's raw log is never overwritten.
    cdir = CampaignDir(tmp_path)
    cdir.logs.mkdir()
    cdir.log_for("r1", 1).write_text("console of the killed attempt", encoding="utf-8")
    cdir.log_for("r10", 4).write_text("another run", encoding="utf-8")
    logged = store.logged_attempts(cdir)["r1"]
    assert logged == [1]
    assert store.next_attempt([], "r1", logged) == 2
    records = [{"record": "attempt", "run_id": "r1", "attempt": 2}]
    assert store.next_attempt(records, "r1", logged) == 3
    assert store.next_attempt([], "r2", store.logged_attempts(cdir).get("r2", [])) == 1


def test_no_logs_directory_yet_means_no_logged_attempt(tmp_path: Path) -> None:
    assert store.logged_attempts(CampaignDir(tmp_path)) == {}


def test_a_finished_campaign_without_one_ok_run_is_an_error(tmp_path: Path) -> None:
    cdir = CampaignDir(tmp_path)
    with pytest.raises(CampaignError, match="none of its 3 runs succeeded"):
        _check_any_ok(cdir, ["failed", "invalid", "failed"], 3)
    _check_any_ok(cdir, ["failed", "ok", "failed"], 3)
    _check_any_ok(cdir, ["failed"], 3)  # stopped early: the resume hint says what to do
    _check_any_ok(cdir, [], 0)
