"""Before the first boot: check the host, find the artefacts, record the environment.

Everything here is a permanent precondition: a missing guest build, QEMU or
firmware, a deployed release of another stack, or an SNP scenario on a host
that fails a required ``snpapp doctor`` check stops the campaign at once with
a message saying what to do. So does a ``[guest] pin`` that the host's CPUs
cannot satisfy: the pinning is planned here, once per host, from its topology.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snpappliance import __version__
from snpappliance.campaign import hostinfo
from snpappliance.campaign.guests.base import Guest
from snpappliance.campaign.guests.cloud import assets as cloud_assets
from snpappliance.campaign.guests.cloud.guest import CloudImageGuest
from snpappliance.campaign.guests.minimal import guest_dir, host_sha256, prepare_minimal
from snpappliance.campaign.pinned import PinnedGuest
from snpappliance.campaign.pinning import PinningPlan, plan_pinning, spec_request
from snpappliance.campaign.scripts import guest_packages
from snpappliance.campaign.spec import Accel, CampaignSpec, GuestKind, ScenarioKind
from snpappliance.doctor.run import DoctorReport, run_doctor
from snpappliance.errors import CampaignError, ConfigError
from snpappliance.formats.manifest import MANIFEST_FILE, Manifest
from snpappliance.formats.release import DEFAULT_PREFIX
from snpappliance.hosts.connect import LOCAL
from snpappliance.tuning.state import read_host_state
from snpappliance.tuning.topology import topology_from_state

if TYPE_CHECKING:
    from collections.abc import Sequence

    from snpappliance.doctor.facts import DeployedRelease
    from snpappliance.hosts.base import Host


@dataclass(frozen=True)
class Prepared:
    """Host paths and facts every boot of the campaign uses."""

    #: The guest every run boots (minimal or cloud), prepared on the host.
    guest: Guest
    firmware: str | None
    cbitpos: int | None
    qemu_version: str
    #: ``snpapp doctor``'s verdict on the host (recorded as the host's SNP state).
    doctor: DoctorReport
    #: Where the guest's threads run on this host (``[guest] pin``); None: not pinned.
    pinning: PinningPlan | None = None


def _require(host: Host, test: str, path: str, what: str, hint: str) -> None:
    if not host.run(["test", test, path], check=False, idempotent=True).ok:
        msg = f"{what} {path} does not exist on host {host.name}"
        raise CampaignError(msg, hint=hint)


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


def _prepare_guest(spec: CampaignSpec, host: Host, artifacts_root: Path) -> Guest:
    """The spec's guest on ``host``: a cloud image, or the minimal guest's build."""
    if spec.guest.kind is GuestKind.CLOUD:
        image, manifest = cloud_assets.prepare_cloud(spec, host, artifacts_root)
        return CloudImageGuest(image, manifest, spec.guest.disk_gib, guest_packages(spec))
    build_hint = (
        _deploy_hint(spec, host, "guest.artifacts")
        if spec.release_prefix
        else f"build the guest with `snpapp build guest --stack {spec.stack}` "
        "(or set guest.artifacts)"
    )
    return prepare_minimal(host, guest_dir(spec, artifacts_root), build_hint)


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
        msg = f"no snpapp release is deployed under {prefix} on host {host.name}"
        raise CampaignError(
            msg,
            hint=_deploy_hint(spec, host, "qemu.binary, qemu.firmware and guest.artifacts"),
        )
    if release.info.stack != spec.stack:
        msg = (
            f"the release deployed on {host.name} ({release.info.name}) is of stack "
            f"{release.info.stack}, but the campaign uses stack {spec.stack}"
        )
        raise CampaignError(
            msg,
            hint=_deploy_hint(spec, host, f"campaign.stack = {release.info.stack!r}"),
        )


def plan_host_pinning(spec: CampaignSpec, host: Host) -> PinningPlan | None:
    """The pinning of every boot on ``host`` (None with ``pin = "off"``), from its topology."""
    request = spec_request(spec.guest.pin)
    if request is None:
        return None
    topology = topology_from_state(read_host_state(host))
    try:
        return plan_pinning(topology, spec.guest.vcpus, request)
    except ConfigError as exc:
        msg = f"cannot pin the guest on host {host.name} ([guest] pin = {spec.guest.pin!r}): {exc}"
        hint = exc.hint or ""
        if "pin = 'off'" not in hint:
            hint = f"{hint}; or set [guest] pin = 'off' to leave the threads unpinned"
        raise CampaignError(msg, hint=hint) from exc


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
    pinning = plan_host_pinning(spec, host)
    guest = _prepare_guest(spec, host, artifacts_root)
    return Prepared(
        guest=guest if pinning is None else PinnedGuest(guest, pinning),
        firmware=firmware,
        cbitpos=cbitpos,
        qemu_version=qemu_version,
        doctor=report,
        pinning=pinning,
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


def stack_components(artifacts_root: Path, stack: str) -> dict[str, Any]:
    """The full manifest (sources, commits, toolchain) of every built component of ``stack``."""
    root = artifacts_root / stack
    if not root.is_dir():
        return {}
    return {
        d.name: json.loads(Manifest.load(d).to_json())
        for d in sorted(root.iterdir())
        if (d / MANIFEST_FILE).is_file()
    }


#: The host's BIOS as the kernel exposes it (DMI); unreadable files are left out.
_BIOS_FILES = {"vendor": "bios_vendor", "version": "bios_version", "date": "bios_date"}


def _bios(host: Host) -> dict[str, str]:
    found = {
        key: hostinfo.read_text(host, f"/sys/class/dmi/id/{name}")
        for key, name in _BIOS_FILES.items()
    }
    return {key: value.strip() for key, value in found.items() if value and value.strip()}


def _sev(doctor: DoctorReport) -> dict[str, str]:
    """The SEV firmware and TCB doctor saw (its checks' evidence), when it saw them."""
    evidence = {c.id: c.evidence for c in doctor.checks if c.status.value != "unknown"}
    return {
        key: evidence[check]
        for key, check in (("firmware", "firmware"), ("tcb", "security_floor"))
        if evidence.get(check)
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
            "bios": _bios(host),
            "sev": _sev(prepared.doctor),
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
            "sha256": host_sha256(host, prepared.firmware),
            "debian_package": _debian_package(host, prepared.firmware),
        },
        "guest": prepared.guest.record(host),
        "stack": {
            "name": spec.stack,
            "manifests": stack_manifests(artifacts_root, spec.stack),
            "components": stack_components(artifacts_root, spec.stack),
        },
        "snp": {
            "usable": prepared.doctor.ok,
            "doctor": {c.id: c.status.value for c in prepared.doctor.checks},
            "cbitpos": prepared.cbitpos,
            "policy": f"{spec.snp.policy:#x}",
        },
        "release": _release_record(prepared.doctor.release),
        "pinning": None
        if prepared.pinning is None
        else {"request": spec.guest.pin, **prepared.pinning.to_json()},
        "emulated": spec.emulated,
        "label": spec.label,
    }
