"""The devices of the I/O workloads, and the host side they talk to (pure).

fio gets a disk of its own: a fresh image per run, created preallocated on the
host (``qemu-img create -o preallocation=full``, or ``falloc``), attached as a virtio-blk
device whose serial (:data:`FIO_SERIAL`) the guest finds it by. iperf3 gets a
virtio-net device with a fixed MAC (:data:`GUEST_MAC`) and talks to a one-off
iperf3 server on the host: through QEMU's user-mode network (the host is
10.0.2.2 to the guest; QEMU forwards it to the host's loopback) or through a
tap on a host bridge.

Every virtio device is modern-only with ``iommu_platform=on`` in every
scenario: an SEV-SNP guest's virtio drivers need VIRTIO_F_ACCESS_PLATFORM, so
its DMA bounces through swiotlb, which is the cost these workloads measure; the
SNP-off baseline keeps the same virtual hardware.
"""

from __future__ import annotations

from dataclasses import dataclass

from snpappliance.campaign.qemu import VIRTIO_OPTIONS, option_value
from snpappliance.campaign.spec import FioWorkload, Iperf3Workload, NetworkKind

#: The serial of fio's disk, as the guest sees it in /sys/block/vd*/serial.
FIO_SERIAL = "snpapp-fio"
#: The MAC of the iperf3 NIC (locally administered, QEMU's 52:54:00 prefix).
GUEST_MAC = "52:54:00:5e:4e:50"
#: QEMU user-mode networking's fixed addresses.
USER_HOST_ADDRESS = "10.0.2.2"
USER_GUEST_CIDR = "10.0.2.15/24"
#: Where the host's iperf3 server listens for a user-mode guest (QEMU connects from there).
USER_SERVER_BIND = "127.0.0.1"


@dataclass(frozen=True)
class GuestNetwork:
    """The addresses of one iperf3 set-up, as the guest and the host's server see them."""

    #: Where the guest's client connects.
    server: str
    #: The address the host's server binds to.
    bind: str
    guest_cidr: str
    gateway: str


def guest_network(iperf: Iperf3Workload) -> GuestNetwork:
    if iperf.network is NetworkKind.USER:
        return GuestNetwork(USER_HOST_ADDRESS, USER_SERVER_BIND, USER_GUEST_CIDR, USER_HOST_ADDRESS)
    assert iperf.host_address is not None
    assert iperf.guest_address is not None
    return GuestNetwork(
        iperf.host_address, iperf.host_address, iperf.guest_address, iperf.host_address
    )


def fio_disk_path(fio: FioWorkload, host_work: str, run_id: str) -> str:
    """Where one run's fio image is created on the host."""
    directory = fio.disk_dir or host_work
    return f"{directory}/{run_id}-fio.{fio.disk_format.value}"


def disk_create_argv(qemu_img: str, fio: FioWorkload, path: str) -> list[str]:
    """Create the run's fresh image, its blocks allocated as the spec says."""
    fmt = fio.disk_format.value
    options = f"preallocation={fio.preallocation.value}"
    return [qemu_img, "create", "-q", "-f", fmt, "-o", options, path, fio.disk_size]


def fio_device_argv(fio: FioWorkload, path: str) -> list[str]:
    drive = (
        f"file={option_value(path)},if=none,id=fio0,format={fio.disk_format.value},"
        f"cache={fio.cache.value}"
    )
    device = f"virtio-blk-pci,drive=fio0,serial={FIO_SERIAL},{VIRTIO_OPTIONS}"
    return ["-drive", drive, "-device", device]


def net_device_argv(iperf: Iperf3Workload) -> list[str]:
    if iperf.network is NetworkKind.USER:
        netdev = "user,id=iperf0"
    else:
        assert iperf.bridge is not None
        netdev = f"bridge,id=iperf0,br={iperf.bridge}"
    device = f"virtio-net-pci,netdev=iperf0,mac={GUEST_MAC},{VIRTIO_OPTIONS}"
    return ["-netdev", netdev, "-device", device]


def iperf3_server_argv(iperf: Iperf3Workload) -> list[str]:
    """A one-off server (it exits after one test) that says at once when it listens and
    prints no interval lines (its output is not kept: the guest's client reports)."""
    bind = guest_network(iperf).bind
    return ["iperf3", "-s", "-1", "--forceflush", "-i", "0", "-B", bind, "-p", str(iperf.port)]


#: The line the server prints once it accepts connections.
SERVER_READY = "Server listening on"
