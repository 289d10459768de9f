"""``deploy --reboot``: boot the deployed kernel once, confirm it works, then keep it.

The kernel was selected with ``grub-reboot`` (next boot only), so if the new
kernel does not come up, a power cycle returns to the old default. Only after
the host answers over SSH with the deployed ``uname -r`` and doctor passes does
``grub-set-default`` make the new kernel permanent.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from snpappliance.deploy.system import SystemMode, SystemStep, make_default_step, reboot_step
from snpappliance.doctor.run import run_doctor
from snpappliance.errors import AuthenticationError, CommandTimeoutError, DeployError, HostError

if TYPE_CHECKING:
    from snpappliance.deploy.execute import Say
    from snpappliance.deploy.plan import DeployPlan
    from snpappliance.hosts.base import Host

BOOT_ID = "/proc/sys/kernel/random/boot_id"
#: What a host going down or coming up looks like over SSH: no connection, a lost
#: one, or one that stops answering (a host that powers off sends no TCP reset, so
#: a command on the multiplexed connection hangs until ssh is killed at its limit).
NOT_ANSWERING = (HostError, CommandTimeoutError)


def boot_id(host: Host) -> str:
    return host.run(["cat", BOOT_ID], timeout=30, idempotent=True).stdout.strip()


def wait_for_boot(
    host: Host,
    *,
    old_boot_id: str,
    kernel: str,
    timeout_s: float,
    poll_s: float,
    say: Say,
    hint: str | None = None,
) -> None:
    """Wait until ``host`` answers from a new boot, then check it runs ``kernel``.

    ``hint`` tells the user what to do when the host does not come back or runs
    another kernel (default: the advice after ``deploy --reboot``).
    """
    hint = hint or rollback_hint(host.name)
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if elapsed > timeout_s:
            msg = f"{host.name} did not come back within {timeout_s:.0f} s after the reboot"
            raise DeployError(
                msg,
                hint=hint,
            )
        try:
            ask = ["sh", "-c", f"cat {BOOT_ID}; uname -r"]
            answer = host.run(ask, timeout=30, idempotent=True).stdout.split()
        except AuthenticationError:
            raise
        except NOT_ANSWERING:
            say(
                f"waiting for {host.name} to answer over SSH ({elapsed:.0f} s of {timeout_s:.0f} s)"
            )
            time.sleep(poll_s)
            continue
        if answer and answer[0] != old_boot_id:
            running = answer[1] if len(answer) > 1 else "unknown"
            if running != kernel:
                msg = f"{host.name} came back with kernel {running}, not the expected {kernel}"
                raise DeployError(
                    msg,
                    hint="the kernel did not boot (GRUB fell back to another entry); check "
                    "the host's console. " + hint,
                )
            return
        say(f"{host.name} has not gone down yet ({elapsed:.0f} s)")
        time.sleep(poll_s)


def rollback_hint(host: str) -> str:
    return (
        f"the old kernel is still the GRUB default, so a plain reboot returns to it; "
        f"`snpapp deploy --rollback --host {host}` switches back to the previous release "
        "and makes its kernel the default"
    )


def reboot_into(
    host: Host, kernel: str, reboot: SystemStep, *, timeout_s: float, say: Say, hint: str
) -> None:
    """Reboot ``host`` with ``reboot`` and wait until it answers running ``kernel``."""
    before = boot_id(host)
    say(f"rebooting {host.name} into {kernel}")
    # The connection may drop while the host shuts down.
    with contextlib.suppress(*NOT_ANSWERING):
        host.run(list(reboot.argv), check=False, timeout=60)
    wait_for_boot(
        host, old_boot_id=before, kernel=kernel, timeout_s=timeout_s, poll_s=10, say=say, hint=hint
    )


def reboot_and_confirm(
    host: Host, plan: DeployPlan, *, mode: SystemMode, timeout_s: float, say: Say
) -> None:
    """Reboot into the deployed kernel, wait, run doctor, then make the kernel the default."""
    kernel = plan.info.kernel_release
    if kernel is None:
        msg = "--reboot needs a host kernel in the release, and this one has none"
        raise DeployError(
            msg,
            hint="build the kernel (`snpapp build kernel`) or deploy without --reboot",
        )
    default = make_default_step(kernel, sudo=plan.sudo)
    reboot = reboot_step(sudo=plan.sudo)
    if mode is SystemMode.CHECK:
        check = host.run(list(reboot.check_argv), check=False, idempotent=True)
        say(f"[check] {reboot.title}\n    would run: {reboot.command} "
            f"({'ok' if check.ok else 'would fail: systemctl missing'})\n"
            f"    then wait up to {timeout_s:.0f} s for uname -r = {kernel}, run doctor and "
            f"run: {default.command}")  # fmt: skip
        return
    reboot_into(host, kernel, reboot, timeout_s=timeout_s, say=say, hint=rollback_hint(host.name))
    report = run_doctor(host, prefix=plan.prefix)
    if not report.ok:
        failed = ", ".join(c.id for c in report.blocking)
        msg = (
            f"{host.name} runs {kernel} but the SEV-SNP preflight fails ({failed}); "
            "the kernel was not made the default"
        )
        raise DeployError(
            msg,
            detail="\n".join(f"{c.title}: {c.evidence}" for c in report.blocking),
            hint=f"see `snpapp doctor --host {host.name}`; " + rollback_hint(host.name),
        )
    host.run(list(default.argv))
    say(f"{kernel} passed doctor and is now the default kernel of {host.name}")
