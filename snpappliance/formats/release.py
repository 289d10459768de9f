"""Where a deployed snpapp release lives on a host: the one description of its layout.

``release.json`` (:class:`ReleaseInfo`) names the roles inside one release that
doctor and the campaign need: the QEMU binary, the unified OVMF.fd, the SVSM
files, the host kernel and the benchmark guest.

``snpapp deploy`` creates it, ``snpapp doctor`` inspects it and campaigns on a
real host run from it::

    <prefix>/releases/<stack>-<hash>/       one release, never changed once published
        <component>/...                     every built component as built (with manifest.json)
        qemu/root/usr/local/bin/qemu-system-x86_64   QEMU's install tarball, unpacked
        ovmf/OVMF.fd                        the unified OVMF SNP guests load with -bios
        guest/{vmlinuz,initramfs.cpio.gz}   the benchmark guest (`snpapp build guest`)
        SHA256SUMS  release.json  system/
    <prefix>/current  -> releases/<name>    the release in use
    <prefix>/previous -> releases/<name>    the one before it (for --rollback)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from snpappliance.errors import InputError

DEFAULT_PREFIX = "/opt/snpapp"
RELEASES_DIR = "releases"
CURRENT_LINK = "current"
PREVIOUS_LINK = "previous"
RELEASE_JSON = "release.json"
SUMS_FILE = "SHA256SUMS"

QEMU_COMPONENT = "qemu"
OVMF_COMPONENT = "ovmf"
GUEST_COMPONENT = "guest"
#: Where a component's install tarball is unpacked inside its directory.
UNPACK_DIR = "root"
#: The QEMU binary inside QEMU's install tree (configure --prefix=/usr/local).
QEMU_BINARY = "usr/local/bin/qemu-system-x86_64"
OVMF_FILE = "OVMF.fd"


def releases_dir(prefix: str) -> str:
    return f"{prefix.rstrip('/')}/{RELEASES_DIR}"


def release_dir(prefix: str, name: str) -> str:
    return f"{releases_dir(prefix)}/{name}"


def link_path(prefix: str, link: str) -> str:
    return f"{prefix.rstrip('/')}/{link}"


def unpacked_qemu(component_dir: str) -> str:
    """The QEMU binary once the install tarball in ``component_dir`` is unpacked."""
    return f"{component_dir}/{UNPACK_DIR}/{QEMU_BINARY}"


@dataclass(frozen=True)
class ReleasePaths:
    """The files a campaign needs from a release rooted at ``root`` (paths on the host)."""

    root: str

    @property
    def qemu(self) -> str:
        return unpacked_qemu(f"{self.root}/{QEMU_COMPONENT}")

    @property
    def firmware(self) -> str:
        return f"{self.root}/{OVMF_COMPONENT}/{OVMF_FILE}"

    @property
    def guest(self) -> str:
        return f"{self.root}/{GUEST_COMPONENT}"


def current_release(prefix: str = DEFAULT_PREFIX) -> ReleasePaths:
    """The paths of the release ``<prefix>/current`` points at."""
    return ReleasePaths(link_path(prefix, CURRENT_LINK))


#: Format of release.json.
RELEASE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ReleaseInfo:
    """``release.json``: the roles inside one release (paths relative to the release)."""

    name: str
    stack: str
    components: dict[str, str]
    kernel_release: str | None
    kernel_packages: tuple[str, ...]
    qemu: str | None
    ovmf: str | None
    svsm: tuple[str, ...]
    #: The benchmark guest's directory (None: the stack's guest was not built).
    guest: str | None = None
    format_version: int = RELEASE_FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        data["kernel_packages"] = list(self.kernel_packages)
        data["svsm"] = list(self.svsm)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ReleaseInfo:
        try:
            raw: dict[str, Any] = json.loads(text)
            return cls(
                name=str(raw["name"]),
                stack=str(raw["stack"]),
                components={str(k): str(v) for k, v in raw["components"].items()},
                kernel_release=raw.get("kernel_release"),
                kernel_packages=tuple(raw.get("kernel_packages", ())),
                qemu=raw.get("qemu"),
                ovmf=raw.get("ovmf"),
                svsm=tuple(raw.get("svsm", ())),
                guest=raw.get("guest"),
                format_version=int(raw.get("format_version", RELEASE_FORMAT_VERSION)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            msg = f"{RELEASE_JSON} is not a valid snpapp release description: {exc}"
            raise InputError(
                msg,
                hint="deploy the release again with `snpapp deploy --force`",
            ) from exc
