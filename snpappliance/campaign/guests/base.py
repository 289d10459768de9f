"""The one interface through which a campaign boots its guests, whatever their kind.

A campaign asks its :class:`Guest` (prepared once per host, before the first
boot) for three things: the manifest of what it boots (recorded in
``environment.json`` and checked again on resume), the facts worth recording
about it, and one fresh boot that runs one workload and returns what the guest
printed. The minimal guest (:mod:`.minimal`) and the cloud guest
(:mod:`.cloud.guest`) differ only behind this interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from snpappliance.campaign.boot import BootLimits, BootRecord
from snpappliance.campaign.qemu import BootConfig
from snpappliance.campaign.spec import Workload
from snpappliance.hosts.base import Host

if TYPE_CHECKING:
    from snpappliance.formats.manifest import Manifest


@dataclass(frozen=True)
class BootSite:
    """Where one campaign's guests boot: the host and the campaign's working directories."""

    host: Host
    campaign_id: str
    #: The campaign's work directory on this machine.
    local_work: Path
    #: The same directory as seen by the host that runs QEMU.
    host_work: str
    #: Called with QEMU's pid once it runs on this machine (to stop an orphan after kill -9).
    on_spawn: Callable[[int], None] | None = None


@dataclass(frozen=True)
class BootRequest:
    """One fresh boot: the virtual machine, the workload it runs, its log and its limits."""

    config: BootConfig
    workload: Workload
    log: Path
    limits: BootLimits
    #: The attestation step (shell) the guest runs after booting, before the BEGIN marker.
    attest_step: str = ""


class Guest(Protocol):
    """A kind of guest, prepared on one host."""

    @property
    def manifest(self) -> Manifest:
        """What the guest boots (its artefacts or its base image)."""
        ...

    def record(self, host: Host) -> dict[str, Any]:
        """The ``guest`` entry of ``environment.json``."""
        ...

    def boot(self, site: BootSite, request: BootRequest) -> BootRecord:
        """Boot once, run the request's workload, and return what the guest printed."""
        ...
