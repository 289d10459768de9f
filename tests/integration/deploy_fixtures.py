"""A small built stack for the deploy tests: real .deb, real OVMF.fd, manifests as `build` writes.

The kernel package is a genuine Debian package built with ``dpkg-deb`` (it
installs nothing but a marker file, and the tests never install it); OVMF.fd is
Debian's; the QEMU install tarball holds a stand-in script, since deploy only
moves and verifies bytes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from snpappliance import proc
from snpappliance.formats.manifest import Manifest, describe_files

STACK = "genoa-test"
KERNEL_RELEASE = "6.12.0-snp-host-0123abcd"
KERNEL_DEB = f"linux-image-{KERNEL_RELEASE}_6.12.0-1_amd64.deb"
OVMF_CANDIDATES = (Path("/usr/share/ovmf/OVMF.fd"), Path("/usr/share/OVMF/OVMF.fd"))


def _manifest(directory: Path, component: str) -> None:
    Manifest(stack=STACK, component=component, files=describe_files(directory)).save(directory)


def build_kernel(directory: Path) -> None:
    tree = directory.parent / ".kernel-pkg"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "boot").mkdir()
    (tree / "boot" / f"snpapp-test-{KERNEL_RELEASE}").write_text("test package payload\n")
    (tree / "DEBIAN" / "control").write_text(
        f"Package: linux-image-{KERNEL_RELEASE}\nVersion: 6.12.0-1\nArchitecture: amd64\n"
        "Maintainer: snpapp tests <tests@snpapp.invalid>\n"
        "Description: deploy test package (installs one marker file)\n"
    )
    directory.mkdir(parents=True)
    proc.run(["dpkg-deb", "--root-owner-group", "--build", tree, directory / KERNEL_DEB])
    shutil.rmtree(tree)
    (directory / "config").write_text("CONFIG_KVM_AMD_SEV=y\n")
    _manifest(directory, "kernel")


def build_qemu(directory: Path) -> None:
    root = directory.parent / ".qemu-root"
    binary = root / "usr/local/bin/qemu-system-x86_64"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\necho 'stand-in for the deploy tests'\n")
    binary.chmod(0o755)
    directory.mkdir(parents=True)
    proc.run(["tar", "-C", root, "-cJf", directory / "qemu-x86_64-softmmu.tar.xz", "."])
    shutil.rmtree(root)
    _manifest(directory, "qemu")


def build_ovmf(directory: Path) -> None:
    source = next((p for p in OVMF_CANDIDATES if p.is_file()), None)
    directory.mkdir(parents=True)
    if source is None:
        (directory / "OVMF.fd").write_bytes(os.urandom(1 << 20))
    else:
        shutil.copyfile(source, directory / "OVMF.fd")
    _manifest(directory, "ovmf")


def build_svsm(directory: Path, payload: bytes = b"svsm test payload\n") -> None:
    directory.mkdir(parents=True)
    (directory / "coconut-qemu.igvm").write_bytes(payload)
    _manifest(directory, "svsm")


def build_guest(directory: Path, size: int) -> None:
    directory.mkdir(parents=True)
    with (directory / "initramfs.cpio.xz").open("wb") as fh:
        fh.write(os.urandom(size))
    _manifest(directory, "guest")


def build_stack(root: Path, *, guest_size: int = 64 * 1024, svsm: bytes = b"svsm v1\n") -> Path:
    """``root/<STACK>/{kernel,qemu,ovmf,svsm,guest}`` with manifests; returns ``root``."""
    stack = root / STACK
    build_kernel(stack / "kernel")
    build_qemu(stack / "qemu")
    build_ovmf(stack / "ovmf")
    build_svsm(stack / "svsm", svsm)
    build_guest(stack / "guest", guest_size)
    return root


def rebuild_svsm(root: Path, payload: bytes) -> None:
    """Replace the SVSM build (a new release name results)."""
    shutil.rmtree(root / STACK / "svsm")
    build_svsm(root / STACK / "svsm", payload)
