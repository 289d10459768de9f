"""Crash-safe file system helpers: nothing half-written ever replaces something whole."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance.errors import OutputError

if TYPE_CHECKING:
    from collections.abc import Iterator

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's contents."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_writable_dir(path: Path) -> Path:
    """Create ``path`` (and parents) or raise :class:`OutputError` saying why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create output directory {path}: {exc.strerror}"
        raise OutputError(
            msg,
            hint="choose another location with --out, or fix the permissions",
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        msg = f"output directory {path} is not writable"
        raise OutputError(
            msg,
            hint="choose another location with --out, or fix the permissions",
        )
    return path


def current_umask() -> int:
    """The process's umask, read without changing it (Linux), else set and restored."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` via a fsynced temporary file and a rename.

    The file gets ``mode``; by default a file that exists keeps its mode, and a
    new one gets what ``open()`` would give it (0o666 less the umask). Pass
    0o600 for a secret.
    """
    ensure_writable_dir(path.parent)
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~current_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _scratch_prefix(final: Path, kind: str) -> str:
    """``.NAME.staging-PID-`` / ``.NAME.old-PID-``: the owning process is in the name."""
    return f".{final.name}.{kind}-{os.getpid()}-"


def remove_dead_leftovers(final: Path | None = None, *, parent: Path | None = None) -> list[Path]:
    """Remove the staging and old directories whose process has died.

    :func:`staged_dir` names them after its process; a process killed while it
    wrote leaves them behind. Those of ``final``, or of
    every name in ``parent``, are looked at; those of a live process (or of a
    PID since reused) are kept. Returns what was removed.
    """
    name = re.escape(final.name) if final is not None else "[^/]+"
    directory = final.parent if final is not None else parent
    if directory is None:
        msg = "remove_dead_leftovers needs final or parent"
        raise ValueError(msg)
    pattern = re.compile(rf"\.{name}\.(?:staging|old)-(\d+)-[^/]+")
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in directory.iterdir():
            match = pattern.fullmatch(entry.name)
            if match and entry.is_dir() and not entry.is_symlink():
                pid = int(match.group(1))
                if pid != os.getpid() and not _pid_alive(pid):
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(entry)
    return removed


@contextlib.contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield an empty staging directory next to ``final``; publish it on success.

    On a clean exit the staging directory atomically takes the place of
    ``final`` (a previous ``final`` is removed only after the swap). On any
    exception the staging directory is removed and ``final`` is left untouched.
    Leftovers of processes that died here before are removed first; the
    published directory's mode follows the umask.
    """
    parent = ensure_writable_dir(final.parent)
    remove_dead_leftovers(final)
    staging = Path(tempfile.mkdtemp(prefix=_scratch_prefix(final, "staging"), dir=parent))
    try:
        staging.chmod(0o777 & ~current_umask())
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired: Path | None = None
    if final.exists():
        retired = Path(tempfile.mkdtemp(prefix=_scratch_prefix(final, "old"), dir=parent))
        final.replace(retired / final.name)
    staging.replace(final)
    fsync_dir(parent)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
