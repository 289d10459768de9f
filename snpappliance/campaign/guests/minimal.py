"""The minimal guest: snpapp's own kernel and initramfs, booted directly by QEMU.

``snpapp build guest`` makes it (``vmlinuz``, ``initramfs.cpio.gz``,
``guest-manifest.txt`` and ``manifest.json``); its /init reads the workload
script from fw_cfg, runs it between the console markers and powers off.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snpappliance.campaign.boot import BootRecord, boot_guest
from snpappliance.campaign.hostinfo import read_text
from snpappliance.campaign.pinned import pin_hook
from snpappliance.campaign.qemu import qemu_argv
from snpappliance.errors import CampaignError
from snpappliance.formats.manifest import MANIFEST_FILE, Manifest, component_dir
from snpappliance.formats.release import GUEST_COMPONENT

if TYPE_CHECKING:
    from snpappliance.campaign.guests.base import BootRequest, BootSite
    from snpappliance.campaign.spec import CampaignSpec
    from snpappliance.hosts.base import Host

KERNEL_FILE = "vmlinuz"
INITRD_FILE = "initramfs.cpio.gz"
BUILD_INFO_FILE = "guest-manifest.txt"


def guest_dir(spec: CampaignSpec, artifacts_root: Path) -> str:
    """Where the guest artefacts are on the host."""
    if spec.guest.artifacts:
        return spec.guest.artifacts
    return str(component_dir(artifacts_root, spec.stack, GUEST_COMPONENT).resolve())


@dataclass(frozen=True)
class MinimalGuest:
    """The built guest in ``directory`` on the host."""

    directory: str
    manifest: Manifest

    @property
    def kernel(self) -> str:
        return f"{self.directory}/{KERNEL_FILE}"

    @property
    def initrd(self) -> str:
        return f"{self.directory}/{INITRD_FILE}"

    def record(self, host: Host) -> dict[str, Any]:
        return {
            "kind": "minimal",
            "directory": self.directory,
            "manifest_digest": self.manifest.digest,
            "manifest": json.loads(self.manifest.to_json()),
            "build_info": _build_info(host, self.directory),
            "kernel_sha256": host_sha256(host, self.kernel),
            "initrd_sha256": host_sha256(host, self.initrd),
        }

    def boot(self, site: BootSite, request: BootRequest) -> BootRecord:
        cfg = replace(request.config, kernel=self.kernel, initrd=self.initrd)
        return boot_guest(
            site.host,
            qemu_argv(cfg),
            request.log,
            request.limits,
            on_spawn=site.on_spawn,
            pin=pin_hook(site.host, cfg),
        )


def prepare_minimal(host: Host, directory: str, build_hint: str) -> MinimalGuest:
    """The guest in ``directory`` on ``host``: its files must be there, its manifest readable."""
    for name in (MANIFEST_FILE, KERNEL_FILE, INITRD_FILE):
        path = f"{directory}/{name}"
        if not host.run(["test", "-r", path], check=False, idempotent=True).ok:
            what = "guest manifest" if name == MANIFEST_FILE else "guest artefact"
            msg = f"{what} {path} does not exist on host {host.name}"
            raise CampaignError(msg, hint=build_hint)
    with tempfile.TemporaryDirectory(prefix="snpapp-manifest-") as tmp:
        host.get(f"{directory}/{MANIFEST_FILE}", Path(tmp) / MANIFEST_FILE)
        return MinimalGuest(directory, Manifest.load(Path(tmp)))


def host_sha256(host: Host, path: str) -> str | None:
    """The SHA-256 of ``path`` on the host, or None when it cannot be read."""
    result = host.run(["sha256sum", "--", path], check=False, idempotent=True)
    return result.stdout.split()[0] if result.ok and result.stdout else None


def _build_info(host: Host, directory: str) -> dict[str, str]:
    """The guest build's own record (guest-manifest.txt: kernel, busybox, sysbench, time)."""
    text = read_text(host, f"{directory}/{BUILD_INFO_FILE}") or ""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key: value for key, value in pairs if key != "file"}
