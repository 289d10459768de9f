"""Pinning a QEMU on an SSH host: its QMP socket forwarded over the master connection.

The host is this machine behind a real OpenSSH server on loopback, so what the
remote side did is checked here in /proc, independently of snpapp.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign.pinned import pin_qemu
from snpappliance.campaign.pinning import plan_pinning
from snpappliance.campaign.qemu import Pinned
from snpappliance.campaign.qmp import Qmp
from snpappliance.hosts.local import LocalHost
from snpappliance.tuning.cpulist import parse_cpulist
from snpappliance.tuning.state import read_host_state
from snpappliance.tuning.topology import topology_from_state
from tests.conftest import require_program, unavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.integration.sshd import SshServer

pytestmark = [pytest.mark.integration, pytest.mark.ssh]


@contextlib.contextmanager
def echo_server(path: Path) -> Iterator[None]:
    """A unix socket at ``path`` that answers each connection with what it read, upper-cased."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                with conn:
                    conn.sendall(conn.recv(1024).upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        thread.join(timeout=10)


def ask(path: Path, text: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(10)
        client.connect(str(path))
        client.sendall(text)
        return client.recv(1024)


def test_a_remote_socket_is_reached_through_the_forward_until_it_is_cancelled(
    ssh_server: SshServer, tmp_path: Path
) -> None:
    host = ssh_server.host()
    remote = tmp_path / "remote.sock"
    with echo_server(remote):
        with host.forward_socket(str(remote)) as local:
            assert local != remote
            assert ask(local, b"qmp") == b"QMP"
            assert ask(local, b"again") == b"AGAIN"
        assert not local.exists()
        assert not local.parent.exists()
        assert ask(remote, b"direct") == b"DIRECT"


def test_the_local_host_uses_the_socket_itself(tmp_path: Path) -> None:
    with LocalHost().forward_socket(str(tmp_path / "q.sock")) as local:
        assert local == tmp_path / "q.sock"


def allowed_cpus(pid: int, tid: int) -> tuple[int, ...]:
    """Cpus_allowed_list of one thread, read here from /proc (not through snpapp)."""
    status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("Cpus_allowed_list:"))
    return parse_cpulist(line.split(":", 1)[1])


def thread_names(pid: int) -> dict[str, int]:
    """``{thread name: tid}`` of a process (QEMU names them with debug-threads=on)."""
    return {
        (task / "comm").read_text().strip(): int(task.name)
        for task in Path(f"/proc/{pid}/task").iterdir()
    }


def test_a_qemu_on_an_ssh_host_is_pinned_over_its_forwarded_qmp_socket(
    ssh_server: SshServer, tmp_path: Path
) -> None:
    qemu = require_program("qemu-system-x86_64")
    topology = topology_from_state(read_host_state(LocalHost()))
    if len(topology.cpus) < 2:
        unavailable("pinning a guest needs at least 2 online CPUs")
    plan = plan_pinning(topology, 1)
    pinned = Pinned(plan, str(tmp_path / "qmp.sock"))
    argv = [
        qemu, "-accel", "tcg,thread=multi", "-smp", "1", "-m", "64M",
        "-machine", "q35,memory-backend=ram1",
        "-object", f"memory-backend-ram,id=ram1,size=64M,host-nodes={plan.node},policy=bind",
        "-nodefaults", "-display", "none", "-name", "pin-test,debug-threads=on", "-S",
        "-qmp", f"unix:{pinned.qmp_socket},server=on,wait=off",
    ]  # fmt: skip
    host = ssh_server.host()
    with (tmp_path / "qemu.log").open("wb") as log, host.spawn(argv, stdout=log) as child:
        record = pin_qemu(host, child, pinned)
        assert record["applied"] is True
        pid = record["qemu_pid"]
        assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == qemu.encode()
        names = thread_names(pid)
        vcpu_tid = names["CPU 0/TCG"]
        assert record["vcpus"] == [{"tid": vcpu_tid, "cpus": list(plan.vcpu_cpus)}]
        assert allowed_cpus(pid, vcpu_tid) == plan.vcpu_cpus
        assert allowed_cpus(pid, pid) == plan.emulator_cpus
        assert record["main_cpus"] == list(plan.emulator_cpus)
        assert record["plan"] == plan.to_json()
        # `cont` was sent: the guest runs (QEMU's status over a fresh QMP session).
        with host.forward_socket(pinned.qmp_socket) as local, Qmp.connect(local) as qmp:
            status = qmp.execute("query-status")
        assert isinstance(status, dict)
        assert status["running"] is True
