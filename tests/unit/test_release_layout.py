"""One release layout for deploy, doctor and the campaign; the genoa profile runs from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign.profiles import profile_path
from snpappliance.campaign.spec import load_spec, parse_spec
from snpappliance.campaign.specdump import dump_spec
from snpappliance.deploy.artifacts import LocalComponent
from snpappliance.deploy.plan import describe_release, plan_deploy
from snpappliance.errors import ConfigError
from snpappliance.formats.manifest import Manifest, describe_files
from snpappliance.formats.release import DEFAULT_PREFIX, ReleasePaths, current_release

if TYPE_CHECKING:
    from pathlib import Path


def _component(root: Path, name: str, files: dict[str, bytes]) -> LocalComponent:
    directory = root / "genoa-2025" / name
    for rel, data in files.items():
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_bytes(data)
    manifest = Manifest(stack="genoa-2025", component=name, files=describe_files(directory))
    manifest.save(directory)
    return LocalComponent(name, directory, manifest)


@pytest.fixture
def components(tmp_path: Path) -> list[LocalComponent]:
    """The components as `snpapp build all --stack genoa-2025` names their files."""
    return [
        _component(tmp_path, "qemu", {"qemu-x86_64-softmmu.tar.xz": b"xz",
                                      "qemu-version.txt": b"QEMU emulator version 9.1.0\n"}),
        _component(tmp_path, "ovmf", {"OVMF.fd": b"fd", "OVMF_CODE.fd": b"c"}),
        _component(tmp_path, "svsm", {"coconut-qemu.igvm": b"igvm"}),
        _component(tmp_path, "guest", {"vmlinuz": b"k", "initramfs.cpio.gz": b"i"}),
    ]  # fmt: skip


def test_current_release_paths() -> None:
    paths = current_release("/srv/snp/")
    assert paths.root == "/srv/snp/current"
    assert paths.qemu == "/srv/snp/current/qemu/root/usr/local/bin/qemu-system-x86_64"
    assert paths.firmware == "/srv/snp/current/ovmf/OVMF.fd"
    assert paths.guest == "/srv/snp/current/guest"
    assert current_release().root == f"{DEFAULT_PREFIX}/current"


def test_deploy_roles_are_the_layout_paths(components: list[LocalComponent]) -> None:
    """release.json's roles, resolved in the release, are exactly what the campaign uses."""
    plan = plan_deploy("genoa01", "/opt/snpapp", "genoa-2025", components)
    info = plan.info
    layout = ReleasePaths(plan.final)
    assert (info.qemu, info.ovmf, info.guest) == (
        "qemu/root/usr/local/bin/qemu-system-x86_64",
        "ovmf/OVMF.fd",
        "guest",
    )
    assert f"{plan.final}/{info.qemu}" == layout.qemu
    assert f"{plan.final}/{info.ovmf}" == layout.firmware
    assert f"{plan.final}/{info.guest}" == layout.guest
    # The tarball is unpacked where the layout expects the binary.
    assert [(u.tarball, u.into) for u in plan.unpacks] == [
        ("qemu/qemu-x86_64-softmmu.tar.xz", "qemu/root")
    ]
    assert plan.link_target == f"releases/{info.name}"


def test_a_stack_without_a_built_guest_has_no_guest_role(
    components: list[LocalComponent],
) -> None:
    assert describe_release("genoa-2025", components[:3]).guest is None


def test_genoa_profile_defaults_to_the_deployed_release() -> None:
    spec = load_spec(profile_path("genoa"))
    release = current_release(DEFAULT_PREFIX)
    assert spec.stack == "genoa-2025"
    assert spec.release_prefix == DEFAULT_PREFIX
    assert spec.qemu.binary == release.qemu
    assert spec.qemu.firmware == release.firmware
    assert spec.guest.artifacts == release.guest
    assert parse_spec(dump_spec(spec), source="frozen") == spec


GENOA_LIKE = """
[campaign]
name = "g"
stack = "genoa-2025"
[release]
prefix = "/srv/snp"
[qemu]
accel = "kvm"
{qemu}
[guest]
{guest}
[[scenarios]]
name = "snp-off"
kind = "snp-layout"
baseline = true
[[scenarios]]
name = "snp-on"
kind = "snp"
[workloads.sysbench-cpu]
"""


def test_the_release_prefix_moves_the_defaults_and_the_spec_may_override_them() -> None:
    moved = parse_spec(GENOA_LIKE.format(qemu="", guest=""), source="s.toml")
    assert moved.qemu.binary == "/srv/snp/current/qemu/root/usr/local/bin/qemu-system-x86_64"
    assert moved.qemu.firmware == "/srv/snp/current/ovmf/OVMF.fd"
    assert moved.guest.artifacts == "/srv/snp/current/guest"
    own = parse_spec(
        GENOA_LIKE.format(
            qemu='binary = "/usr/bin/qemu-system-x86_64"\nfirmware = "/srv/OVMF.fd"',
            guest='artifacts = "/srv/guest"',
        ),
        source="s.toml",
    )
    assert own.release_prefix == "/srv/snp"
    assert (own.qemu.binary, own.qemu.firmware, own.guest.artifacts) == (
        "/usr/bin/qemu-system-x86_64",
        "/srv/OVMF.fd",
        "/srv/guest",
    )
    assert parse_spec(dump_spec(own), source="frozen") == own


def test_without_a_release_the_local_defaults_stay() -> None:
    spec = load_spec(profile_path("local"))
    assert spec.release_prefix is None
    assert spec.qemu.binary == "qemu-system-x86_64"
    assert spec.qemu.firmware == "/usr/share/ovmf/OVMF.fd"
    assert spec.guest.artifacts is None
    assert "[release]" not in dump_spec(spec)


@pytest.mark.parametrize("prefix", ["opt/snpapp", "/opt/../etc", ""])
def test_a_bad_release_prefix_is_named(prefix: str) -> None:
    text = GENOA_LIKE.format(qemu="", guest="").replace('"/srv/snp"', f'"{prefix}"')
    with pytest.raises(ConfigError, match=r"release\.prefix"):
        parse_spec(text, source="s.toml")
