"""Every host is a context manager: the commands close what they connected, whatever happens."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign import commands as campaign
from snpappliance.deploy import commands as deploy
from snpappliance.doctor import command as doctor
from snpappliance.errors import HostError
from snpappliance.hosts.base import Host
from snpappliance.hosts.local import LocalHost
from snpappliance.hosts.private_dir import GUESTS, TOP, private_dir_names
from snpappliance.hosts.ssh import SshHost
from snpappliance.hosts.sshcmd import SshSettings

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from snpappliance.proc import Completed


class Boom(Exception):
    """Raised by the fake host's commands."""


class ClosingHost(LocalHost):
    """This machine as a host whose commands fail, counting how often it was closed."""

    def __init__(self, name: str = "genoa01") -> None:
        self._name = name
        self.closed = 0

    @property
    def name(self) -> str:
        return self._name

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        check: bool = True,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        idempotent: bool = False,
    ) -> Completed:
        raise Boom(self._name)

    def close(self) -> None:
        self.closed += 1


def test_local_and_ssh_hosts_are_context_managers(tmp_path: Path) -> None:
    with LocalHost() as local:
        assert isinstance(local, Host)
    local.close()
    ssh = SshHost(SshSettings(destination="genoa01", control_dir=tmp_path / "ctl"))
    assert isinstance(ssh, Host)
    assert ssh.__enter__() is ssh


def test_doctor_closes_its_host_when_a_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    host = ClosingHost()
    monkeypatch.setattr(doctor, "connect", lambda *a, **k: host)
    monkeypatch.setattr(doctor, "run_doctor", lambda target, prefix: target.run(["true"]))
    with pytest.raises(Boom):
        doctor.doctor(host="genoa01", ssh_config=None, prefix="/opt/snpapp", as_json=True)
    assert host.closed == 1


def test_rollback_closes_its_host_when_it_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    host = ClosingHost()
    monkeypatch.setattr(deploy, "connect", lambda *a, **k: host)
    with pytest.raises(Boom):
        deploy.rollback(host="genoa01", prefix="/opt/snpapp")
    assert host.closed == 1


def test_a_campaign_closes_every_host_it_connected(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    made: list[ClosingHost] = []

    def make_host(name: str, *, ssh_config: Path | None = None) -> Host:
        if name == "genoa03":
            msg = "cannot reach genoa03"
            raise HostError(msg)
        made.append(ClosingHost(name))
        return made[-1]

    monkeypatch.setattr(campaign, "make_host", make_host)
    spec = campaign.resolve_spec()
    with pytest.raises(HostError):
        campaign.run_campaign(
            spec=spec,
            root=tmp_path,
            artifacts_root=tmp_path,
            hosts=["genoa01", "genoa02", "genoa03"],
        )
    assert [(h.name, h.closed) for h in made] == [("genoa01", 1), ("genoa02", 1)]


@pytest.mark.parametrize("relative", ["images", "work/20260101-120000-x", "a.b/c_d-e"])
def test_private_dir_names_are_plain_names(relative: str) -> None:
    assert private_dir_names(relative) == [TOP, GUESTS, *relative.split("/")]


@pytest.mark.parametrize(
    "relative", ["", "/var/tmp/x", "work/../..", "work//x", ".hidden", "work/", "a b", "x\ny"]
)
def test_private_dir_names_refuse_anything_else(relative: str) -> None:
    with pytest.raises(HostError) as caught:
        private_dir_names(relative)
    assert caught.value.hint
