"""``snpapp deploy``: install a built release on a host, atomically and verifiably.

:func:`deploy` reads and verifies the stack's artefacts locally, plans the
deploy (:func:`~snpappliance.deploy.plan.plan_deploy`, pure), then carries it
out through the :class:`~snpappliance.hosts.Host` interface. :func:`rollback`
returns ``current`` to the previous release and makes its kernel the boot default.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from snpappliance.deploy.artifacts import load_components
from snpappliance.deploy.execute import DeployOutcome, execute_deploy
from snpappliance.deploy.plan import (
    DeployPlan,
    RollbackPlan,
    check_prefix,
    describe_plan,
    describe_rollback,
    plan_deploy,
)
from snpappliance.deploy.reboot import reboot_and_confirm
from snpappliance.deploy.rollback import execute_rollback, read_rollback
from snpappliance.deploy.system import SystemMode
from snpappliance.hosts.connect import connect
from snpappliance.log import console

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DeployOutcome", "DeployPlan", "RollbackPlan", "SystemMode", "deploy", "rollback"]


def _say(message: str) -> None:
    # Commands must stay copy-pasteable: no markup, no wrapping.
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def _emit(line: str) -> None:
    """One line of data on stdout (a plan's steps, the deployed path), for scripts."""
    sys.stdout.write(f"{line}\n")


def deploy(
    *,
    host: str,
    stack: str,
    artifacts_root: Path,
    prefix: str,
    ssh_config: Path | None = None,
    system_mode: SystemMode = SystemMode.APPLY,
    reboot: bool = False,
    reboot_timeout_s: float = 900,
    dry_run: bool = False,
    force: bool = False,
    bwlimit_kib: int | None = None,
    sudo: bool = False,
) -> DeployOutcome | None:
    """Deploy ``stack``'s artefacts to ``host`` (``None`` for a dry run).

    ``sudo``: the SSH user is not root; the system steps run through ``sudo -n --``.
    """
    components = load_components(artifacts_root, stack)
    plan = plan_deploy(host, prefix, stack, components, sudo=sudo)
    if plan.info.guest is None:
        _say(
            f"warning: {stack} has no built benchmark guest, so campaigns on {host} will not "
            f"find one in the release; build it first: snpapp build guest --stack {stack}"
        )
    if dry_run:
        for line in describe_plan(plan, system_mode=system_mode.value, reboot=reboot):
            _emit(line)
        return None
    with connect(host, ssh_config=ssh_config, bwlimit_kib=bwlimit_kib) as target:
        outcome = execute_deploy(target, plan, mode=system_mode, force=force, say=_say)
        if reboot:
            reboot_and_confirm(target, plan, mode=system_mode, timeout_s=reboot_timeout_s, say=_say)
    _say(f"deployed {plan.info.name} to {host}:{plan.final}"
         + (f" (previous: {outcome.previous})" if outcome.previous else ""))  # fmt: skip
    _emit(plan.final)
    return outcome


def rollback(
    *,
    host: str,
    prefix: str,
    ssh_config: Path | None = None,
    system_mode: SystemMode = SystemMode.APPLY,
    reboot: bool = False,
    reboot_timeout_s: float = 900,
    dry_run: bool = False,
    sudo: bool = False,
) -> RollbackPlan:
    """Make the previous release current again on ``host``, and its kernel the boot default.

    A dry run reads the host's links and the previous ``release.json`` (nothing
    else) to print the plan.
    """
    with connect(host, ssh_config=ssh_config) as target:
        plan = read_rollback(target, check_prefix(prefix), sudo=sudo)
        if dry_run:
            for line in describe_rollback(plan, system_mode=system_mode.value, reboot=reboot):
                _emit(line)
            return plan
        execute_rollback(
            target, plan, mode=system_mode, reboot=reboot, timeout_s=reboot_timeout_s, say=_say
        )
    return plan
