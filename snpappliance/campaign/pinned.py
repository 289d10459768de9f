"""Pinned boots: every boot of a campaign with ``[guest] pin`` set runs on the plan's CPUs.

The plan is made once per host when the campaign is prepared
(:func:`snpappliance.campaign.prepare.prepare`); :class:`PinnedGuest` carries it to
every boot of the host's guest, whatever its kind: QEMU starts stopped (``-S``)
with a QMP socket in the campaign's work directory on the host
(:class:`~snpappliance.campaign.qemu.Pinned`), and :func:`pin_qemu`, called as soon
as it runs, reads its vCPU and I/O thread ids over QMP (through the SSH connection
for a remote host), pins them, reads the affinities back from /proc and lets the
guest run (``cont``). What it read back goes into the attempt's record.

A pinning that cannot be applied is a host set-up problem, not a flaky boot: it
raises :class:`~snpappliance.errors.CampaignError` and the campaign stops. A QEMU
that exits before it could be pinned is left to the boot's own judgement (the
attempt fails and is retried like any other).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from snpappliance.campaign.guests.base import Guest
from snpappliance.campaign.pinning import (
    PinningPlan,
    apply_pinning,
    thread_affinities,
    thread_group,
)
from snpappliance.campaign.qemu import MAX_SOCKET_PATH, Pinned
from snpappliance.campaign.qmp import CONNECT_TIMEOUT_S, Qmp
from snpappliance.errors import CampaignError, GuestError

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable

    from snpappliance.campaign.boot import BootRecord, Pin
    from snpappliance.campaign.guests.base import BootRequest, BootSite
    from snpappliance.campaign.qemu import BootConfig
    from snpappliance.formats.manifest import Manifest
    from snpappliance.hosts.base import Host

#: The QMP socket's name in the campaign's work directory (one guest at a time per host).
QMP_SOCKET = "qmp.sock"
_POLL_S = 0.05


def qmp_socket(host_work: str) -> str:
    """The QMP socket path of a pinned boot on the host; refused when too long for a socket."""
    path = f"{host_work.rstrip('/')}/{QMP_SOCKET}"
    if len(path.encode()) > MAX_SOCKET_PATH:
        msg = (
            f"the campaign's work directory {host_work} is too long for QEMU's QMP socket "
            f"({len(path.encode())} bytes; a unix socket path may have {MAX_SOCKET_PATH})"
        )
        raise CampaignError(
            msg,
            hint="keep campaigns in a shorter directory (--campaigns), or set [guest] pin = 'off'",
        )
    return path


def _remote_socket_ready(host: Host, path: str, alive: Callable[[], bool], deadline: float) -> bool:
    """Wait until QEMU's socket exists on a remote host; False if QEMU exited first."""
    while not host.run(["test", "-S", path], check=False, idempotent=True).ok:
        if not alive():
            return False
        if time.monotonic() > deadline:
            msg = f"QEMU's QMP socket {path} did not appear on {host.name}"
            raise CampaignError(msg, hint="see QEMU's output in the run's log")
        time.sleep(_POLL_S)
    return True


def _threads(tids: list[int], seen: dict[int, tuple[int, ...]]) -> list[dict[str, Any]]:
    return [{"tid": tid, "cpus": list(seen.get(tid, ()))} for tid in tids]


def pin_qemu(host: Host, qemu: subprocess.Popen[bytes], pinned: Pinned) -> dict[str, Any]:
    """Pin the stopped QEMU ``qemu`` (spawned on ``host``) to the plan, then let it run.

    Returns the record of what was applied: each vCPU's and I/O thread's id with
    the CPUs /proc shows it may run on, and QEMU's main thread's.
    """
    plan = pinned.plan

    def alive() -> bool:
        return qemu.poll() is None

    exited = {"applied": False, "reason": "QEMU exited before it could be pinned"}
    if not host.is_local:
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        if not _remote_socket_ready(host, pinned.qmp_socket, alive, deadline):
            return exited
    try:
        with (
            host.forward_socket(pinned.qmp_socket) as local,
            Qmp.connect(local, alive=alive) as qmp,
        ):
            vcpu_tids = qmp.vcpu_thread_ids()
            io_tids = qmp.iothread_ids()
            if not vcpu_tids:
                msg = f"QEMU on {host.name} reported no vCPU threads over QMP"
                raise CampaignError(msg, hint="set [guest] pin = 'off' for this QEMU")
            pid = thread_group(host, vcpu_tids[0])  # QEMU's pid on the host
            apply_pinning(host, pid, vcpu_tids, plan, iothread_tids=io_tids)
            seen = thread_affinities(host, pid)
            qmp.execute("cont")
    except GuestError as exc:
        if not alive():
            return exited
        msg = f"cannot pin QEMU on {host.name} over QMP: {exc.message}"
        raise CampaignError(msg, hint="see the run's log, or set [guest] pin = 'off'") from exc
    return {
        "applied": True,
        "node": plan.node,
        "qemu_pid": pid,
        "vcpus": _threads(vcpu_tids, seen),
        "iothreads": _threads(io_tids, seen),
        "main_cpus": list(seen.get(pid, ())),
        "plan": plan.to_json(),
    }


def pin_hook(host: Host, config: BootConfig) -> Pin | None:
    """The pin step of a boot with ``config`` on ``host`` (:func:`pin_qemu`); None if unpinned."""
    pinned = config.pinned
    if pinned is None:
        return None
    return lambda qemu: pin_qemu(host, qemu, pinned)


@dataclass(frozen=True)
class PinnedGuest:
    """A prepared guest whose every boot is pinned to ``plan`` (the campaign's, per host)."""

    inner: Guest
    plan: PinningPlan

    @property
    def manifest(self) -> Manifest:
        return self.inner.manifest

    def record(self, host: Host) -> dict[str, Any]:
        return self.inner.record(host)

    def boot(self, site: BootSite, request: BootRequest) -> BootRecord:
        socket = qmp_socket(site.host_work)
        # A socket left by a QEMU killed earlier would answer no one: QEMU makes a fresh one.
        site.host.run(["rm", "-f", "--", socket], idempotent=True)
        config = replace(request.config, pinned=Pinned(self.plan, socket))
        return self.inner.boot(site, replace(request, config=config))
