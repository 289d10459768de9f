"""A minimal QMP client: the QEMU Machine Protocol over a unix socket.

QEMU started with ``-qmp unix:PATH,server=on,wait=off`` listens on PATH;
:meth:`Qmp.connect` polls until it answers (or QEMU exits), reads the greeting
and leaves capabilities negotiation. :meth:`Qmp.execute` sends one command and
returns its ``return`` value, skipping asynchronous events. Only what the
campaign needs is here: the vCPU and I/O thread ids for pinning, and ``cont``.
The socket is local: for QEMU on an SSH host it has to be forwarded
(``ssh -L local.sock:remote.sock``). A unix socket path must be under 108 bytes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import time
from typing import IO, TYPE_CHECKING, Self

from snpappliance.errors import GuestError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from pathlib import Path

#: How long QEMU may take to open its QMP socket.
CONNECT_TIMEOUT_S = 30.0
#: How long one command may take to answer.
REPLY_TIMEOUT_S = 30.0


class Qmp:
    """A QMP session on a connected socket; use :meth:`connect`."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._file: IO[bytes] = sock.makefile("rb")
        self._ids = itertools.count(1)

    @classmethod
    @contextlib.contextmanager
    def connect(
        cls, path: Path, *, alive: Callable[[], bool] = lambda: True,
        timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> Iterator[Self]:  # fmt: skip
        """A negotiated session with the QEMU listening on ``path``; closed on exit.

        Polls until the socket accepts; ``alive()`` returning False (QEMU exited)
        or ``timeout_s`` passing raises :class:`GuestError`.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
            if not alive():
                msg = f"QEMU exited before its QMP socket {path} answered"
                raise GuestError(msg, hint="see QEMU's output in the run's log")
            if time.monotonic() > deadline:
                msg = f"QEMU's QMP socket {path} did not answer within {timeout_s:g} s"
                raise GuestError(
                    msg, hint="is QEMU started with -qmp unix:PATH,server=on,wait=off?"
                )
            time.sleep(0.05)
        sock.settimeout(REPLY_TIMEOUT_S)
        session = cls(sock)
        try:
            greeting = session._receive()
            if "QMP" not in greeting:
                msg = f"{path} does not speak QMP (it said {greeting!r})"
                raise GuestError(msg, hint="point -qmp at a fresh socket path")
            session.execute("qmp_capabilities")
            yield session
        finally:
            session.close()

    def _receive(self) -> dict[str, object]:
        try:
            line = self._file.readline()
        except TimeoutError as exc:
            msg = f"QEMU did not answer on QMP within {REPLY_TIMEOUT_S:g} s"
            raise GuestError(msg, hint="QEMU may be hung; see its log") from exc
        if not line:
            msg = "QEMU closed its QMP connection (it exited)"
            raise GuestError(msg, hint="see QEMU's output in the run's log")
        message = json.loads(line)
        if not isinstance(message, dict):
            msg = f"QEMU sent a QMP message that is not an object: {line!r}"
            raise GuestError(msg, hint="this QEMU's QMP is not supported")
        return message

    def execute(self, command: str, arguments: Mapping[str, object] | None = None) -> object:
        """Run ``command``; its ``return`` value. A QMP error raises :class:`GuestError`."""
        request: dict[str, object] = {"execute": command, "id": next(self._ids)}
        if arguments:
            request["arguments"] = dict(arguments)
        self._sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            reply = self._receive()
            if reply.get("id") != request["id"]:
                continue  # an event, or the greeting of nothing we asked
            if "error" in reply:
                msg = f"QMP {command} failed: {reply['error']}"
                raise GuestError(msg, hint="this QEMU may not support the command")
            return reply.get("return")

    def _thread_ids(self, command: str, key: str) -> list[int]:
        items = self.execute(command)
        if not isinstance(items, list):
            msg = f"QMP {command} returned {items!r}, not a list"
            raise GuestError(msg, hint="this QEMU's QMP is not supported")
        return [int(item[key]) for item in items if isinstance(item, dict)]

    def vcpu_thread_ids(self) -> list[int]:
        """The host thread id of each vCPU, in vCPU order (``query-cpus-fast``)."""
        cpus = self.execute("query-cpus-fast")
        if not isinstance(cpus, list):
            msg = f"QMP query-cpus-fast returned {cpus!r}, not a list"
            raise GuestError(msg, hint="this QEMU's QMP is not supported")
        ordered = sorted((c for c in cpus if isinstance(c, dict)), key=lambda c: c["cpu-index"])
        return [int(cpu["thread-id"]) for cpu in ordered]

    def iothread_ids(self) -> list[int]:
        """The host thread ids of the ``-object iothread`` threads (``query-iothreads``)."""
        return self._thread_ids("query-iothreads", "thread-id")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
            self._sock.close()
