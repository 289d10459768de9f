"""Names: the default stack, and the one rule for names that become parts of paths.

A campaign name, a host, a workload or a metric ends up in a path. Names a user
chooses are held to :data:`NAME_RULE` (:func:`check_name`); names that come
from measured data (a metric of an imported log, a host alias) are turned into
a bounded file name by :func:`file_slug`, which never collides for different
names and never escapes its directory.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from snpappliance.errors import ConfigError, OutputError

if TYPE_CHECKING:
    from pathlib import Path

#: The stack every command uses unless ``--stack`` names another.
DEFAULT_STACK = "genoa-2025"
#: The component name that means every component of a stack.
ALL_COMPONENTS = "all"

#: What a user-chosen name that becomes a path component may be.
NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
#: Longest slug :func:`file_slug` returns before its hash suffix.
SLUG_MAX = 48


def is_valid_name(value: str) -> bool:
    """Whether ``value`` follows :data:`NAME_RULE`."""
    return _NAME.fullmatch(value) is not None


def check_name(value: str, what: str) -> str:
    """``value`` unchanged if it follows :data:`NAME_RULE`; else a :class:`ConfigError`."""
    if not is_valid_name(value):
        msg = f"{what} {value!r} cannot be used as a file name"
        raise ConfigError(
            msg,
            hint=f"use {NAME_RULE}",
        )
    return value


def host_slug(host: str) -> str:
    """``host`` as it may appear in a run id and a file name."""
    return _UNSAFE.sub("_", host)


def file_slug(name: str) -> str:
    """A file-name-safe, bounded form of ``name``, unique per ``name``.

    A name that already follows :data:`NAME_RULE` and is at most :data:`SLUG_MAX`
    characters long is kept as it is; any other gets its safe prefix plus the
    first 8 hex digits of its SHA-256, so two names never share a slug.
    """
    if is_valid_name(name) and len(name) <= SLUG_MAX:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    safe = _UNSAFE.sub("_", name).lstrip(".-")[:SLUG_MAX]
    return f"{safe}-{digest}" if safe else digest


def inside(parent: Path, child: Path) -> Path:
    """``child`` resolved, if it lies inside ``parent``; else an :class:`OutputError`."""
    resolved = child.resolve()
    if not resolved.is_relative_to(parent.resolve()):
        msg = f"{child} is outside {parent}"
        raise OutputError(
            msg,
            hint="names that become paths may not contain '/' or '..'",
        )
    return resolved
