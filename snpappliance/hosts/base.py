"""The :class:`Host` protocol.

A host is a context manager: leaving the ``with`` block closes what it holds
open (an SSH host's multiplexed master connection; nothing for this machine)::

    with connect("genoa01") as host:
        host.run(["uname", "-r"])
"""

from __future__ import annotations

import subprocess
from typing import IO, TYPE_CHECKING, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from snpappliance.proc import Completed


@runtime_checkable
class Host(Protocol):
    """A machine snpapp runs commands on: this one, or one reached over SSH."""

    @property
    def name(self) -> str:
        """How the user names the host (``local``, ``genoa01``)."""
        ...

    @property
    def is_local(self) -> bool: ...

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        check: bool = True,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        idempotent: bool = False,
    ) -> Completed:
        """Run ``argv`` on the host to completion (see :func:`snpappliance.proc.run`).

        ``timeout`` stops the command on the host, not only the local client.
        ``idempotent`` declares that running ``argv`` twice does no more than
        running it once (it reads, or sets a state it may already be in): only
        then may a connection lost while it ran be retried by running it again.
        A connection that failed before the command started is always retried.
        """
        ...

    def spawn(
        self,
        argv: Sequence[str],
        *,
        stdout: IO[bytes] | int | None = subprocess.PIPE,
        env: Mapping[str, str] | None = None,
    ) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
        """Start ``argv`` on the host; leaving the context kills it there and reaps it."""
        ...

    def put(self, src: Path, dst: str) -> None:
        """Copy the local file or directory ``src`` to ``dst`` on the host."""
        ...

    def get(self, src: str, dst: Path) -> None:
        """Copy ``src`` on the host to the local path ``dst``."""
        ...

    def forward_socket(self, path: str) -> contextlib.AbstractContextManager[Path]:
        """A local path that reaches the unix socket ``path`` on the host, while the context lasts.

        This machine's sockets are used as they are; an SSH host forwards one over
        its multiplexed connection (``ssh -O forward -L local.sock:path``).
        """
        ...

    def close(self) -> None:
        """Release what the host holds open; safe to call again, or on a host never used."""
        ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
