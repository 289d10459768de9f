"""The deploy plan: what ``snpapp deploy`` will do, computed without touching the host.

:func:`plan_deploy` is pure: from the verified local components it derives the
release name (``<stack>-<hash of the manifests>``), the roles (kernel packages,
QEMU, OVMF.fd, SVSM files), the ``SHA256SUMS`` and ``release.json`` texts and
every remote path. :mod:`snpappliance.deploy.execute` carries it out.
:func:`plan_rollback` is the same for ``--rollback``, from what the host's links
and the previous release's ``release.json`` say.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from snpappliance.deploy.system import (
    MODPROBE_CONF,
    MODPROBE_NAME,
    SUDO_PROBE,
    SystemStep,
    make_default_step,
    reboot_step,
    system_steps,
)
from snpappliance.errors import ConfigError, UsageError
from snpappliance.formats.manifest import MANIFEST_FILE
from snpappliance.formats.release import (
    CURRENT_LINK,
    GUEST_COMPONENT,
    OVMF_FILE,
    PREVIOUS_LINK,
    QEMU_BINARY,
    RELEASE_JSON,
    RELEASES_DIR,
    SUMS_FILE,
    UNPACK_DIR,
    ReleaseInfo,
    link_path,
    release_dir,
    releases_dir,
    unpacked_qemu,
)
from snpappliance.fsutil import sha256_file

if TYPE_CHECKING:
    from collections.abc import Sequence

    from snpappliance.deploy.artifacts import LocalComponent

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_KERNEL_DEB = re.compile(r"linux-image-(?P<krel>[^_/]+)_[^_/]+_[^_/]+\.deb")
QEMU_TARBALL = re.compile(r"qemu-[^/]*\.tar\.xz")


@dataclass(frozen=True)
class Upload:
    component: str
    source: str
    target: str


@dataclass(frozen=True)
class MetadataFile:
    """A small file deploy writes into the release (content known in advance)."""

    path: str
    content: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Unpack:
    """An install tarball unpacked in place after it was verified."""

    tarball: str
    into: str


#: tar for an install tarball. The SSH user may be root, whose tar would restore the
#: owners and modes the archive records (a build container's uids, setuid bits): the
#: files get the deploying user as owner and the umask's modes instead.
TAR_EXTRACT = ("tar", "--no-same-owner", "--no-same-permissions")


def unpack_tar_argv(unpack: Unpack) -> list[str]:
    """tar unpacking ``unpack`` (paths relative to the release's staging directory)."""
    return [*TAR_EXTRACT, "-C", unpack.into, "-xJf", unpack.tarball]


@dataclass(frozen=True)
class DeployPlan:
    """Everything one deploy does, in order."""

    host: str
    prefix: str
    info: ReleaseInfo
    staging: str
    final: str
    uploads: tuple[Upload, ...]
    metadata: tuple[MetadataFile, ...]
    unpacks: tuple[Unpack, ...]
    system: tuple[SystemStep, ...]
    #: The system steps run through ``sudo -n --`` (the SSH user is not root).
    sudo: bool = False

    @property
    def current(self) -> str:
        return link_path(self.prefix, CURRENT_LINK)

    @property
    def link_target(self) -> str:
        """``current`` points here, relative to the prefix."""
        return f"{RELEASES_DIR}/{self.info.name}"


def check_name(kind: str, value: str) -> str:
    if not _NAME.fullmatch(value):
        msg = f"{kind} name {value!r} is not usable in a release path"
        raise ConfigError(
            msg,
            hint="use letters, digits, '.', '_' and '-' only",
        )
    return value


def check_prefix(prefix: str) -> str:
    path = PurePosixPath(prefix)
    if not path.is_absolute() or ".." in path.parts or not prefix.isprintable():
        msg = f"--prefix {prefix!r} must be an absolute path on the host"
        raise UsageError(
            msg,
            hint="for example --prefix /opt/snpapp",
        )
    return str(path)


def release_name(stack: str, components: Sequence[LocalComponent]) -> str:
    """``<stack>-<12 hex>``: the same manifests always give the same name."""
    lines = sorted(f"{c.name}:{c.manifest.digest}" for c in components)
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return f"{check_name('stack', stack)}-{digest[:12]}"


def _roles(components: Sequence[LocalComponent]) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {"debs": [], "qemu": [], "tarballs": [], "ovmf": [], "svsm": []}
    for comp in components:
        for entry in comp.manifest.files:
            name = PurePosixPath(entry.path).name
            rel = f"{comp.name}/{entry.path}"
            match = _KERNEL_DEB.fullmatch(name)
            if match and not match.group("krel").endswith("-dbg"):
                roles["debs"].append(rel)
            elif entry.path.endswith(f"bin/{PurePosixPath(QEMU_BINARY).name}"):
                roles["qemu"].append(rel)
            elif QEMU_TARBALL.fullmatch(name):
                roles["tarballs"].append(rel)
            elif name == OVMF_FILE:
                roles["ovmf"].append(rel)
            elif name.endswith(".igvm") or name == "svsm.bin":
                roles["svsm"].append(rel)
    return roles


def describe_release(stack: str, components: Sequence[LocalComponent]) -> ReleaseInfo:
    """The roles inside the release, found by file name in the manifests."""
    roles = _roles(components)
    krels = sorted({m.group("krel") for d in roles["debs"] if (m := _KERNEL_DEB.search(d))})
    if len(krels) > 1:
        msg = f"the artefacts hold more than one host kernel: {', '.join(krels)}"
        raise ConfigError(
            msg,
            hint="keep one kernel build per stack in artifacts/<stack>/",
        )
    qemu = roles["qemu"][0] if roles["qemu"] else None
    if qemu is None and roles["tarballs"]:
        qemu = unpacked_qemu(str(PurePosixPath(roles["tarballs"][0]).parent))
    return ReleaseInfo(
        name=release_name(stack, components),
        stack=stack,
        components={c.name: c.manifest.digest for c in components},
        kernel_release=krels[0] if krels else None,
        kernel_packages=tuple(sorted(roles["debs"])),
        qemu=qemu,
        ovmf=min(roles["ovmf"], key=len) if roles["ovmf"] else None,
        svsm=tuple(sorted(roles["svsm"])),
        guest=GUEST_COMPONENT if any(c.name == GUEST_COMPONENT for c in components) else None,
    )


def sums_text(components: Sequence[LocalComponent], metadata: Sequence[MetadataFile]) -> str:
    """``SHA256SUMS`` for ``sha256sum --check``: every artefact, manifest and metadata file."""
    lines = []
    for comp in components:
        for entry in comp.manifest.files:
            lines.append(f"{entry.sha256}  {comp.name}/{entry.path}")
        manifest_sha = sha256_file(comp.directory / MANIFEST_FILE)
        lines.append(f"{manifest_sha}  {comp.name}/{MANIFEST_FILE}")
    lines += [f"{m.sha256}  {m.path}" for m in metadata]
    return "\n".join(sorted(lines, key=lambda ln: ln.split("  ", 1)[1])) + "\n"


def plan_deploy(
    host: str,
    prefix: str,
    stack: str,
    components: Sequence[LocalComponent],
    *,
    sudo: bool = False,
) -> DeployPlan:
    """The full deploy of ``components`` to ``host`` under ``prefix`` (no I/O on the host).

    With ``sudo`` the system steps (and only those) run through ``sudo -n --``;
    the upload and the ``current`` link stay with the SSH user.
    """
    prefix = check_prefix(prefix)
    for comp in components:
        check_name("component", comp.name)
    info = describe_release(stack, components)
    final = release_dir(prefix, info.name)
    staging = f"{releases_dir(prefix)}/.staging-{info.name}"
    metadata = (
        MetadataFile(f"system/{MODPROBE_NAME}", MODPROBE_CONF),
        MetadataFile(RELEASE_JSON, info.to_json()),
    )
    return DeployPlan(
        host=host,
        prefix=prefix,
        info=info,
        staging=staging,
        final=final,
        uploads=tuple(Upload(c.name, str(c.directory), f"{staging}/{c.name}") for c in components),
        metadata=(*metadata, MetadataFile(SUMS_FILE, sums_text(components, metadata))),
        unpacks=tuple(
            Unpack(t, str(PurePosixPath(t).parent / UNPACK_DIR))
            for t in _roles(components)["tarballs"]
        ),
        system=system_steps(final, info.kernel_packages, info.kernel_release, sudo=sudo),
        sudo=sudo,
    )


def describe_plan(plan: DeployPlan, *, system_mode: str, reboot: bool) -> list[str]:
    """Every step and command of ``plan``, one line each, for ``--dry-run``."""
    h = plan.host
    lines = [f"deploy release {plan.info.name} to {h}:{plan.final}"]
    if plan.sudo:
        lines.append(f"  ssh {h} {shlex.join(SUDO_PROBE)} (passwordless sudo for the system steps)")
    lines.append(f"  ssh {h} {shlex.join(['mkdir', '-p', '--', plan.staging])}")
    for up in plan.uploads:
        lines.append(f"  rsync --archive --partial {up.source}/ {h}:{up.target}/")
    for meta in plan.metadata:
        lines.append(f"  write {plan.staging}/{meta.path} ({len(meta.content)} bytes)")
    lines.append(
        f"  ssh {h} cd {shlex.quote(plan.staging)} && sha256sum --check --strict {SUMS_FILE}"
    )
    for unpack in plan.unpacks:
        lines.append(
            f"  ssh {h} cd {shlex.quote(plan.staging)} && {shlex.join(unpack_tar_argv(unpack))}"
        )
    lines.append(f"  ssh {h} mv -T -- {plan.staging} {plan.final}")
    for step in plan.system:
        command = step.command if system_mode == "apply" else shlex.join(step.check_argv)
        lines.append(f"  [{system_mode}] {step.title}: ssh {h} {command}")
    lines.append(f"  ssh {h} ln -sfn {plan.link_target} {plan.current} (atomically, via mv -T)")
    if reboot and plan.info.kernel_release:
        lines.append(f"  [{system_mode}] reboot: ssh {h} {reboot_step(sudo=plan.sudo).command}, "
                     f"wait for uname -r = {plan.info.kernel_release}, "
                     "run doctor, then make that kernel the default")  # fmt: skip
    return lines


@dataclass(frozen=True)
class RollbackPlan:
    """``--rollback``: make the previous release current, and its kernel the boot default."""

    host: str
    prefix: str
    #: Where ``current`` points now and where ``previous`` points (relative to the prefix).
    current: str
    previous: str
    #: The previous release's host kernel (None: it has none, the boot default stays).
    kernel_release: str | None
    #: ``grub-set-default`` to that kernel, through sudo when the plan says so.
    boot_default: SystemStep | None
    sudo: bool = False


def plan_rollback(
    host: str, prefix: str, *, current: str, previous: str, previous_info: ReleaseInfo, sudo: bool
) -> RollbackPlan:
    """Swap ``current`` and ``previous``; select the previous release's kernel, if it has one."""
    kernel = previous_info.kernel_release
    return RollbackPlan(
        host=host,
        prefix=check_prefix(prefix),
        current=current,
        previous=previous,
        kernel_release=kernel,
        boot_default=make_default_step(kernel, sudo=sudo) if kernel else None,
        sudo=sudo,
    )


def describe_rollback(plan: RollbackPlan, *, system_mode: str, reboot: bool) -> list[str]:
    """Every step and command of ``plan``, one line each, for ``--rollback --dry-run``."""
    h = plan.host
    lines = [f"roll back {h}:{plan.prefix} to {plan.previous} (current: {plan.current})"]
    step = plan.boot_default
    if step is None:
        lines.append(f"  {plan.previous} has no host kernel: the boot default stays as it is")
    else:
        if plan.sudo:
            lines.append(f"  ssh {h} {shlex.join(SUDO_PROBE)} (passwordless sudo for GRUB)")
        command = step.command if system_mode == "apply" else shlex.join(step.check_argv)
        lines.append(f"  [{system_mode}] {step.title}: ssh {h} {command}")
    current = link_path(plan.prefix, CURRENT_LINK)
    previous = link_path(plan.prefix, PREVIOUS_LINK)
    lines.append(f"  ssh {h} ln -sfn {plan.previous} {current}; ln -sfn {plan.current} "
                 f"{previous} (atomically, via mv -T)")  # fmt: skip
    if reboot and plan.kernel_release:
        lines.append(f"  [{system_mode}] reboot: ssh {h} {reboot_step(sudo=plan.sudo).command}, "
                     f"wait for uname -r = {plan.kernel_release}")  # fmt: skip
    return lines
