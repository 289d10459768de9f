"""Pure helpers for :class:`~snpappliance.hosts.ssh.SshHost`: argv building and error mapping.

Nothing here runs a program: it turns a destination, a client config and a
command into OpenSSH and rsync argv lists, and turns ssh's exit status and
stderr into the right :mod:`snpappliance.errors` class.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance.errors import (
    AuthenticationError,
    ConfigError,
    ConnectionLostError,
    HostError,
    TransportError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: ssh's own exit status for "the connection failed" (the remote command's status otherwise).
SSH_FAILURE = 255

#: Environment variable naming an alternative ssh client config (like ``--ssh-config``).
SSH_CONFIG_ENV = "SNPAPP_SSH_CONFIG"

# ssh messages that show the connection failed before the remote command was
# started: the TCP connect, the banner or key exchange, a ProxyJump hop, the
# name lookup or the multiplexing master refusing a session. Anything else
# with status 255 (including silence: a multiplexed client whose master lost
# the connection prints nothing) may have come after the command started.
_BEFORE_COMMAND = (
    "ssh: connect to host ",
    "kex_exchange_identification:",
    "ssh_exchange_identification:",
    "banner exchange",
    "Unable to negotiate with",
    "Temporary failure in name resolution",
    "stdio forwarding failed",
    "mux_client_request_session: session request failed",
)

# rsync exit statuses that mean the connection, not the transfer, broke.
_RSYNC_TRANSPORT_CODES = frozenset({10, 12, 30, 35, SSH_FAILURE})

_DESTINATION = re.compile(r"^[A-Za-z0-9_.@%+\[\]:-]+$")

#: Runs ``"$@"`` in its own session and kills that whole session when ssh's stdin
#: reaches EOF, which happens when the local ssh client exits or the connection drops.
SPAWN_WRAPPER = (
    "exec 3<&0; "
    'setsid "$@" </dev/null 3<&- & child=$!; '
    '{ cat <&3 >/dev/null 2>&1; kill -TERM -"$child" 2>/dev/null; sleep 2; '
    'kill -KILL -"$child" 2>/dev/null; } >/dev/null 2>&1 & watcher=$!; '
    "exec 3<&-; "
    'wait "$child"; rc=$?; kill "$watcher" 2>/dev/null; exit "$rc"'
)

#: Seconds a remote command may ignore SIGTERM at its time limit before SIGKILL.
KILL_GRACE_S = 5

#: The last stderr line of a command line that :data:`BOUNDED_WRAPPER` stopped.
TIME_LIMIT_MARKER = "snpapp: remote time limit reached"

#: Exit status of a command line that :data:`BOUNDED_WRAPPER` stopped (coreutils timeout's).
TIME_LIMIT_STATUS = 124

#: Runs ``"$@"`` under coreutils ``timeout`` (SIGTERM to its whole process group at
#: ``$1`` seconds, SIGKILL ``$2`` seconds later), so a time limit ends the command on
#: the host, not only the local ssh client. The inner shell reports the command's own
#: exit status on a private pipe (fd 3, closed for the command itself); an empty
#: report means the limit killed it, which is then told apart from a command that
#: merely exits 124 by :data:`TIME_LIMIT_MARKER`.
BOUNDED_WRAPPER = (
    "limit=$1; grace=$2; shift 2; exec 4>&1; "
    'status=$(timeout --kill-after="$grace" -- "$limit" '
    'sh -c \'"$@" 3>&-; echo "$?" >&3\' snpapp-run "$@" 3>&1 >&4 4>&-); rc=$?; '
    '[ -n "$status" ] && exit "$status"; '
    '[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] || exit "$rc"; '
    f'echo "{TIME_LIMIT_MARKER}" >&2; exit {TIME_LIMIT_STATUS}'
)


@dataclass(frozen=True)
class SshSettings:
    """How snpapp talks to one SSH destination."""

    destination: str
    config: Path | None = None
    control_dir: Path | None = None
    connect_timeout_s: int = 10
    control_persist_s: int = 600
    attempts: int = 4
    backoff_s: float = 1.0
    bwlimit_kib: int | None = None


def validate_destination(destination: str) -> str:
    """``destination`` if it is a plain ssh destination, else :class:`ConfigError`.

    A name that starts with ``-`` would be read by ssh or rsync as an option.
    """
    if not destination or destination.startswith("-") or not _DESTINATION.fullmatch(destination):
        msg = f"{destination!r} is not a valid SSH host name"
        raise ConfigError(
            msg,
            hint="use the host's name or an alias from your ssh config, e.g. --host genoa01",
        )
    return destination


def resolve_config(config: Path | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The client config to use: ``config``, else ``$SNPAPP_SSH_CONFIG``, else ssh's default."""
    env = os.environ if environ is None else environ
    chosen = config
    if chosen is None and env.get(SSH_CONFIG_ENV):
        chosen = Path(env[SSH_CONFIG_ENV])
    if chosen is not None and not chosen.is_file():
        msg = f"ssh client config {chosen} does not exist"
        raise ConfigError(
            msg,
            hint=f"pass an existing file with --ssh-config, or unset {SSH_CONFIG_ENV}",
        )
    return chosen


def default_control_dir() -> Path:
    """A private directory for ControlMaster sockets (``$XDG_RUNTIME_DIR`` or the temp dir)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"snpapp-ssh-{os.getuid()}"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` with mode 0700, or raise if someone else owns it or can enter it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        msg = (
            f"the ssh control directory {path} is not private (owner uid {st.st_uid}, "
            f"mode {st.st_mode & 0o777:o})"
        )
        raise HostError(
            msg,
            hint=f"remove {path} or make it yours with mode 0700 (chmod 700 {path})",
        )
    return path


def control_path(settings: SshSettings) -> str:
    """ControlPath for ``settings``: one socket per config file and connection (``%C``)."""
    directory = settings.control_dir or default_control_dir()
    tag = hashlib.sha256(os.fspath(settings.config or "").encode()).hexdigest()[:8]
    return os.fspath(directory / f"{tag}-%C")


def ssh_options(settings: SshSettings) -> list[str]:
    """ssh options shared by every command, rsync's ``-e`` and ``ssh -O``."""
    opts = ["ssh"]
    if settings.config is not None:
        opts += ["-F", os.fspath(settings.config)]
    opts += [
        "-o", "BatchMode=yes",
        "-o", f"ConnectTimeout={settings.connect_timeout_s}",
        "-o", "ServerAliveInterval=15",
        "-o", "ServerAliveCountMax=4",
        "-o", "ControlMaster=auto",
        "-o", f"ControlPath={control_path(settings)}",
        "-o", f"ControlPersist={settings.control_persist_s}",
    ]  # fmt: skip
    return opts


def remote_command(
    argv: Sequence[str], env: Mapping[str, str] | None = None, *, limit_s: float | None = None
) -> str:
    """The command line the remote shell runs: every argument quoted.

    With ``limit_s`` the command runs under :data:`BOUNDED_WRAPPER` and is stopped
    on the host after that many seconds.
    """
    if not argv:
        msg = "empty command"
        raise ValueError(msg)
    prefix = ["env", *(f"{k}={v}" for k, v in env.items())] if env else []
    if limit_s is None:
        return shlex.join([*prefix, *argv])
    # Three decimals, never 0: timeout reads a duration of 0 as "no limit".
    limit = f"{max(limit_s, 0.001):.3f}"
    wrapper = ["sh", "-c", BOUNDED_WRAPPER, "snpapp-bounded", limit, str(KILL_GRACE_S)]
    return shlex.join([*wrapper, *prefix, *argv])


def local_deadline_s(settings: SshSettings, limit_s: float) -> float:
    """How long the local ssh client may take for a command limited to ``limit_s`` on the host.

    Past the remote limit it gets the kill grace, a connection set-up and a margin,
    so the host's own limit normally fires first and the local one only when the
    connection stops answering.
    """
    return limit_s + KILL_GRACE_S + settings.connect_timeout_s + 5


def stopped_by_limit(returncode: int, stderr: str) -> bool:
    """Whether :data:`BOUNDED_WRAPPER` stopped the command (not: it exited 124 itself)."""
    lines = stderr.splitlines()
    return returncode == TIME_LIMIT_STATUS and bool(lines) and lines[-1] == TIME_LIMIT_MARKER


def without_marker(stderr: str) -> str:
    """``stderr`` less the :data:`TIME_LIMIT_MARKER` line the wrapper added."""
    return "\n".join(line for line in stderr.splitlines() if line != TIME_LIMIT_MARKER)


def ssh_argv(settings: SshSettings, command: str) -> list[str]:
    """Full argv running the shell command line ``command`` on the destination."""
    return [*ssh_options(settings), "--", settings.destination, command]


def forward_argv(settings: SshSettings, operation: str, local: Path, remote: str) -> list[str]:
    """``ssh -O forward|cancel -L local:remote``: a unix socket forward on the master connection."""
    if ":" in os.fspath(local) or ":" in remote:
        msg = f"cannot forward a socket path with ':' in it ({local} -> {remote})"
        raise ConfigError(msg, hint="use socket paths without ':'")
    spec = f"{os.fspath(local)}:{remote}"
    return [*ssh_options(settings), "-O", operation, "-L", spec, "--", settings.destination]


def spawn_command(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """Remote command line that runs ``argv`` under :data:`SPAWN_WRAPPER`."""
    prefix = ["env", *(f"{k}={v}" for k, v in env.items())] if env else []
    return shlex.join(["sh", "-c", SPAWN_WRAPPER, "snpapp-spawn", *prefix, *argv])


def rsync_argv(settings: SshSettings, src: str, dst: str) -> list[str]:
    """rsync over the same ssh settings (and master connection); resumable."""
    argv = [
        "rsync", "--archive", "--partial", "--partial-dir=.snpapp-partial",
        "--protect-args", "--timeout=120",
        "-e", shlex.join(ssh_options(settings)),
    ]  # fmt: skip
    if settings.bwlimit_kib:
        argv.append(f"--bwlimit={settings.bwlimit_kib}")
    return [*argv, "--", src, dst]


def _first_line(stderr: str, needle: str) -> str:
    for line in stderr.splitlines():
        if needle.lower() in line.lower():
            return line.strip()
    return needle


def auth_error(destination: str, stderr: str) -> AuthenticationError | None:
    """The :class:`AuthenticationError` that ssh's ``stderr`` describes, if any."""
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr or "Host key for" in stderr:
        return AuthenticationError(
            f"the SSH host key of {destination} has changed: the connection was refused",
            detail=_first_line(stderr, "Offending"),
            hint=(
                "if the host was reinstalled, verify its new key fingerprint out of band, "
                f"remove the old one with `ssh-keygen -R <hostname>` and connect once with "
                f"`ssh {destination}`; snpapp never disables host-key checking"
            ),
        )
    if "Host key verification failed" in stderr:
        return AuthenticationError(
            f"the SSH host key of {destination} is not known or does not match known_hosts",
            detail=_first_line(stderr, "Host key verification failed"),
            hint=(
                f"connect once with `ssh {destination}` and check the fingerprint it shows, "
                "or add the host's key to your known_hosts file"
            ),
        )
    if "Permission denied (" in stderr or "Too many authentication failures" in stderr:
        return AuthenticationError(
            f"SSH authentication to {destination} failed",
            detail=_first_line(stderr, "Permission denied"),
            hint=(
                "load your key into the agent (`ssh-add`) or set IdentityFile for "
                f"{destination} in your ssh config; `ssh {destination} true` must work "
                "without a password prompt (snpapp runs ssh with BatchMode=yes)"
            ),
        )
    return None


def config_error(destination: str, stderr: str) -> HostError | None:
    """A non-transient problem with the name or the client config, if ``stderr`` shows one."""
    # "Temporary failure in name resolution" is the resolver, not the name: retried.
    if "Could not resolve hostname" in stderr and "Temporary failure" not in stderr:
        return HostError(
            f"the host name {destination} cannot be resolved",
            detail=_first_line(stderr, "Could not resolve hostname"),
            hint="check the name, or add a Host entry for it to ~/.ssh/config (or --ssh-config)",
        )
    if "Bad configuration option" in stderr or "Can't open user config file" in stderr:
        return HostError(
            "the ssh client configuration is invalid",
            detail=_first_line(stderr, "config"),
            hint="fix the ssh config file (run `ssh -G <host>` to see what ssh reads)",
        )
    return None


def failed_before_command(stderr: str) -> bool:
    """Whether ssh's ``stderr`` shows that the remote command was never started."""
    return any(needle.lower() in stderr.lower() for needle in _BEFORE_COMMAND)


def classify_ssh_failure(destination: str, stderr: str, what: str) -> HostError:
    """The error for an ssh exit status 255.

    Authentication and config errors first; then a :class:`TransportError` when
    the connection failed before the command started (always safe to retry),
    else a :class:`ConnectionLostError`: the command may have partly run.
    """
    known = auth_error(destination, stderr) or config_error(destination, stderr)
    if known is not None:
        return known
    last = "\n".join([line for line in stderr.splitlines() if line.strip()][-5:]) or None
    if failed_before_command(stderr):
        return TransportError(
            f"the SSH connection to {destination} failed while {what}",
            detail=last,
            hint=f"check that {destination} is up and reachable: `ssh {destination} true`",
        )
    return ConnectionLostError(
        f"the SSH connection to {destination} was lost while {what}, which may have "
        f"partly run there",
        detail=last or "ssh exited with status 255 and said nothing more",
        hint=f"snpapp repeats a command after a lost connection only when that is safe; "
        f"check what it changed on {destination}, then run the snpapp command again once "
        f"`ssh {destination} true` works",
    )


def classify_rsync_failure(destination: str, returncode: int, stderr: str) -> HostError:
    """The error for a failed rsync: connection problems are transport errors (retried)."""
    known = auth_error(destination, stderr) or config_error(destination, stderr)
    if known is not None:
        return known
    last = "\n".join([line for line in stderr.splitlines() if line.strip()][-5:]) or None
    if "command not found" in stderr or returncode == 127:
        return HostError(
            f"rsync is not installed on {destination}",
            detail=last,
            hint=f"install it there: `ssh {destination} sudo apt-get install rsync`",
        )
    if returncode in _RSYNC_TRANSPORT_CODES:
        return TransportError(
            f"the file transfer to or from {destination} was interrupted (rsync exit "
            f"status {returncode})",
            detail=last,
            hint="run the command again: rsync resumes partially transferred files",
        )
    return HostError(
        f"rsync to or from {destination} failed with exit status {returncode}",
        detail=last,
        hint="check the paths, the free space and the permissions on both sides",
    )
