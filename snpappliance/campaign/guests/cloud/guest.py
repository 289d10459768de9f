"""The cloud guest behind the campaign's :class:`~snpappliance.campaign.guests.base.Guest`
interface: a verified base image, the campaign's seed and keys, one overlay per boot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from snpappliance.campaign.guests.cloud.assets import CloudGuest, stage_campaign
from snpappliance.campaign.guests.cloud.run import CloudRun, cloud_boot
from snpappliance.formats.manifest import Manifest

if TYPE_CHECKING:
    from snpappliance.campaign.boot import BootRecord
    from snpappliance.campaign.guests.base import BootRequest, BootSite
    from snpappliance.hosts.base import Host

#: The campaign's cloud files, locally and on the host, live in this work subdirectory.
CLOUD_WORK = "cloud"


@dataclass(frozen=True)
class CloudImageGuest:
    """An Ubuntu cloud image booted with the campaign's NoCloud seed."""

    image: CloudGuest
    manifest: Manifest
    disk_gib: int
    #: Packages the seed installs beside sysbench and time (the PTS smoke tests' needs).
    packages: tuple[str, ...] = ()

    def record(self, host: Host) -> dict[str, Any]:  # noqa: ARG002  the Guest interface
        return {
            "kind": "cloud",
            "image": self.image.source,
            "image_sha256": self.image.sha256,
            "base_image": self.image.base_image,
            "manifest_digest": self.manifest.digest,
            "manifest": json.loads(self.manifest.to_json()),
        }

    def boot(self, site: BootSite, request: BootRequest) -> BootRecord:
        files = stage_campaign(
            site.host,
            site.local_work / CLOUD_WORK,
            f"{site.host_work}/{CLOUD_WORK}",
            site.campaign_id,
            self.packages,
        )
        shared = CloudRun(self.image, files, site.host_work, self.disk_gib)
        return cloud_boot(
            site.host,
            request.config,
            shared,
            request.workload,
            request.log,
            request.limits,
            attest_step=request.attest_step,
        )
