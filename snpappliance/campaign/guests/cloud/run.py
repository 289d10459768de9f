"""One boot of the cloud guest: fresh overlay, QEMU, SSH readiness, the workload, power-off.

QEMU runs on the host with its serial console written to ``<log>.console``. The
guest counts as booted once SSH answers and cloud-init's ready file exists
(bounded by ``timeouts.boot_s``); the workload then runs over SSH with the same
marker protocol as the minimal guest, its session watched by
:func:`~snpappliance.campaign.boot.boot_guest` (hard deadline included), and its
output judged unchanged. The guest is powered off, QEMU killed if it lingers, and
the run's overlay deleted, whatever happened.
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from snpappliance.campaign.boot import SHUTDOWN_S, BootLimits, BootRecord, Outcome, boot_guest
from snpappliance.campaign.guests.cloud.assets import CampaignFiles, CloudGuest
from snpappliance.campaign.guests.cloud.guestssh import (
    POWEROFF_COMMAND,
    GuestLogin,
    guest_script,
    host_ssh_argv,
    ready_command,
    run_command,
)
from snpappliance.campaign.guests.cloud.image import create_overlay
from snpappliance.campaign.guests.cloud.qemuargs import CloudDrives, cloud_qemu_argv
from snpappliance.campaign.pinned import pin_hook

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from snpappliance.campaign.qemu import BootConfig
    from snpappliance.campaign.spec import Workload
    from snpappliance.hosts.base import Host

#: Seconds between SSH readiness probes.
POLL_S = 3.0
#: Host-local ports the guest's SSH is forwarded to (one is drawn per boot).
PORT_RANGE = (20000, 60000)
#: How long the workload's SSH session may take to print its BEGIN marker.
SESSION_START_S = 60.0
#: Bound of one short SSH command (probe, power-off), enforced on the host by coreutils
#: timeout so that a stuck session ends as a failed probe, never as a stuck campaign.
SHORT_SSH_S = 45


def _short(argv: list[str]) -> list[str]:
    return ["timeout", str(SHORT_SSH_S), *argv]


@dataclass(frozen=True)
class CloudRun:
    """What every cloud boot of a campaign on one host shares."""

    guest: CloudGuest
    files: CampaignFiles
    #: The campaign's work directory on the host (overlays go there).
    host_dir: str
    disk_gib: int


def draw_port() -> int:
    """A host-local port for the guest's SSH; a port in use makes QEMU fail, and the retry
    draws another."""
    return random.SystemRandom().randrange(*PORT_RANGE)


def _wait_ready(
    host: Host,
    login: GuestLogin,
    ready_file: str,
    qemu: subprocess.Popen[bytes],
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> str | None:
    """None once the guest is ready; else the outcome (QEMU exited, or boot timeout)."""
    probe = _short(host_ssh_argv(login, ready_command(ready_file)))
    while clock() < deadline:
        if qemu.poll() is not None:
            return Outcome.EXITED
        if host.run(probe, check=False, timeout=SHORT_SSH_S + 30, idempotent=True).ok:
            return None
        sleep(POLL_S)
    return Outcome.BOOT_TIMEOUT


def _failed_boot(
    log: Path,
    argv: tuple[str, ...],
    console: Path,
    outcome: str,
    rc: int | None,
    t: float,
    pinning: dict[str, Any] | None,
) -> BootRecord:
    serial = console.read_text(encoding="utf-8", errors="replace") if console.exists() else ""
    log.write_text(
        f"# {' '.join(argv)}\n# snpapp: the guest's SSH was not ready ({outcome}, qemu exit "
        f"status {rc}, {t:.2f} s); serial console follows\n{serial}",
        encoding="utf-8",
    )
    return BootRecord("", outcome, rc, None, None, None, t, pinning)


def cloud_boot(
    host: Host,
    cfg: BootConfig,
    cloud: CloudRun,
    workload: Workload,
    log: Path,
    limits: BootLimits,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    attest_step: str = "",
) -> BootRecord:
    """Boot one fresh cloud guest, run ``workload`` in it, and return what it printed.

    A pinned boot's QEMU (``cfg.pinned``) is pinned and continued before the clock starts.
    """
    overlay = f"{cloud.host_dir}/{cfg.run_id}.qcow2"
    files = cloud.files
    login = GuestLogin(files.user, files.key, files.known_hosts, draw_port())
    argv = cloud_qemu_argv(cfg, CloudDrives(overlay, files.seed, login.port))
    console = log.with_suffix(".console")
    log.parent.mkdir(parents=True, exist_ok=True)
    pin = pin_hook(host, cfg)
    create_overlay(host, cloud.guest.qemu_img, cloud.guest.base_image, overlay, cloud.disk_gib)
    try:
        with console.open("wb") as serial, host.spawn(list(argv), stdout=serial) as qemu:
            pinning = None if pin is None else pin(qemu)
            start = clock()
            missed = _wait_ready(
                host, login, files.ready_file, qemu, start + limits.boot_s, clock, sleep
            )
            if missed is not None:
                t = clock() - start
                return _failed_boot(log, argv, console, missed, qemu.poll(), t, pinning)
            script = guest_script(
                cfg.run_id, workload, cfg.vcpus, cfg.watchdog_s, attest_step=attest_step
            )
            offset = clock() - start
            session = BootLimits(SESSION_START_S, max(limits.hard_s - offset, SESSION_START_S))
            record = boot_guest(host, host_ssh_argv(login, run_command(script)), log, session)
            poweroff = _short(host_ssh_argv(login, POWEROFF_COMMAND))
            # A second poweroff finds the guest going down or gone: safe to repeat.
            host.run(poweroff, check=False, timeout=SHORT_SSH_S + 30, idempotent=True)
            with contextlib.suppress(subprocess.TimeoutExpired):  # leaving spawn kills it
                qemu.wait(timeout=SHUTDOWN_S)
    finally:
        host.run(["rm", "-f", "--", overlay], check=False, idempotent=True)
    return replace(_shifted(record, offset), pinning=pinning)


def _shifted(record: BootRecord, offset: float) -> BootRecord:
    """Times relative to QEMU's start, like the minimal guest's."""

    def add(t: float | None) -> float | None:
        return None if t is None else round(t + offset, 3)

    return replace(
        record,
        t_init=add(record.t_init),
        t_begin=add(record.t_begin),
        t_end=add(record.t_end),
        t_exit=record.t_exit + offset,
    )
