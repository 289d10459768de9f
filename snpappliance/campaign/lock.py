"""One live runner per campaign directory: an ``flock`` held for the runner's whole life.

The kernel releases the lock when the runner's process ends, however it ends
(kill -9 included), so a crash never leaves a campaign locked, a reused pid
never looks like a runner, and two resumes started together cannot both pass:
taking the lock is the check. The lock file keeps the holder's pid for
``snpapp campaign status`` to show.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import TYPE_CHECKING

from snpappliance.errors import CampaignError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from snpappliance.formats.campaigndir import CampaignDir


def _holder(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode("ascii", errors="replace").strip())
    except ValueError:
        return None


@contextlib.contextmanager
def runner_lock(cdir: CampaignDir) -> Iterator[None]:
    """Hold the campaign's runner lock, or raise naming the runner that holds it."""
    fd = os.open(cdir.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = _holder(fd)
            raise CampaignError(
                f"campaign {cdir.path} is already running"
                + (f" (pid {other})" if other is not None else ""),
                hint=f"watch it with `snpapp campaign status {cdir.path}`",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)


def runner_pid(cdir: CampaignDir) -> int | None:
    """The pid of the live runner of this campaign (0 if it is unknown), or None."""
    try:
        fd = os.open(cdir.lock_file, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(fd) or 0
        return None
    finally:
        os.close(fd)
