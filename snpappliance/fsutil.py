"""Crash-safe file system helpers: nothing half-written ever replaces something whole."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from snpappliance.errors import OutputError

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
        raise OutputError(
            f"cannot create output directory {path}: {exc.strerror}",
            hint="choose another location with --out, or fix the permissions",
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(
            f"output directory {path} is not writable",
            hint="choose another location with --out, or fix the permissions",
        )
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a fsynced temporary file and a rename."""
    ensure_writable_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield an empty staging directory next to ``final``; publish it on success.

    On a clean exit the staging directory atomically takes the place of
    ``final`` (a previous ``final`` is removed only after the swap). On any
    exception the staging directory is removed and ``final`` is left untouched.
    """
    parent = ensure_writable_dir(final.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.staging-", dir=parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired: Path | None = None
    if final.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=parent))
        final.replace(retired / final.name)
    staging.replace(final)
    fsync_dir(parent)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
