"""The runner lock: one live runner per campaign, freed whenever its process ends."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign.lock import runner_lock, runner_pid
from snpappliance.errors import CampaignError
from snpappliance.formats.campaigndir import CampaignDir

if TYPE_CHECKING:
    from pathlib import Path


def test_a_second_runner_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    cdir = CampaignDir(tmp_path)
    with runner_lock(cdir):
        assert runner_pid(cdir) is not None
        with pytest.raises(CampaignError, match="already running"), runner_lock(cdir):
            pass
    assert runner_pid(cdir) is None
    with runner_lock(cdir):  # free again
        pass


def test_a_stale_pid_of_another_process_does_not_lock_the_campaign(tmp_path: Path) -> None:
    # A runner killed with -9 left its pid behind, and the pid now belongs to init.
    cdir = CampaignDir(tmp_path)
    cdir.lock_file.write_text("1\n", encoding="ascii")
    assert runner_pid(cdir) is None
    with runner_lock(cdir):
        assert cdir.lock_file.read_text(encoding="ascii").strip().isdigit()


def test_the_lock_is_freed_when_its_holder_is_killed(tmp_path: Path) -> None:
    cdir = CampaignDir(tmp_path)
    holder = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from snpappliance.campaign.lock import runner_lock\n"
        "from snpappliance.formats.campaigndir import CampaignDir\n"
        "with runner_lock(CampaignDir(Path(sys.argv[1]))):\n"
        "    print('locked', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", holder, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        assert runner_pid(cdir) == child.pid
        with pytest.raises(CampaignError, match=f"pid {child.pid}"), runner_lock(cdir):
            pass
        child.kill()
        child.wait()
    assert runner_pid(cdir) is None
    with runner_lock(cdir):
        pass
