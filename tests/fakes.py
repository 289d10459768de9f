"""Stand-in hosts for unit tests: the Host interface, with answers a test chooses.

:class:`FakeRemoteHost` implements every method of
:class:`snpappliance.hosts.base.Host`; a test subclass overrides :meth:`answer`
(what one command returns) and, where it needs them, :meth:`put` and :meth:`get`.
Every command is recorded in :attr:`commands`.
"""

from __future__ import annotations

import subprocess
from typing import IO, TYPE_CHECKING, Self

from snpappliance.proc import Completed

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Mapping, Sequence
    from pathlib import Path


class FakeRemoteHost:
    """A remote host called ``genoa01`` whose commands succeed with no output."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    @property
    def name(self) -> str:
        return "genoa01"

    @property
    def is_local(self) -> bool:
        return False

    def answer(self, argv: Sequence[str]) -> Completed:
        """What one command returns (or raises)."""
        return Completed(tuple(argv), 0, "", "", 0.0)

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
        self.commands.append(list(argv))
        return self.answer(argv)

    def spawn(
        self,
        argv: Sequence[str],
        *,
        stdout: IO[bytes] | int | None = subprocess.PIPE,
        env: Mapping[str, str] | None = None,
    ) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
        raise NotImplementedError

    def put(self, src: Path, dst: str) -> None:
        raise NotImplementedError

    def get(self, src: str, dst: Path) -> None:
        raise NotImplementedError

    def forward_socket(self, path: str) -> contextlib.AbstractContextManager[Path]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
