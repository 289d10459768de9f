"""Read many small sysfs/procfs files from a host in one command.

:func:`read_files` runs one POSIX shell script through ``host.run`` that expands
each glob pattern under a root directory (``/`` on a real host; a copy of one in
tests), names every matching file, and prints their contents with one
``grep -H -Z`` per pattern (GNU grep: file name, NUL, line), so that a host with
hundreds of CPUs answers in one round trip and a few dozen processes. The shell's
own ``read`` is not used: sysfs CPU-list files (``thread_siblings_list``) return
nothing to its byte-at-a-time reads. :func:`parse_files` turns the output back
into ``{path: contents}`` (pure). A file that does not exist is not in the result.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from snpappliance.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from snpappliance.hosts.base import Host

#: What a file maps to when it exists but cannot be read.
UNREADABLE = "(unreadable)"
_EXISTS = "@@snpapp-exists "
_UNREADABLE = "@@snpapp-unreadable "
#: A root the script can splice into a glob safely: absolute, no glob or shell syntax.
_SAFE_ROOT = re.compile(r"/[A-Za-z0-9_./+@%-]*")

#: ``$1`` is the root (no trailing slash), the other arguments glob patterns below it.
READ_SCRIPT = rf"""
root=$1; shift
for pattern in "$@"; do
  for f in "$root"$pattern; do
    if [ -r "$f" ]; then printf '{_EXISTS}%s\n' "$f"
    elif [ -e "$f" ]; then printf '{_UNREADABLE}%s\n' "$f"
    fi
  done
  grep -H -Z -s '' -- "$root"$pattern
done
exit 0
"""


def root_prefix(root: str) -> str:
    """``root`` as the prefix of every path below it (``/`` → ``""``); ConfigError if unsafe."""
    if not _SAFE_ROOT.fullmatch(root) or "/../" in f"{root}/":
        msg = f"unusable root directory {root!r}"
        raise ConfigError(msg, hint="give an absolute path without spaces, quotes or '..'")
    return root.rstrip("/")


def parse_files(text: str, prefix: str = "") -> dict[str, str]:
    """``{path below the root: contents}`` from the script's output (pure).

    ``prefix`` is the root as :func:`root_prefix` gave it; it is cut off every path.
    """
    lines: dict[str, list[str]] = {}
    unreadable: set[str] = set()
    for line in text.splitlines():
        if line.startswith(_EXISTS):
            lines.setdefault(line.removeprefix(_EXISTS), [])
        elif line.startswith(_UNREADABLE):
            unreadable.add(line.removeprefix(_UNREADABLE))
        elif "\0" in line:
            path, _, content = line.partition("\0")
            lines.setdefault(path, []).append(content)
    files = {path: "\n".join(content) for path, content in lines.items()}
    files.update(dict.fromkeys(unreadable, UNREADABLE))
    return {path.removeprefix(prefix): value for path, value in files.items()}


def read_files(host: Host, patterns: Sequence[str], *, root: str = "/") -> dict[str, str]:
    """Every file matching ``patterns`` (absolute globs) under ``root`` on ``host``, by path.

    Paths in the result are as seen from ``root`` (``/proc/cmdline``), whatever the root.
    """
    prefix = root_prefix(root)
    argv = ["sh", "-c", READ_SCRIPT, "sh", prefix, *patterns]
    return parse_files(host.run(argv, idempotent=True, timeout=120).stdout, prefix)
