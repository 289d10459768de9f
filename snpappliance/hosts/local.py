"""The machine snpapp itself runs on."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path
from typing import IO, TYPE_CHECKING

from snpappliance import proc
from snpappliance.hosts.base import Host

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence


class LocalHost(Host):
    """:class:`~snpappliance.hosts.base.Host` for this machine; commands run without a shell."""

    @property
    def name(self) -> str:
        return "local"

    @property
    def is_local(self) -> bool:
        return True

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        check: bool = True,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        idempotent: bool = False,  # noqa: ARG002  nothing to retry on this machine
    ) -> proc.Completed:
        """Run ``argv`` here; ``idempotent`` changes nothing: no connection, no retries."""
        return proc.run(argv, timeout=timeout, check=check, input=input, env=env)

    @contextlib.contextmanager
    def spawn(
        self,
        argv: Sequence[str],
        *,
        stdout: IO[bytes] | int | None = subprocess.PIPE,
        env: Mapping[str, str] | None = None,
    ) -> Iterator[subprocess.Popen[bytes]]:
        with proc.spawn(argv, stdout=stdout, env=env) as child:
            yield child

    def put(self, src: Path, dst: str) -> None:
        target = Path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True)
        else:
            shutil.copy2(src, target)

    def get(self, src: str, dst: Path) -> None:
        self.put(Path(src), str(dst))

    @contextlib.contextmanager
    def forward_socket(self, path: str) -> Iterator[Path]:
        """``path`` itself: a socket on this machine needs no forwarding."""
        yield Path(path)

    def close(self) -> None:
        """Nothing to release: commands here hold no connection."""
