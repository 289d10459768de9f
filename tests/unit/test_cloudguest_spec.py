"""The cloud guest in the campaign spec, its QEMU devices and its overlay command (pure)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from snpappliance.campaign.guests.cloud.image import cached_path, overlay_argv, qemu_img_for
from snpappliance.campaign.guests.cloud.qemuargs import CloudDrives, cloud_qemu_argv
from snpappliance.campaign.qemu import qemu_argv
from snpappliance.campaign.spec import UBUNTU_NOBLE_URL, GuestKind, ScenarioKind, parse_spec
from snpappliance.campaign.specdump import dump_spec
from snpappliance.errors import ConfigError
from tests.factories import GENOA_SNP_BOOT

SHA = "ab" * 32
SPEC = """
[campaign]
name = "t"
[guest]
{guest}
[[scenarios]]
name = "off"
kind = "snp-layout"
baseline = true
[[scenarios]]
name = "on"
kind = "snp-layout"
[workloads.sysbench-cpu]
"""


def _spec(guest: str) -> str:
    return SPEC.format(guest=guest)


def _error(guest: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_spec(_spec(guest), source="spec.toml")
    return info.value


def test_cloud_guest_downloads_ubuntu_noble_with_the_given_checksum() -> None:
    spec = parse_spec(_spec(f'kind = "cloud"\nimage_sha256 = "{SHA}"'), source="s")
    assert spec.guest.kind is GuestKind.CLOUD
    assert spec.guest.image_url == UBUNTU_NOBLE_URL
    assert "ubuntu-24.04-server-cloudimg-amd64.img" in UBUNTU_NOBLE_URL
    assert spec.guest.disk_gib == 20
    assert parse_spec(dump_spec(spec), source="dump") == spec


def test_a_download_without_checksum_is_refused_with_what_to_do() -> None:
    error = _error('kind = "cloud"')
    assert "guest.image_sha256" in error.message
    assert UBUNTU_NOBLE_URL in error.message
    assert error.hint is not None
    assert "SHA256SUMS" in error.hint
    assert "image = " in error.hint


def test_a_local_image_needs_no_download_and_no_checksum() -> None:
    spec = parse_spec(_spec('kind = "cloud"\nimage = "/srv/noble.img"\ndisk_gib = 40'), source="s")
    assert spec.guest.image == "/srv/noble.img"
    assert spec.guest.image_url is None
    assert spec.guest.image_sha256 is None
    assert spec.guest.disk_gib == 40
    assert parse_spec(dump_spec(spec), source="dump") == spec


@pytest.mark.parametrize(
    ("guest", "where", "problem"),
    [
        ('image = "/x.img"', "guest.image", "cloud guest only"),
        ("disk_gib = 30", "guest.disk_gib", "cloud guest only"),
        ('kind = "cloud"\nimage_sha256 = "XYZ"', "guest.image_sha256", "64 lower-case hex"),
        ('kind = "cloud"\nimage = "rel.img"', "guest.image", "must be an absolute path"),
        (
            f'kind = "cloud"\nimage_sha256 = "{SHA}"\nimage_url = "ftp://x"',
            "guest.image_url",
            "URL",
        ),
        ('kind = "cloud"\nimage = "/x.img"\nartifacts = "/g"', "guest.artifacts", "minimal"),
    ],
)
def test_invalid_cloud_settings_name_their_key(guest: str, where: str, problem: str) -> None:
    message = _error(guest).message
    assert where in message
    assert problem in message


CFG = replace(
    GENOA_SNP_BOOT,
    qemu="/opt/snpapp/current/qemu/root/usr/local/bin/qemu-system-x86_64",
    kernel="unused",
    initrd="unused",
    workload_file="unused",
    run_id="r0001",
    firmware="/opt/snpapp/current/ovmf/OVMF.fd",
)
DRIVES = CloudDrives(disk="/w/r0001.qcow2", seed="/w/seed.iso", ssh_port=40022)


def _after(argv: tuple[str, ...], option: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == option]


def test_cloud_guest_boots_its_disk_with_the_seed_and_forwarded_ssh() -> None:
    argv = cloud_qemu_argv(CFG, DRIVES)
    assert _after(argv, "-drive") == [
        "file=/w/r0001.qcow2,if=none,id=disk0,format=qcow2",
        "file=/w/seed.iso,if=none,id=seed0,format=raw,readonly=on",
    ]
    assert _after(argv, "-device") == [
        "virtio-blk-pci,drive=disk0,bootindex=0,disable-legacy=on,iommu_platform=on",
        "virtio-blk-pci,drive=seed0,disable-legacy=on,iommu_platform=on",
        "virtio-net-pci,netdev=net0,disable-legacy=on,iommu_platform=on",
    ]
    assert _after(argv, "-netdev") == ["user,id=net0,hostfwd=tcp:127.0.0.1:40022-:22"]
    for option in ("-kernel", "-initrd", "-append", "-fw_cfg"):
        assert option not in argv


@pytest.mark.parametrize("kind", [ScenarioKind.SNP, ScenarioKind.SNP_LAYOUT])
def test_both_snp_scenarios_share_the_minimal_guests_machine(kind: ScenarioKind) -> None:
    cfg = replace(CFG, kind=kind)
    cloud = cloud_qemu_argv(cfg, DRIVES)
    minimal = qemu_argv(cfg)
    machine = minimal[: minimal.index("-kernel")]
    assert cloud[: len(machine)] == machine
    assert _after(cloud, "-bios") == ["/opt/snpapp/current/ovmf/OVMF.fd"]
    snp_objects = [o for o in _after(cloud, "-object") if o.startswith("sev-snp-guest")]
    assert len(snp_objects) == (1 if kind is ScenarioKind.SNP else 0)


def test_a_comma_in_a_drive_path_is_escaped() -> None:
    argv = cloud_qemu_argv(CFG, CloudDrives("/w/a,b.qcow2", "/w/seed.iso", 40022))
    assert _after(argv, "-drive")[0] == "file=/w/a,,b.qcow2,if=none,id=disk0,format=qcow2"


def test_overlay_is_a_qcow2_on_the_base_image() -> None:
    argv = overlay_argv("qemu-img", "/c/base.img", "qcow2", "/w/r1.qcow2", 20)
    assert argv == [
        "qemu-img", "create", "-q", "-f", "qcow2",
        "-b", "/c/base.img", "-F", "qcow2", "/w/r1.qcow2", "20G",
    ]  # fmt: skip


def test_qemu_img_sits_next_to_a_release_qemu() -> None:
    assert qemu_img_for("/opt/q/bin/qemu-system-x86_64") == "/opt/q/bin/qemu-img"
    assert qemu_img_for("qemu-system-x86_64") == "qemu-img"


def test_cache_names_the_image_by_its_checksum() -> None:
    path = cached_path(Path("/c"), SHA, UBUNTU_NOBLE_URL)
    assert path == Path(f"/c/{SHA}.img")
