"""The host-side unpack of an install tarball, with the real tar, as root."""

from __future__ import annotations

import os
import stat
import tarfile
from typing import TYPE_CHECKING

import pytest

from snpappliance.deploy.execute import unpack_argv
from snpappliance.deploy.plan import Unpack
from snpappliance.hosts.local import LocalHost
from tests.conftest import require_program

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

STRANGER = 12345


def _tarball(path: Path) -> None:
    payload = path.parent / "payload"
    payload.write_bytes(b"#!/bin/sh\n")
    with tarfile.open(path, "w:xz") as tar:
        for name, mode in (("bin/qemu-system-x86_64", 0o4777), ("share/data", 0o666)):
            info = tar.gettarinfo(str(payload), arcname=name)
            info.uid, info.gid, info.uname, info.gname, info.mode = (
                STRANGER, STRANGER, "", "", mode
            )  # fmt: skip
            with payload.open("rb") as fh:
                tar.addfile(info, fh)


def test_root_unpacks_with_its_own_owner_and_the_umask(tmp_path: Path) -> None:
    require_program("tar")
    if os.geteuid() != 0:
        pytest.skip("tar keeps the archive's owners only for root")
    staging = tmp_path / "staging"
    (staging / "qemu").mkdir(parents=True)
    _tarball(staging / "qemu" / "qemu.tar.xz")
    (staging / "SHA256SUMS").write_text("")
    old = os.umask(0o022)
    try:
        LocalHost().run(unpack_argv(str(staging), Unpack("qemu/qemu.tar.xz", "qemu/root")))
    finally:
        os.umask(old)
    root = staging / "qemu" / "root"
    for name, mode in (("bin/qemu-system-x86_64", 0o755), ("share/data", 0o644)):
        st = (root / name).stat()
        assert (st.st_uid, st.st_gid) == (0, 0), name
        assert stat.S_IMODE(st.st_mode) == mode, name
    sums = (staging / "SHA256SUMS").read_text()
    assert "qemu/root/bin/qemu-system-x86_64" in sums
