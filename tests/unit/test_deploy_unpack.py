"""Unpacking a release's install tarballs on the host: only after the checksums, and with
the ownership and modes of the deploying user, never those recorded in the archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from snpappliance.deploy.artifacts import LocalComponent
from snpappliance.deploy.execute import execute_deploy, unpack_argv
from snpappliance.deploy.plan import Unpack, describe_plan, plan_deploy, unpack_tar_argv
from snpappliance.deploy.system import SystemMode
from snpappliance.formats.manifest import Manifest, describe_files
from snpappliance.proc import Completed
from tests.fakes import FakeRemoteHost

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

SAFE_TAR = ("--no-same-owner", "--no-same-permissions")
TARBALL = Unpack("qemu/qemu-x86_64-softmmu.tar.xz", "qemu/root")


def test_tar_never_restores_the_archives_owners_or_modes() -> None:
    argv = unpack_tar_argv(TARBALL)
    assert argv[0] == "tar"
    assert set(SAFE_TAR) <= set(argv)
    assert argv[-1] == TARBALL.tarball
    assert argv[argv.index("-C") + 1] == TARBALL.into


def test_the_host_command_runs_that_tar() -> None:
    argv = unpack_argv("/opt/snpapp/releases/.staging-x", TARBALL)
    assert argv[:2] == ["sh", "-c"]
    assert argv[4:] == ["/opt/snpapp/releases/.staging-x", TARBALL.into, *unpack_tar_argv(TARBALL)]


class RecordingHost(FakeRemoteHost):
    """A host on which every command works (``test`` fails: nothing is deployed yet)."""

    def answer(self, argv: Sequence[str]) -> Completed:
        return Completed(tuple(argv), 1 if argv[0] == "test" else 0, "", "", 0.0)

    def put(self, src: Path, dst: str) -> None:
        self.commands.append(["put", str(src), dst])


def _qemu_component(root: Path) -> LocalComponent:
    directory = root / "st" / "qemu"
    directory.mkdir(parents=True)
    (directory / "qemu-x86_64-softmmu.tar.xz").write_bytes(b"xz")
    manifest = Manifest(stack="st", component="qemu", files=describe_files(directory))
    manifest.save(directory)
    return LocalComponent("qemu", directory, manifest)


def test_the_checksums_are_verified_before_anything_is_unpacked(tmp_path: Path) -> None:
    plan = plan_deploy("genoa01", "/opt/snpapp", "st", [_qemu_component(tmp_path)])
    host = RecordingHost()
    execute_deploy(host, plan, mode=SystemMode.CHECK, force=True, say=lambda _: None)
    scripts = [" ".join(argv) for argv in host.commands]
    verify = next(i for i, s in enumerate(scripts) if "sha256sum --check" in s)
    unpack = next(i for i, argv in enumerate(host.commands) if "tar" in argv)
    assert verify < unpack
    assert set(SAFE_TAR) <= set(host.commands[unpack])
    assert "--no-same-owner --no-same-permissions" in "\n".join(
        describe_plan(plan, system_mode="check", reboot=False)
    )
