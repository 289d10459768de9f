"""``deploy --rollback``: return to the previous release and boot its kernel by default.

The host's links say which release is current and which was before it; the
previous release's ``release.json`` names its kernel. The kernel becomes the
GRUB default first (``grub-set-default``, the same selection script deploy
uses), then ``current`` and ``previous`` swap, each link replaced atomically.
The running kernel only changes at the next boot (``--reboot`` does it now).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from snpappliance.deploy.execute import Say, check_privileges, run_system_steps
from snpappliance.deploy.plan import RollbackPlan, plan_rollback
from snpappliance.deploy.reboot import reboot_into
from snpappliance.deploy.system import SystemMode, reboot_step
from snpappliance.errors import DeployError, InputError
from snpappliance.formats.release import PREVIOUS_LINK, RELEASE_JSON, ReleaseInfo

if TYPE_CHECKING:
    from snpappliance.hosts.base import Host

#: $1 prefix. Prints where current and previous point, then previous's release.json.
READ = (
    'cd "$1" && cur=$(readlink current) && prev=$(readlink previous) || exit 3; '
    '[ -d "$prev" ] || { echo "$prev is gone" >&2; exit 4; }; '
    'printf "%s\\n%s\\n" "$cur" "$prev" && cat -- "$prev/release.json"'
)
#: $1 prefix, $2 current, $3 previous (as read): swap them, unless a deploy moved them since.
SWAP = (
    'cd "$1" && [ "$(readlink current)" = "$2" ] && [ "$(readlink previous)" = "$3" ] || '
    '{ echo "current or previous changed while rolling back" >&2; exit 5; }; '
    'ln -sfn -- "$3" .current.tmp && mv -T -- .current.tmp current && '
    'ln -sfn -- "$2" .previous.tmp && mv -T -- .previous.tmp previous'
)
NO_PREVIOUS_HINT = (
    "`snpapp deploy` keeps the release it replaces as the previous one; "
    "a first deploy has nothing to return to"
)


def read_rollback(host: Host, prefix: str, *, sudo: bool) -> RollbackPlan:
    """Plan the rollback from the host's links and the previous ``release.json`` (read only)."""
    result = host.run(["sh", "-c", READ, "snpapp-rollback", prefix], check=False, idempotent=True)
    if result.returncode == 3:
        msg = f"cannot roll back on {host.name}: no {PREVIOUS_LINK} release under {prefix}"
        raise DeployError(
            msg,
            hint=NO_PREVIOUS_HINT,
        )
    lines = result.stdout.split("\n", 2)
    if not result.ok or len(lines) < 3:
        msg = f"cannot roll back on {host.name}: {result.stderr.strip() or 'unreadable links'}"
        raise DeployError(
            msg,
            hint=f"the previous release must be a complete snpapp release with {RELEASE_JSON}; "
            f"look at {prefix} on the host",
        )
    current, previous, text = lines
    try:
        info = ReleaseInfo.from_json(text)
    except InputError as exc:
        msg = f"{previous} on {host.name}: {exc.message}"
        raise DeployError(msg, hint=exc.hint) from exc
    return plan_rollback(
        host.name, prefix, current=current, previous=previous, previous_info=info, sudo=sudo
    )


def execute_rollback(
    host: Host, plan: RollbackPlan, *, mode: SystemMode, reboot: bool, timeout_s: float, say: Say
) -> None:
    """Select the previous kernel (or check that it could be), swap the links, maybe reboot."""
    kernel, default = plan.kernel_release, plan.boot_default
    default_set = False
    if kernel is None or default is None:
        if reboot:
            msg = (
                f"--reboot with --rollback boots the previous release's kernel, and "
                f"{plan.previous} has none"
            )
            raise DeployError(
                msg,
                hint="roll back without --reboot; nothing was changed",
            )
    else:
        uid = host.run(["id", "-u"], idempotent=True).stdout.strip()
        check_privileges(host, uid=uid, mode=mode, sudo=plan.sudo)
        run_system_steps(host, (default,), mode, say, apply_timeout_s=300)
        default_set = mode is SystemMode.APPLY
    result = host.run(
        ["sh", "-c", SWAP, "snpapp-rollback", plan.prefix, plan.current, plan.previous],
        check=False,
    )
    if not result.ok:
        changed = f"kernel {kernel} is the boot default now; " if default_set else ""
        msg = f"rollback on {host.name} failed: {result.stderr.strip()}"
        raise DeployError(
            msg,
            hint=f"{changed}see where {plan.prefix}/current and previous point now, "
            "then roll back again if needed",
        )
    say(f"rolled back {host.name}: current is {plan.previous} again (was {plan.current})")
    say(_boot_summary(plan, mode=mode, reboot=reboot))
    if not reboot or kernel is None:
        return
    reboot_cmd = reboot_step(sudo=plan.sudo)
    if mode is SystemMode.CHECK:
        check = host.run(list(reboot_cmd.check_argv), check=False, idempotent=True)
        say(f"[check] {reboot_cmd.title}\n    would run: {reboot_cmd.command} "
            f"({'ok' if check.ok else 'would fail: systemctl missing'})\n"
            f"    then wait up to {timeout_s:.0f} s for uname -r = {kernel}")  # fmt: skip
        return
    reboot_into(
        host, kernel, reboot_cmd, timeout_s=timeout_s, say=say,
        hint=f"check the host's console; {kernel} is the GRUB default of {host.name}",
    )  # fmt: skip
    say(f"{host.name} runs {kernel} again")


def _boot_summary(plan: RollbackPlan, *, mode: SystemMode, reboot: bool) -> str:
    """What happened to the boot default, and what the user still has to do."""
    if plan.kernel_release is None:
        return (
            f"{plan.previous} has no host kernel: the boot default of {plan.host} was left "
            "unchanged"
        )
    if mode is SystemMode.CHECK:
        return (
            f"the boot default of {plan.host} was left unchanged (--system-steps check); "
            f"applied, the rollback makes kernel {plan.kernel_release} the default"
        )
    after = "rebooting now" if reboot else f"reboot {plan.host} to run it (or pass --reboot)"
    return f"kernel {plan.kernel_release} is now the boot default of {plan.host}; {after}"
