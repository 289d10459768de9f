"""A host reached with the system OpenSSH client.

The user's ssh does the work, so ProxyJump, agents, keys and known_hosts behave
exactly as for ``ssh genoa01`` on the command line. snpapp only adds: batch mode
(never a prompt), one multiplexed master connection per host (ControlMaster in a
private directory), quoting of every remote argument, time limits that stop the
command on the host too (not only the local client), bounded retries of
connections that fail before the command starts (and of connections lost while
it runs only for commands the caller declares idempotent) and clear errors for
authentication and host-key failures.
Host-key checking is left as the user configured it and is never turned off.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from snpappliance import proc
from snpappliance.errors import (
    CommandError,
    CommandTimeoutError,
    ConnectionLostError,
    HostError,
    TransportError,
)
from snpappliance.hosts import sshcmd
from snpappliance.hosts.base import Host
from snpappliance.hosts.sshcmd import SshSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

log = logging.getLogger("snpapp.ssh")

T = TypeVar("T")


class SshHost(Host):
    """:class:`~snpappliance.hosts.base.Host` reached through ``ssh <destination>``."""

    def __init__(self, settings: SshSettings) -> None:
        sshcmd.validate_destination(settings.destination)
        self._settings = settings
        sshcmd.ensure_private_dir(Path(sshcmd.control_path(settings)).parent)

    @classmethod
    def connect(
        cls, destination: str, *, ssh_config: Path | None = None, bwlimit_kib: int | None = None
    ) -> SshHost:
        """An :class:`SshHost` for ``destination`` with the chosen client config."""
        config = sshcmd.resolve_config(ssh_config)
        return cls(SshSettings(destination=destination, config=config, bwlimit_kib=bwlimit_kib))

    @property
    def name(self) -> str:
        return self._settings.destination

    @property
    def is_local(self) -> bool:
        return False

    @property
    def settings(self) -> SshSettings:
        return self._settings

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        check: bool = True,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        idempotent: bool = False,
    ) -> proc.Completed:
        """Run ``argv`` on the host; with ``timeout`` it is stopped there too, not only here.

        Connections that fail before the command starts are retried; one lost
        while it ran only when ``idempotent`` (else :class:`ConnectionLostError`).
        """
        command = sshcmd.remote_command(argv, env)
        ssh = sshcmd.ssh_argv(self._settings, sshcmd.remote_command(argv, env, limit_s=timeout))
        local_s = None if timeout is None else sshcmd.local_deadline_s(self._settings, timeout)

        def once() -> proc.Completed:
            try:
                result = proc.run(ssh, timeout=local_s, check=False, input=input)
            except CommandTimeoutError as exc:
                stalled = (
                    f"did not finish within {timeout:g} s on {self.name}: the SSH connection "
                    "stopped answering and ssh was killed (the host stops the command at its limit)"
                )
                raise self._timed_out(argv, command, stalled, exc.stderr_tail) from exc
            if result.returncode == sshcmd.SSH_FAILURE:
                raise sshcmd.classify_ssh_failure(self.name, result.stderr, f"running {argv[0]}")
            return result

        result = self._retrying(once, f"running {argv[0]}", idempotent=idempotent)
        if timeout is not None and sshcmd.stopped_by_limit(result.returncode, result.stderr):
            tail = proc.tail(sshcmd.without_marker(result.stderr))
            stopped = f"did not finish within {timeout:g} s on {self.name} and was stopped there"
            raise self._timed_out(argv, command, stopped, tail)
        completed = proc.Completed(
            tuple(argv), result.returncode, result.stdout, result.stderr, result.duration_s
        )
        if check and not completed.ok:
            msg = f"{argv[0]} failed on {self.name} with exit status {completed.returncode}"
            raise CommandError(
                msg,
                argv=argv,
                returncode=completed.returncode,
                stderr_tail=proc.tail(completed.stderr or completed.stdout),
                hint=f"the command was: ssh {self.name} {command}",
            )
        return completed

    @contextlib.contextmanager
    def spawn(
        self,
        argv: Sequence[str],
        *,
        stdout: IO[bytes] | int | None = subprocess.PIPE,
        env: Mapping[str, str] | None = None,
    ) -> Iterator[subprocess.Popen[bytes]]:
        """Start ``argv`` on the host; leaving the context kills its whole session there.

        The remote side runs the command in a new session next to a watcher that
        kills that session as soon as the connection's stdin closes, so killing
        the local ssh client (or losing the connection) never leaves it running.
        """
        self.check_connection()
        ssh = sshcmd.ssh_argv(self._settings, sshcmd.spawn_command(argv, env))
        with proc.spawn(ssh, stdout=stdout, stdin=subprocess.PIPE) as child:
            yield child

    def put(self, src: Path, dst: str) -> None:
        """Copy ``src`` to ``dst`` (a directory's contents into ``dst``); resumable."""
        parent = str(Path(dst).parent)
        self.run(["mkdir", "-p", "--", parent], idempotent=True)
        source = f"{src}/" if src.is_dir() else str(src)
        target = f"{dst}/" if src.is_dir() else dst
        self._rsync(source, f"{self.name}:{target}", f"uploading {src.name}")

    def get(self, src: str, dst: Path) -> None:
        """Copy ``src`` from the host to ``dst``; a directory's contents go into ``dst``."""
        dst.parent.mkdir(parents=True, exist_ok=True)
        is_dir = self.run(["test", "-d", src], check=False, idempotent=True).ok
        source = f"{self.name}:{src}/" if is_dir else f"{self.name}:{src}"
        self._rsync(source, f"{dst}/" if is_dir else str(dst), f"downloading {src}")

    @contextlib.contextmanager
    def forward_socket(self, path: str) -> Iterator[Path]:
        """A local socket, in a private directory, forwarded to ``path`` on the host.

        The forward rides on the master connection (``ssh -O forward``) and is
        cancelled when the context ends; each connection to the local socket
        opens one to ``path`` on the host.
        """
        self.check_connection()
        control_dir = Path(sshcmd.control_path(self._settings)).parent
        directory = Path(tempfile.mkdtemp(prefix="fwd-", dir=control_dir))
        local = directory / "s"
        try:
            argv = sshcmd.forward_argv(self._settings, "forward", local, path)
            result = proc.run(argv, check=False, timeout=30)
            if not result.ok:
                msg = f"cannot forward the socket {path} on {self.name} to this machine"
                raise HostError(
                    msg,
                    detail=proc.tail(result.stderr),
                    hint=f"the server must allow it (AllowStreamLocalForwarding in "
                    f"{self.name}'s sshd_config)",
                )
            try:
                yield local
            finally:
                cancel = sshcmd.forward_argv(self._settings, "cancel", local, path)
                proc.run(cancel, check=False, timeout=30)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def check_connection(self) -> None:
        """Open (or reuse) the master connection; raise a typed error if that fails."""
        self.run(["true"], idempotent=True)

    def close(self) -> None:
        """Stop the master connection, if one is running."""
        argv = [*sshcmd.ssh_options(self._settings), "-O", "exit", "--", self.name]
        proc.run(argv, check=False, timeout=30)

    def _timed_out(
        self, argv: Sequence[str], command: str, message: str, tail: str
    ) -> CommandTimeoutError:
        return CommandTimeoutError(
            f"{argv[0]} {message}",
            argv=argv,
            returncode=None,
            stderr_tail=tail,
            hint=f"check what keeps it busy or blocked on {self.name}; the command was: "
            f"ssh {self.name} {command}",
        )

    def _rsync(self, src: str, dst: str, what: str) -> None:
        argv = sshcmd.rsync_argv(self._settings, src, dst)

        def once() -> None:
            result = proc.run(argv, check=False)
            if not result.ok:
                raise sshcmd.classify_rsync_failure(self.name, result.returncode, result.stderr)

        # rsync --partial resumes: a transfer cut off halfway is safe to run again.
        self._retrying(once, what, idempotent=True)

    def _retrying(self, attempt: Callable[[], T], what: str, *, idempotent: bool) -> T:
        def safe_to_repeat(exc: BaseException) -> bool:
            if isinstance(exc, ConnectionLostError):
                return idempotent
            return isinstance(exc, TransportError)

        retrying = Retrying(
            retry=retry_if_exception(safe_to_repeat),
            stop=stop_after_attempt(self._settings.attempts),
            wait=wait_exponential(multiplier=self._settings.backoff_s, max=30),
            before_sleep=self._log_retry(what),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except TransportError as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            if attempts > 1:
                exc.message = f"{exc.message} ({attempts} attempts)"
            raise

    def _log_retry(self, what: str) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "connection to %s failed while %s (attempt %d of %d); retrying in %.1f s",
                self.name, what, state.attempt_number, self._settings.attempts, wait,
            )  # fmt: skip

        return before_sleep
