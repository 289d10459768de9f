"""The cloud guest's QEMU devices: its disk, its seed and its SSH port (pure).

The disk (the run's overlay) and the NoCloud seed are virtio-blk devices;
the network is QEMU user-mode networking with the guest's port 22 forwarded to
a port on the host's loopback, so the guest is reachable only from the host.
The virtio devices are modern-only with ``iommu_platform=on`` in every
scenario: an SEV-SNP guest's virtio drivers need VIRTIO_F_ACCESS_PLATFORM
(bounce buffers in shared memory), and the SNP-off baseline keeps the same
virtual hardware.
"""

from __future__ import annotations

from dataclasses import dataclass

from snpappliance.campaign.qemu import VIRTIO_OPTIONS, BootConfig, machine_argv, option_value

GUEST_SSH_PORT = 22


@dataclass(frozen=True)
class CloudDrives:
    """Host paths of one run's disks and the host-local port that reaches the guest's SSH."""

    disk: str
    seed: str
    ssh_port: int


def cloud_device_argv(drives: CloudDrives) -> list[str]:
    """-drive/-device/-netdev options for the disk, the seed and forwarded SSH."""
    return [
        "-drive",
        f"file={option_value(drives.disk)},if=none,id=disk0,format=qcow2",
        "-device",
        f"virtio-blk-pci,drive=disk0,bootindex=0,{VIRTIO_OPTIONS}",
        "-drive",
        f"file={option_value(drives.seed)},if=none,id=seed0,format=raw,readonly=on",
        "-device",
        f"virtio-blk-pci,drive=seed0,{VIRTIO_OPTIONS}",
        "-netdev",
        f"user,id=net0,hostfwd=tcp:127.0.0.1:{drives.ssh_port}-:{GUEST_SSH_PORT}",
        "-device",
        f"virtio-net-pci,netdev=net0,{VIRTIO_OPTIONS}",
    ]


def cloud_qemu_argv(cfg: BootConfig, drives: CloudDrives) -> tuple[str, ...]:
    """The full QEMU command line for one fresh boot of the cloud guest.

    The firmware boots the disk (OVMF via -bios for ``snp-layout``/``snp``, QEMU's
    default firmware for ``plain``); the image's kernel logs to ttyS0, which is
    the console QEMU hands back on stdout.
    """
    return (*machine_argv(cfg), *cloud_device_argv(drives))
