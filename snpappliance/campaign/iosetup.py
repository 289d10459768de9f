"""The host side of one run's I/O workload: fio's fresh disk, iperf3's server.

:func:`run_devices` is entered around one boot. For fio it creates the run's
image on the host (preallocated, replacing any left by a crashed attempt) and
deletes it afterwards; for iperf3 it starts a one-off server on the host and
waits until the server says it listens, so the guest's client never races it,
and stops it afterwards. It yields the QEMU options of the devices (see
:mod:`.iodevices`). Other workloads need nothing and get no devices.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import time
from typing import TYPE_CHECKING

from snpappliance.campaign.guests.cloud.image import qemu_img_for
from snpappliance.campaign.iodevices import (
    SERVER_READY,
    disk_create_argv,
    fio_device_argv,
    fio_disk_path,
    iperf3_server_argv,
    net_device_argv,
)
from snpappliance.campaign.spec import (
    CampaignSpec,
    FioWorkload,
    GuestKind,
    Iperf3Workload,
    NetworkKind,
)
from snpappliance.errors import CampaignError

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator

    from snpappliance.hosts.base import Host

#: How long the host's iperf3 server may take to listen.
SERVER_START_S = 20.0
#: How long creating one fio image may take (preallocation writes every block).
DISK_CREATE_S = 600


@contextlib.contextmanager
def run_devices(
    host: Host, spec: CampaignSpec, workload: str, host_work: str, run_id: str
) -> Iterator[tuple[str, ...]]:
    """The QEMU options of ``workload``'s devices, with their host side set up meanwhile."""
    chosen = spec.workload(workload)
    if isinstance(chosen, FioWorkload):
        with _fio_disk(host, spec, chosen, host_work, run_id) as argv:
            yield argv
    elif isinstance(chosen, Iperf3Workload):
        with _iperf3_server(host, chosen):
            own_nic = spec.guest.kind is GuestKind.MINIMAL or chosen.network is NetworkKind.BRIDGE
            yield tuple(net_device_argv(chosen)) if own_nic else ()
    else:
        yield ()


@contextlib.contextmanager
def _fio_disk(
    host: Host, spec: CampaignSpec, fio: FioWorkload, host_work: str, run_id: str
) -> Iterator[tuple[str, ...]]:
    path = fio_disk_path(fio, host_work, run_id)
    directory = path.rsplit("/", 1)[0]
    host.run(["mkdir", "-p", "--", directory], idempotent=True)
    # qemu-img create replaces an image a crashed attempt left: running it again is safe.
    host.run(
        disk_create_argv(qemu_img_for(spec.qemu.binary), fio, path),
        timeout=DISK_CREATE_S,
        idempotent=True,
    )
    try:
        yield tuple(fio_device_argv(fio, path))
    finally:
        host.run(["rm", "-f", "--", path], check=False, idempotent=True)


@contextlib.contextmanager
def _iperf3_server(host: Host, iperf: Iperf3Workload) -> Iterator[None]:
    argv = iperf3_server_argv(iperf)
    with host.spawn(argv) as server:
        _await_ready(server, host, iperf)
        yield


def _await_ready(server: subprocess.Popen[bytes], host: Host, iperf: Iperf3Workload) -> None:
    """Read the server's output until it listens; fail on its exit or after a while."""
    assert server.stdout is not None
    seen = b""
    deadline = time.monotonic() + SERVER_START_S
    with selectors.DefaultSelector() as selector:
        selector.register(server.stdout, selectors.EVENT_READ)
        while SERVER_READY.encode() not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                _server_failed(host, iperf, seen, "did not start listening")
            chunk = os.read(server.stdout.fileno(), 4096)
            if not chunk:
                _server_failed(host, iperf, seen, "exited")
            seen += chunk


def _server_failed(host: Host, iperf: Iperf3Workload, output: bytes, what: str) -> None:
    said = output.decode(errors="replace").strip() or "(no output)"
    msg = f"the iperf3 server on host {host.name} {what} (port {iperf.port}): {said}"
    raise CampaignError(
        msg,
        hint=f"install iperf3 on the host, and make sure port {iperf.port} is free there "
        "(or set workloads.iperf3.port)",
    )
