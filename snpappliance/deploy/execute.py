"""Carry out a :class:`~snpappliance.deploy.plan.DeployPlan` on a host.

Order matters for safety: the release is uploaded into a staging directory with
a fixed name (so an interrupted upload resumes), verified file by file with
``sha256sum`` on the host, renamed into place, and only then are the system
steps run and the ``current`` link switched (atomically: ``ln -sfn`` to a
temporary name, then ``mv -T``). Until that last rename, the previous release
stays the current one.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance.deploy.plan import DeployPlan, Unpack, unpack_tar_argv
from snpappliance.deploy.system import (
    HOST_PROBE,
    SUDO_PROBE,
    SystemMode,
    SystemStep,
    host_fit_problems,
)
from snpappliance.errors import DeployError
from snpappliance.formats.release import CURRENT_LINK, SUMS_FILE
from snpappliance.hosts.keyvalues import parse_key_values
from snpappliance.log import step

if TYPE_CHECKING:
    from snpappliance.hosts.base import Host

Say = Callable[[str], None]

VERIFY = 'cd "$1" && sha256sum --check --strict --quiet SHA256SUMS 2>&1'
WRITE = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"'
#: $1 staging directory, $2 the directory to unpack into, then tar's argv.
UNPACK = (
    'cd "$1" && into=$2 && shift 2 && rm -rf -- "$into" && mkdir -p -- "$into" && "$@" '
    '&& find "$into" -type f -exec sha256sum -- {} + >> SHA256SUMS'
)
#: $1 prefix, $2 new target (relative to the prefix). previous := old current.
SWITCH = (
    'cd "$1" && old=$(readlink current 2>/dev/null || true); '
    'if [ -n "$old" ] && [ "$old" != "$2" ]; then '
    'ln -sfn -- "$old" .previous.tmp && mv -T -- .previous.tmp previous; fi; '
    'ln -sfn -- "$2" .current.tmp && mv -T -- .current.tmp current && echo "${old:-none}"'
)


@dataclass(frozen=True)
class SystemResult:
    step: SystemStep
    ok: bool
    message: str


@dataclass
class DeployOutcome:
    """What a deploy did (reported to the user and returned to callers)."""

    release: str
    path: str
    reused: bool = False
    previous: str | None = None
    system: list[SystemResult] = field(default_factory=list)


def probe_host(
    host: Host, prefix: str, *, force: bool, mode: SystemMode, sudo: bool, say: Say
) -> dict[str, str]:
    """Refuse a host that cannot take the release, before anything is uploaded.

    The system steps must be able to run (as root, or through passwordless sudo
    with ``sudo``), the SSH user must be able to write the prefix (the upload
    never goes through sudo), and the architecture and OS must fit (unless
    ``force``).
    """
    argv = ["sh", "-c", HOST_PROBE, "snpapp-probe", prefix]
    probe = parse_key_values(host.run(argv, idempotent=True).stdout)
    check_privileges(host, uid=probe.get("uid"), mode=mode, sudo=sudo)
    if probe.get("blocked"):
        raise prefix_not_writable(host.name, prefix, probe["blocked"], probe.get("user", "?"))
    problems = host_fit_problems(probe)
    if problems and not force:
        msg = f"{host.name} does not fit a snpapp release: {'; '.join(problems)}"
        raise DeployError(
            msg,
            hint="snpapp deploys x86_64 Debian/Ubuntu hosts; pass --force to deploy anyway",
        )
    for problem in problems:
        say(f"warning: {problem} (continuing because of --force)")
    return probe


def check_privileges(host: Host, *, uid: str | None, mode: SystemMode, sudo: bool) -> None:
    """The system steps can run: through sudo that needs no password, or as root."""
    if sudo:
        result = host.run(list(SUDO_PROBE), check=False, timeout=60, idempotent=True)
        refusal = sudo_refusal(host.name, result.returncode, result.stderr or result.stdout)
        if refusal is not None:
            raise refusal
        return
    if mode is SystemMode.APPLY and uid != "0":
        msg = (
            f"installing the kernel and boot settings needs root on {host.name} "
            f"(connected as uid {uid or 'unknown'})"
        )
        raise DeployError(
            msg,
            hint="pass --sudo if the SSH user has passwordless sudo, connect as root (User "
            "root for this host in your ssh config), or pass --system-steps check to "
            "upload the release and only validate those steps",
        )


def sudo_refusal(host: str, returncode: int, output: str) -> DeployError | None:
    """Why ``sudo -n true`` failed on ``host`` (``None``: it worked)."""
    if returncode == 0:
        return None
    if returncode == 127:  # the remote shell did not find sudo
        return DeployError(
            f"--sudo: sudo is not installed on {host}",
            hint="install it there (apt-get install sudo) and give the SSH user passwordless "
            "sudo, or connect as root and leave out --sudo",
        )
    return DeployError(
        f"--sudo: sudo on {host} does not run commands without a password",
        detail=output.strip() or f"sudo -n true exited with status {returncode}",
        hint="the system steps run as `sudo -n -- <command>` (dpkg, install, sh for GRUB, "
        "systemctl) and cannot answer a password prompt: give the SSH user passwordless "
        "sudo (a NOPASSWD rule in /etc/sudoers.d/), or connect as root and leave out --sudo",
    )


def prefix_not_writable(host: str, prefix: str, blocked: str, user: str) -> DeployError:
    """The upload (as the SSH user, never through sudo) cannot write ``blocked``."""
    if blocked in (prefix, f"{prefix}/releases"):
        fix = f"give it to {user} once: ssh {host} sudo chown -R {user} {shlex.quote(prefix)}"
    else:
        fix = f"create it once, owned by {user}: ssh {host} sudo install -d -o {user} " + (
            shlex.quote(prefix)
        )
    return DeployError(
        f"{user} cannot write {blocked} on {host}, so the release cannot be uploaded to {prefix}",
        hint=f"the release is uploaded as the SSH user, not through sudo: pass --prefix with "
        f"a directory {user} can write, or {fix}",
    )


def failed_paths(output: str) -> list[str]:
    """Files ``sha256sum --check`` reported as failed or missing."""
    failed = []
    for line in output.splitlines():
        if line.endswith((": FAILED", ": FAILED open or read")):
            failed.append(line.rsplit(": FAILED", 1)[0])
    return failed


def verify_remote(host: Host, directory: str) -> list[str]:
    result = host.run(
        ["sh", "-c", VERIFY, "snpapp-verify", directory], check=False, idempotent=True
    )
    if result.ok:
        return []
    return failed_paths(result.stdout) or [result.stdout.strip() or f"{SUMS_FILE} unreadable"]


def _upload(host: Host, plan: DeployPlan, components: set[str] | None = None) -> None:
    host.run(["mkdir", "-p", "--", plan.staging], idempotent=True)
    for up in plan.uploads:
        if components is None or up.component in components:
            with step(f"upload {up.component}"):
                host.put(Path(up.source), up.target)
    for meta in plan.metadata:
        target = f"{plan.staging}/{meta.path}"
        host.run(["sh", "-c", WRITE, "snpapp-write", target], input=meta.content)


def _verify_staging(host: Host, plan: DeployPlan, say: Say) -> None:
    with step(f"verify every SHA-256 on {host.name}"):
        bad = verify_remote(host, plan.staging)
        if bad:
            say(f"{len(bad)} file(s) differ on the host; uploading them again")
            host.run(["sh", "-c", 'cd "$1" && shift && rm -f -- "$@"', "snpapp-rm",
                      plan.staging, *bad])  # fmt: skip
            _upload(host, plan, {path.split("/", 1)[0] for path in bad})
            bad = verify_remote(host, plan.staging)
        if bad:
            msg = f"the upload to {host.name} is corrupt: {len(bad)} file(s) do not match"
            raise DeployError(
                msg,
                detail="\n".join(bad[:10]),
                hint="check the host's disk and memory; the current release was not changed",
            )


def unpack_argv(staging: str, unpack: Unpack) -> list[str]:
    """Unpack a verified tarball in ``staging`` and add its files to ``SHA256SUMS``."""
    return ["sh", "-c", UNPACK, "snpapp-unpack", staging, unpack.into, *unpack_tar_argv(unpack)]


def _stage(host: Host, plan: DeployPlan, say: Say) -> None:
    _upload(host, plan)
    _verify_staging(host, plan, say)
    for unpack in plan.unpacks:
        with step(f"unpack {unpack.tarball}"):
            host.run(unpack_argv(plan.staging, unpack))
    host.run(["mv", "-T", "--", plan.staging, plan.final])


def _existing_release(host: Host, plan: DeployPlan, *, force: bool, say: Say) -> bool:
    """True when the same release is already on the host and intact."""
    if not host.run(["test", "-d", plan.final], check=False, idempotent=True).ok:
        return False
    bad = verify_remote(host, plan.final)
    if not bad:
        say(f"release {plan.info.name} is already on {host.name} and verified")
        return True
    if not force:
        msg = f"{plan.final} exists on {host.name} but {len(bad)} file(s) do not match"
        raise DeployError(
            msg,
            detail="\n".join(bad[:10]),
            hint="deploy again with --force to replace it",
        )
    host.run(["rm", "-rf", "--", plan.final])
    return False


def run_system_steps(
    host: Host,
    steps: tuple[SystemStep, ...],
    mode: SystemMode,
    say: Say,
    *,
    apply_timeout_s: float = 1800,
) -> list[SystemResult]:
    """Apply the system steps, or in check mode validate each without changing anything.

    ``apply_timeout_s`` bounds each applied step (the default leaves dpkg and
    mkinitramfs time enough on a slow host).
    """
    results = []
    for sys_step in steps:
        if mode is SystemMode.APPLY:
            with step(sys_step.title):
                host.run(list(sys_step.argv), timeout=apply_timeout_s)
            results.append(SystemResult(sys_step, True, "applied"))
            continue
        check = host.run(list(sys_step.check_argv), check=False, timeout=300, idempotent=True)
        message = "ok" if check.ok else f"would fail: {(check.stderr or check.stdout).strip()}"
        say(f"[check] {sys_step.title}\n    would run: {sys_step.command}\n    check: {message}")
        results.append(SystemResult(sys_step, check.ok, message))
    return results


def switch_current(host: Host, prefix: str, target: str) -> str | None:
    """Point ``current`` at ``target`` (``previous`` at the old one); return the old target."""
    old = host.run(["sh", "-c", SWITCH, "snpapp-switch", prefix, target]).stdout.strip()
    return None if old in ("", "none") else old


def execute_deploy(
    host: Host, plan: DeployPlan, *, mode: SystemMode, force: bool, say: Say
) -> DeployOutcome:
    """Upload, verify, publish, run the system steps and switch ``current``."""
    outcome = DeployOutcome(release=plan.info.name, path=plan.final)
    with step(f"check that {host.name} fits"):
        probe_host(host, plan.prefix, force=force, mode=mode, sudo=plan.sudo, say=say)
    outcome.reused = _existing_release(host, plan, force=force, say=say)
    if not outcome.reused:
        _stage(host, plan, say)
    outcome.system = run_system_steps(host, plan.system, mode, say)
    with step(f"switch {plan.prefix}/{CURRENT_LINK} to {plan.info.name}"):
        outcome.previous = switch_current(host, plan.prefix, plan.link_target)
    return outcome
