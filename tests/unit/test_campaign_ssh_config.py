"""A campaign remembers its ssh client config in campaign.json, and --resume reuses it."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign import commands as campaign
from snpappliance.campaign.plan import plan_runs, plan_to_json
from snpappliance.campaign.profiles import profile_path
from snpappliance.campaign.runner import (
    campaign_info,
    recorded_ssh_config,
    remember_ssh_config,
    ssh_config_of,
)
from snpappliance.campaign.spec import Order, load_spec
from snpappliance.campaign.specdump import dump_spec
from snpappliance.errors import CampaignError
from snpappliance.formats.campaigndir import CampaignDir
from snpappliance.hosts.local import LocalHost
from snpappliance.hosts.ssh import SshHost
from snpappliance.hosts.sshcmd import SshSettings

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.hosts.base import Host
    from tests.conftest import SnpappRunner

SPEC = replace(load_spec(profile_path("local")), repetitions=1, host="genoa01")


def _ssh_host(tmp_path: Path, config: Path | None) -> SshHost:
    return SshHost(SshSettings(destination="genoa01", config=config, control_dir=tmp_path / "ctl"))


def _campaign_dir(tmp_path: Path, ssh_config: Path | None) -> CampaignDir:
    cdir = CampaignDir(tmp_path / "campaigns" / "c1")
    cdir.path.mkdir(parents=True)
    cdir.spec.write_text(dump_spec(SPEC), encoding="utf-8")
    cdir.plan.write_text(plan_to_json(plan_runs(SPEC, seed=3), 3, Order.INTERLEAVED), "utf-8")
    info = campaign_info(SPEC, cdir.campaign_id, 3, ["genoa01"], ssh_config)
    cdir.info.write_text(info.to_json(), encoding="utf-8")
    return cdir


def test_the_config_of_the_ssh_hosts_is_recorded(tmp_path: Path) -> None:
    config = tmp_path / "lab" / "ssh_config"
    config.parent.mkdir()
    config.write_text("Host genoa01\n")
    hosts: list[Host] = [LocalHost(), _ssh_host(tmp_path, config)]
    assert ssh_config_of(hosts) == config.resolve()
    assert ssh_config_of([LocalHost(), _ssh_host(tmp_path, None)]) is None
    info = json.loads(campaign_info(SPEC, "c1", 3, ["genoa01"], config).to_json())
    assert info["ssh_config"] == str(config)
    assert "ssh_config" not in json.loads(campaign_info(SPEC, "c1", 3, ["genoa01"]).to_json())


def test_resume_reads_the_recorded_config(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host genoa01\n")
    assert recorded_ssh_config(_campaign_dir(tmp_path / "a", config)) == config
    assert recorded_ssh_config(_campaign_dir(tmp_path / "b", None)) is None


def test_a_recorded_config_that_is_gone_is_named(tmp_path: Path) -> None:
    gone = tmp_path / "moved" / "ssh_config"
    cdir = _campaign_dir(tmp_path, gone)
    with pytest.raises(CampaignError) as caught:
        recorded_ssh_config(cdir)
    assert str(gone) in caught.value.message
    assert caught.value.hint
    assert "--ssh-config" in caught.value.hint


def test_a_config_given_on_resume_replaces_the_recorded_one(tmp_path: Path) -> None:
    old, new = tmp_path / "old_config", tmp_path / "new_config"
    old.write_text("Host genoa01\n")
    new.write_text("Host genoa01\n")
    cdir = _campaign_dir(tmp_path, old)
    before = json.loads(cdir.info.read_text(encoding="utf-8"))
    remember_ssh_config(cdir, [_ssh_host(tmp_path, new)])
    after = json.loads(cdir.info.read_text(encoding="utf-8"))
    assert after == {**before, "ssh_config": str(new)}


class _Connected(Exception):
    """Raised by the fake host factory once it knows which config resume chose."""


def _capture_config(monkeypatch: pytest.MonkeyPatch) -> list[Path | None]:
    seen: list[Path | None] = []

    def make_host(name: str, *, ssh_config: Path | None = None) -> Host:
        seen.append(ssh_config)
        raise _Connected(name)

    monkeypatch.setattr(campaign, "make_host", make_host)
    return seen


def test_resume_connects_with_the_recorded_config_unless_given_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded, given = tmp_path / "recorded_config", tmp_path / "given_config"
    recorded.write_text("Host genoa01\n")
    given.write_text("Host genoa01\n")
    cdir = _campaign_dir(tmp_path, recorded)
    seen = _capture_config(monkeypatch)
    for ssh_config in (None, given):
        with pytest.raises(_Connected):
            campaign.resume_campaign(
                directory=cdir.path, artifacts_root=tmp_path, ssh_config=ssh_config
            )
    assert seen == [recorded, given]


def test_cli_resume_names_a_missing_recorded_config(
    snpapp: SnpappRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SNPAPP_SSH_CONFIG", raising=False)
    gone = tmp_path / "lab" / "ssh_config"
    cdir = _campaign_dir(tmp_path, gone)
    code, _, err = snpapp("campaign", "--resume", str(cdir.path))
    assert code == CampaignError.exit_code
    flat = " ".join(err.split())
    assert str(gone) in flat
    assert "--ssh-config" in flat
