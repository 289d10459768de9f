"""Before the first boot: check the host, find the artefacts, record the environment.

Everything here is a permanent precondition: a missing guest build, QEMU or
firmware, a deployed release of another stack, or an SNP scenario on a host
that fails a required ``snpapp doctor`` check stops the campaign at once with
a message saying what to do.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snpappliance import __version__
from snpappliance.campaign import hostinfo
from snpappliance.campaign.guests.cloud import assets as cloud_assets
from snpappliance.campaign.spec import Accel, CampaignSpec, GuestKind, ScenarioKind
from snpappliance.doctor.facts import DeployedRelease
from snpappliance.doctor.run import DoctorReport, run_doctor
from snpappliance.errors import CampaignError
from snpappliance.formats.manifest import MANIFEST_FILE, Manifest
from snpappliance.formats.release import DEFAULT_PREFIX, GUEST_COMPONENT
from snpappliance.hosts import LOCAL, Host

KERNEL_FILE = "vmlinuz"
INITRD_FILE = "initramfs.cpio.gz"


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
    #: ``snpapp doctor``'s verdict on the host (recorded as the host's SNP state).
    doctor: DoctorReport
    #: The cloud guest's base image (guest.kind = 'cloud'); None for the minimal guest.
    cloud: cloud_assets.CloudGuest | None = None


def guest_dir(spec: CampaignSpec, artifacts_root: Path) -> str:
    """Where the guest artefacts are on the host."""
    if spec.guest.artifacts:
        return spec.guest.artifacts
    return str((artifacts_root / spec.stack / GUEST_COMPONENT).resolve())


def _require(host: Host, test: str, path: str, what: str, hint: str) -> None:
    if not host.run(["test", test, path], check=False, idempotent=True).ok:
        raise CampaignError(f"{what} {path} does not exist on host {host.name}", hint=hint)


def _deploy_hint(spec: CampaignSpec, host: Host, override: str) -> str:
    prefix = spec.release_prefix or DEFAULT_PREFIX
    option = "" if prefix == DEFAULT_PREFIX else f" --prefix {prefix}"
    return (
        f"deploy the stack: `snpapp build all --stack {spec.stack} && snpapp deploy "
        f"--host {host.name} --stack {spec.stack}{option}`, or set {override} in the spec"
    )


def guest_to_build(spec: CampaignSpec, host_names: Sequence[str], artifacts_root: Path) -> bool:
    """Whether a new local campaign needs the minimal guest built at its default place.

    ``snpapp campaign`` on a fresh install then works as written: the CLI builds
    the guest exactly as `snpapp build guest --stack <stack>` would (in its
    container, published with its manifest). A guest named explicitly
    (``[guest] artifacts``), a release on a host, a cloud guest or a remote host is
    never built behind the user's back.
    """
    if list(host_names) != [LOCAL] or spec.guest.kind is not GuestKind.MINIMAL:
        return False
    if spec.guest.artifacts or spec.release_prefix:
        return False
    return not (Path(guest_dir(spec, artifacts_root)) / MANIFEST_FILE).is_file()


def _guest_manifest(spec: CampaignSpec, host: Host, directory: str) -> Manifest:
    build_hint = (
        _deploy_hint(spec, host, "guest.artifacts")
        if spec.release_prefix
        else f"build the guest with `snpapp build guest --stack {spec.stack}` "
        "(or set guest.artifacts)"
    )
    _require(host, "-r", f"{directory}/{MANIFEST_FILE}", "guest manifest", build_hint)
    for name in (KERNEL_FILE, INITRD_FILE):
        _require(host, "-r", f"{directory}/{name}", "guest artefact", build_hint)
    with tempfile.TemporaryDirectory(prefix="snpapp-manifest-") as tmp:
        host.get(f"{directory}/{MANIFEST_FILE}", Path(tmp) / MANIFEST_FILE)
        return Manifest.load(Path(tmp))


def _qemu_version(spec: CampaignSpec, host: Host) -> str:
    binary = spec.qemu.binary
    if "/" in binary and spec.release_prefix:
        _require(host, "-x", binary, "QEMU", _deploy_hint(spec, host, "qemu.binary"))
    result = host.run([binary, "--version"], timeout=30, idempotent=True)
    return result.stdout.splitlines()[0].strip() if result.stdout else ""


def _require_release(spec: CampaignSpec, host: Host, release: DeployedRelease | None) -> None:
    """The spec runs from a deployed release: it must be there and be of the spec's stack."""
    prefix = spec.release_prefix or DEFAULT_PREFIX
    if release is None or release.info is None:
        raise CampaignError(
            f"no snpapp release is deployed under {prefix} on host {host.name}",
            hint=_deploy_hint(spec, host, "qemu.binary, qemu.firmware and guest.artifacts"),
        )
    if release.info.stack != spec.stack:
        raise CampaignError(
            f"the release deployed on {host.name} ({release.info.name}) is of stack "
            f"{release.info.stack}, but the campaign uses stack {spec.stack}",
            hint=_deploy_hint(spec, host, f"campaign.stack = {release.info.stack!r}"),
        )


def preflight(spec: CampaignSpec, host: Host) -> DoctorReport:
    """Run ``snpapp doctor`` on ``host``; refuse it for SNP scenarios if a required check fails.

    A spec that runs from the deployed release also needs that release to exist
    and to be of the spec's stack.
    """
    report = run_doctor(host, prefix=spec.release_prefix or DEFAULT_PREFIX)
    kinds = {s.kind for s in spec.scenarios}
    if ScenarioKind.SNP in kinds:
        report.raise_for_failures()
    elif spec.qemu.accel is Accel.KVM:
        hostinfo.require_kvm(host)
    if spec.release_prefix is not None:
        _require_release(spec, host, report.release)
    return report


def prepare(spec: CampaignSpec, host: Host, artifacts_root: Path) -> Prepared:
    """Check every precondition of ``spec`` on ``host``; raise at the first one that fails."""
    kinds = {s.kind for s in spec.scenarios}
    report = preflight(spec, host)
    qemu_version = _qemu_version(spec, host)
    firmware = None
    if any(k.needs_firmware for k in kinds):
        firmware = spec.qemu.firmware
        _require(
            host,
            "-r",
            firmware,
            "firmware",
            _deploy_hint(spec, host, "qemu.firmware")
            if spec.release_prefix
            else "install OVMF (Debian: apt-get install ovmf) "
            "or set qemu.firmware to the stack's OVMF.fd",
        )
    cbitpos = None
    if ScenarioKind.SNP in kinds:
        cbitpos = spec.snp.cbitpos or hostinfo.cbitpos_from_cpuid(host)
    if spec.guest.kind is GuestKind.CLOUD:
        cloud, manifest = cloud_assets.prepare_cloud(spec, host, artifacts_root)
        return Prepared(
            kernel="",
            initrd="",
            firmware=firmware,
            cbitpos=cbitpos,
            guest_dir=cloud.base_image,
            manifest=manifest,
            qemu_version=qemu_version,
            doctor=report,
            cloud=cloud,
        )
    directory = guest_dir(spec, artifacts_root)
    return Prepared(
        kernel=f"{directory}/{KERNEL_FILE}",
        initrd=f"{directory}/{INITRD_FILE}",
        firmware=firmware,
        cbitpos=cbitpos,
        guest_dir=directory,
        manifest=_guest_manifest(spec, host, directory),
        qemu_version=qemu_version,
        doctor=report,
    )


def _debian_package(host: Host, path: str) -> str | None:
    """``package version`` of the Debian package that owns ``path`` on the host, if any."""
    owner = host.run(["dpkg-query", "-S", path], check=False, idempotent=True)
    if not owner.ok or ":" not in owner.stdout:
        return None
    package = owner.stdout.split(":", 1)[0].strip()
    version = host.run(
        ["dpkg-query", "-W", "-f", "${Version}", package], check=False, idempotent=True
    )
    return f"{package} {version.stdout.strip()}" if version.ok else package


def _build_info(host: Host, directory: str) -> dict[str, str]:
    """The guest build's own record (guest-manifest.txt: kernel, busybox, sysbench, time)."""
    text = hostinfo.read_text(host, f"{directory}/guest-manifest.txt") or ""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key: value for key, value in pairs if key != "file"}


def _sha256(host: Host, path: str) -> str | None:
    result = host.run(["sha256sum", path], check=False, idempotent=True)
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


def _release_record(release: DeployedRelease | None) -> dict[str, Any] | None:
    """The deployed release on the host (whether or not the spec runs from it)."""
    if release is None or release.info is None:
        return None
    return {
        "path": release.path,
        "name": release.info.name,
        "stack": release.info.stack,
        "components": release.info.components,
        "verified": release.sums_exit == 0,
    }


def _guest_record(host: Host, prepared: Prepared) -> dict[str, Any]:
    manifest = {
        "manifest_digest": prepared.manifest.digest,
        "manifest": json.loads(prepared.manifest.to_json()),
    }
    if prepared.cloud is not None:
        return {
            "kind": "cloud",
            "image": prepared.cloud.source,
            "image_sha256": prepared.cloud.sha256,
            "base_image": prepared.cloud.base_image,
            **manifest,
        }
    return {
        "kind": "minimal",
        "directory": prepared.guest_dir,
        **manifest,
        "build_info": _build_info(host, prepared.guest_dir),
        "kernel_sha256": _sha256(host, prepared.kernel),
        "initrd_sha256": _sha256(host, prepared.initrd),
    }


def environment(
    spec: CampaignSpec, host: Host, prepared: Prepared, artifacts_root: Path
) -> dict[str, Any]:
    """The facts ``environment.json`` records about the host, the software and the artefacts."""
    cpuinfo = hostinfo.read_text(host, "/proc/cpuinfo") or ""
    uname = host.run(["uname", "-srvm"], check=False, idempotent=True)
    return {
        "captured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "snpapp_version": __version__,
        "controller_python": platform.python_version(),
        "host": {
            "name": host.name,
            "kernel": uname.stdout.strip(),
            "cpu": hostinfo.cpu_facts(cpuinfo),
            "nproc": host.run(["nproc"], check=False, idempotent=True).stdout.strip(),
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
        "guest": _guest_record(host, prepared),
        "stack": {"name": spec.stack, "manifests": stack_manifests(artifacts_root, spec.stack)},
        "snp": {
            "usable": prepared.doctor.ok,
            "doctor": {c.id: c.status.value for c in prepared.doctor.checks},
            "cbitpos": prepared.cbitpos,
            "policy": f"{spec.snp.policy:#x}",
        },
        "release": _release_record(prepared.doctor.release),
        "emulated": spec.emulated,
        "label": spec.label,
    }
