"""Before the first boot: find the artefacts, check the host, record the environment.

Everything here is a permanent precondition: a missing guest build, QEMU or
firmware, or an SNP scenario on a host without SEV-SNP stops the campaign at
once with a message saying what to do.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snpappliance import __version__
from snpappliance.campaign import hostinfo
from snpappliance.campaign.spec import Accel, CampaignSpec, ScenarioKind
from snpappliance.errors import CampaignError
from snpappliance.hosts import Host
from snpappliance.manifest import MANIFEST_FILE, Manifest

KERNEL_FILE = "vmlinuz"
INITRD_FILE = "initramfs.cpio.gz"
GUEST_COMPONENT = "guest"


@dataclass(frozen=True)
class Prepared:
    """Host paths and facts every boot of the campaign uses."""

    kernel: str
    initrd: str
    firmware: str | None
    cbitpos: int | None
    guest_dir: str
    manifest: Manifest
    qemu_version: str
    snp: hostinfo.SnpState


def guest_dir(spec: CampaignSpec, artifacts_root: Path) -> str:
    """Where the guest artefacts are on the host."""
    if spec.guest.artifacts:
        return spec.guest.artifacts
    return str((artifacts_root / spec.stack / GUEST_COMPONENT).resolve())


def _require_file(host: Host, path: str, what: str, hint: str) -> None:
    if not host.run(["test", "-r", path], check=False).ok:
        raise CampaignError(f"{what} {path} does not exist on host {host.name}", hint=hint)


def _guest_manifest(host: Host, directory: str) -> Manifest:
    build_hint = "build the guest with `snpapp build guest` (or set [guest] artifacts)"
    _require_file(host, f"{directory}/{MANIFEST_FILE}", "guest manifest", build_hint)
    for name in (KERNEL_FILE, INITRD_FILE):
        _require_file(host, f"{directory}/{name}", "guest artefact", build_hint)
    with tempfile.TemporaryDirectory(prefix="snpapp-manifest-") as tmp:
        host.get(f"{directory}/{MANIFEST_FILE}", Path(tmp) / MANIFEST_FILE)
        return Manifest.load(Path(tmp))


def _qemu_version(host: Host, binary: str) -> str:
    result = host.run([binary, "--version"], timeout=30)
    return result.stdout.splitlines()[0].strip() if result.stdout else ""


def prepare(spec: CampaignSpec, host: Host, artifacts_root: Path) -> Prepared:
    """Check every precondition of ``spec`` on ``host``; raise at the first one that fails."""
    kinds = {s.kind for s in spec.scenarios}
    snp = hostinfo.snp_state(host)
    if ScenarioKind.SNP in kinds:
        hostinfo.require_snp(host, snp)
    if spec.qemu.accel is Accel.KVM:
        hostinfo.require_kvm(host)
    qemu_version = _qemu_version(host, spec.qemu.binary)
    firmware = None
    if any(k.needs_firmware for k in kinds):
        firmware = spec.qemu.firmware
        _require_file(
            host,
            firmware,
            "firmware",
            "install OVMF (Debian: apt-get install ovmf) "
            "or set [qemu] firmware to the stack's OVMF.fd",
        )
    cbitpos = None
    if ScenarioKind.SNP in kinds:
        cbitpos = spec.snp.cbitpos or hostinfo.cbitpos_from_cpuid(host)
    directory = guest_dir(spec, artifacts_root)
    return Prepared(
        kernel=f"{directory}/{KERNEL_FILE}",
        initrd=f"{directory}/{INITRD_FILE}",
        firmware=firmware,
        cbitpos=cbitpos,
        guest_dir=directory,
        manifest=_guest_manifest(host, directory),
        qemu_version=qemu_version,
        snp=snp,
    )


def _debian_package(host: Host, path: str) -> str | None:
    """``package version`` of the Debian package that owns ``path`` on the host, if any."""
    owner = host.run(["dpkg-query", "-S", path], check=False)
    if not owner.ok or ":" not in owner.stdout:
        return None
    package = owner.stdout.split(":", 1)[0].strip()
    version = host.run(["dpkg-query", "-W", "-f", "${Version}", package], check=False)
    return f"{package} {version.stdout.strip()}" if version.ok else package


def _build_info(host: Host, directory: str) -> dict[str, str]:
    """The guest build's own record (guest-manifest.txt: kernel, busybox, sysbench, time)."""
    text = hostinfo.read_text(host, f"{directory}/guest-manifest.txt") or ""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key: value for key, value in pairs if key != "file"}


def _sha256(host: Host, path: str) -> str | None:
    result = host.run(["sha256sum", path], check=False)
    return result.stdout.split()[0] if result.ok and result.stdout else None


def stack_manifests(artifacts_root: Path, stack: str) -> dict[str, str]:
    """Digest of every built component of ``stack`` found locally under ``artifacts_root``."""
    root = artifacts_root / stack
    if not root.is_dir():
        return {}
    return {
        d.name: Manifest.load(d).digest
        for d in sorted(root.iterdir())
        if (d / MANIFEST_FILE).is_file()
    }


def environment(
    spec: CampaignSpec, host: Host, prepared: Prepared, artifacts_root: Path
) -> dict[str, Any]:
    """The facts ``environment.json`` records about the host, the software and the artefacts."""
    cpuinfo = hostinfo.read_text(host, "/proc/cpuinfo") or ""
    uname = host.run(["uname", "-srvm"], check=False)
    return {
        "captured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "snpapp_version": __version__,
        "controller_python": platform.python_version(),
        "host": {
            "name": host.name,
            "kernel": uname.stdout.strip(),
            "cpu": hostinfo.cpu_facts(cpuinfo),
            "nproc": host.run(["nproc"], check=False).stdout.strip(),
        },
        "qemu": {
            "binary": spec.qemu.binary,
            "version": prepared.qemu_version,
            "accel": spec.qemu.accel.value,
        },
        "firmware": None
        if prepared.firmware is None
        else {
            "path": prepared.firmware,
            "sha256": _sha256(host, prepared.firmware),
            "debian_package": _debian_package(host, prepared.firmware),
        },
        "guest": {
            "directory": prepared.guest_dir,
            "manifest_digest": prepared.manifest.digest,
            "build_info": _build_info(host, prepared.guest_dir),
            "manifest": json.loads(prepared.manifest.to_json()),
            "kernel_sha256": _sha256(host, prepared.kernel),
            "initrd_sha256": _sha256(host, prepared.initrd),
        },
        "stack": {"name": spec.stack, "manifests": stack_manifests(artifacts_root, spec.stack)},
        "snp": {
            **prepared.snp.as_dict(),
            "cbitpos": prepared.cbitpos,
            "policy": f"{spec.snp.policy:#x}",
        },
        "emulated": spec.emulated,
        "label": spec.label,
    }
