"""Pinned boots: the plan made when a campaign is prepared, and how it reaches every boot."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from snpappliance.campaign.boot import BootLimits, BootRecord
from snpappliance.campaign.guests.base import BootRequest, BootSite
from snpappliance.campaign.pinned import PinnedGuest, qmp_socket
from snpappliance.campaign.pinning import PinningPlan
from snpappliance.campaign.prepare import plan_host_pinning
from snpappliance.campaign.profiles import profile_path
from snpappliance.campaign.qemu import Pinned
from snpappliance.campaign.spec import CampaignSpec, SysbenchCpu, load_spec
from snpappliance.errors import CampaignError
from snpappliance.formats.manifest import Manifest
from snpappliance.hosts.local import LocalHost
from snpappliance.hosts.sshcmd import SshSettings, forward_argv
from snpappliance.tuning.state import read_host_state
from snpappliance.tuning.topology import topology_from_state
from tests.factories import GENOA_SNP_BOOT

if TYPE_CHECKING:
    from snpappliance.hosts.base import Host

PLAN = PinningPlan(0, (1,), (0,))


def local_spec(pin: str, vcpus: int) -> CampaignSpec:
    spec = load_spec(profile_path("local"))
    return replace(spec, guest=replace(spec.guest, pin=pin, vcpus=vcpus))


def test_off_plans_nothing_and_reads_nothing() -> None:
    assert plan_host_pinning(local_spec("off", 64), LocalHost()) is None


def test_auto_plans_from_this_hosts_topology() -> None:
    topology = topology_from_state(read_host_state(LocalHost()))
    if len(topology.cpus) < 2:
        pytest.skip("auto pinning of one vCPU needs 2 CPUs")
    plan = plan_host_pinning(local_spec("auto", 1), LocalHost())
    assert plan is not None
    assert len(plan.vcpu_cpus) == 1
    assert {*plan.vcpu_cpus, *plan.emulator_cpus} <= set(topology.nodes[plan.node])


def test_a_plan_the_host_cannot_satisfy_stops_the_campaign_saying_how_to_fix_it() -> None:
    topology = topology_from_state(read_host_state(LocalHost()))
    widest = max(len(cpus) for cpus in topology.nodes.values())
    with pytest.raises(CampaignError) as info:
        plan_host_pinning(local_spec("auto", widest), LocalHost())
    assert "cannot pin the guest on host local ([guest] pin = 'auto')" in info.value.message
    assert f"{widest + 1} online CPUs on one NUMA node" in info.value.message
    hint = info.value.hint or ""
    assert "fewer vCPUs" in hint
    assert "pin = 'off'" in hint
    with pytest.raises(CampaignError) as named:
        plan_host_pinning(local_spec("0", 1), LocalHost())
    assert "needs one per vCPU" in named.value.message
    assert "pin = 'off'" in (named.value.hint or "")


def test_the_qmp_socket_lives_in_the_work_directory_unless_the_path_is_too_long() -> None:
    assert qmp_socket("/home/u/.snpapp/work/c1/") == "/home/u/.snpapp/work/c1/qmp.sock"
    with pytest.raises(CampaignError, match="too long for QEMU's QMP socket") as info:
        qmp_socket("/" + "d" * 99)
    assert "--campaigns" in (info.value.hint or "")


def test_the_forward_rides_on_the_master_connection() -> None:
    settings = SshSettings("genoa01", control_dir=Path("/run/ctl"))
    argv = forward_argv(settings, "forward", Path("/run/ctl/fwd-x/s"), "/w/qmp.sock")
    assert argv[0] == "ssh"
    assert argv[-6:] == ["-O", "forward", "-L", "/run/ctl/fwd-x/s:/w/qmp.sock", "--", "genoa01"]
    assert any(opt.startswith("ControlPath=/run/ctl/") for opt in argv)
    cancel = forward_argv(settings, "cancel", Path("/run/ctl/fwd-x/s"), "/w/qmp.sock")
    assert cancel[-6:-4] == ["-O", "cancel"]


@dataclass
class RecordingGuest:
    """A guest that records the requests it is asked to boot."""

    manifest: Manifest = field(default_factory=lambda: Manifest("st", "guest", ()))
    requests: list[BootRequest] = field(default_factory=list)

    def record(self, host: Host) -> dict[str, Any]:
        return {"kind": "recording"}

    def boot(self, site: BootSite, request: BootRequest) -> BootRecord:
        self.requests.append(request)
        return BootRecord("", "exited", 0, None, None, None, 1.0)


def test_every_boot_of_a_pinned_guest_carries_the_plan_and_a_fresh_socket(
    tmp_path: Path,
) -> None:
    inner = RecordingGuest()
    guest = PinnedGuest(inner, PLAN)
    stale = tmp_path / "qmp.sock"
    stale.write_text("left by a killed QEMU")
    site = BootSite(LocalHost(), "c1", tmp_path, str(tmp_path))
    request = BootRequest(GENOA_SNP_BOOT, SysbenchCpu(), tmp_path / "r.log", BootLimits(1, 2))
    guest.boot(site, request)
    guest.boot(site, request)
    assert not stale.exists()
    assert [r.config.pinned for r in inner.requests] == [Pinned(PLAN, str(stale))] * 2
    assert inner.requests[0] == replace(
        request, config=replace(GENOA_SNP_BOOT, pinned=Pinned(PLAN, str(stale)))
    )
    assert guest.record(LocalHost()) == {"kind": "recording"}
    assert guest.manifest is inner.manifest
