"""Where a deployed snpapp release lives on a host: the one description of its layout.

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

from dataclasses import dataclass

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
