"""Directories on a host that only the connecting user can enter.

A fixed path under a shared directory (``/var/tmp/snpapp/...``) can be made in
advance by any other user of the host, who then reads or swaps what snpapp puts
there. So snpapp's directories on a host live under the connecting user's own
cache directory (``$XDG_CACHE_HOME``, else ``~/.cache``), in ``snpapp/guests/``. Each
directory on the way down from there is made exclusively (``mkdir``, never
``mkdir -p``) with mode 0700, or accepted only when it is a real directory (not
a symbolic link), owned by the connecting user, that no one else may write to;
every directory below ``snpapp/`` must have mode 0700 (``snpapp/`` itself may be
the user's readable cache of build sources). Anything else is refused.
``$XDG_RUNTIME_DIR`` is not used: it is a small tmpfs that logind
empties when the user's last session ends, too small for guest images and gone
between two SSH connections.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from snpappliance.errors import HostError

if TYPE_CHECKING:
    from snpappliance.hosts.base import Host

#: snpapp's own directory inside the user's cache directory on the host (shared with
#: ``snpapp build``'s source cache when the host also builds).
TOP = "snpapp"
#: The directory of everything a campaign keeps on the host, apart from the build cache.
GUESTS = "guests"

#: Exit status of :data:`ENSURE` when it refuses a directory (its reason is on stdout).
REFUSED = 3

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")

#: ``$@`` are the names below the cache directory; prints the deepest one's path, or
#: ``path<TAB>reason`` and exits :data:`REFUSED` at the first one it cannot trust.
ENSURE = (
    "dir=${XDG_CACHE_HOME:-${HOME:-}/.cache}; uid=$(id -u) || exit 1; "
    'case $dir in /*) ;; *) printf "%s\\tis not an absolute path\\n" "$dir"; exit 3;; esac; '
    'mkdir -p -- "$dir" || exit 1; level=0; '
    'for name in "$@"; do dir=$dir/$name; level=$((level + 1)); '
    'mkdir -m 700 -- "$dir" 2>/dev/null && continue; '
    'if [ -L "$dir" ]; then printf "%s\\tis a symbolic link\\n" "$dir"; exit 3; fi; '
    'if [ ! -d "$dir" ]; then printf "%s\\tis not a directory\\n" "$dir"; exit 3; fi; '
    'owner=$(stat -c %u -- "$dir") && mode=$(stat -c %a -- "$dir") && '
    'perm=$(stat -c %A -- "$dir") || exit 1; '
    'if [ "$owner" != "$uid" ]; then '
    'printf "%s\\thas owner uid %s, not uid %s\\n" "$dir" "$owner" "$uid"; exit 3; fi; '
    "case $perm in ?????w*|????????w*) "
    'printf "%s\\thas mode %s: others may write to it\\n" "$dir" "$mode"; exit 3;; esac; '
    'if [ "$level" -gt 1 ] && [ "$mode" != 700 ]; then '
    'printf "%s\\thas mode %s, not 700\\n" "$dir" "$mode"; exit 3; fi; '
    'done; printf "%s\\n" "$dir"'
)


def private_dir_names(relative: str) -> list[str]:
    """The directory names of ``relative`` (``work/<id>``) below snpapp's top directory."""
    names = relative.split("/")
    if not all(_NAME.fullmatch(name) for name in names):
        msg = f"{relative!r} cannot name a private directory on a host"
        raise HostError(
            msg,
            hint="use names of letters, digits, '.', '_' and '-' separated by '/' "
            "(no '..', no leading '/' or '.')",
        )
    return [TOP, GUESTS, *names]


def ensure_private_dir(host: Host, relative: str) -> str:
    """The directory ``relative`` (e.g. ``images``, ``work/<campaign id>``) under snpapp's
    private directory in the host user's cache directory, made if missing; its absolute path.

    Raises :class:`HostError` when that directory or one above it (up to
    ``snpapp/``) is a symbolic link, not a directory, not owned by the connecting
    user, writable by others, or (below ``snpapp/``) not of mode 0700.
    """
    names = private_dir_names(relative)
    argv = ["sh", "-c", ENSURE, "snpapp-private-dir", *names]
    result = host.run(argv, check=False, timeout=60, idempotent=True)
    if result.returncode == REFUSED:
        path, _, reason = result.stdout.strip().partition("\t")
        msg = (
            f"snpapp will not use {path} on {host.name}: it {reason}, so another user "
            "could read or replace what snpapp keeps there"
        )
        raise HostError(
            msg,
            hint=f"check who made it; if it is yours, make it private (chmod 700 {path}), "
            f"else remove it (ssh {host.name} rm -r {path}) and run snpapp again",
        )
    if not result.ok:
        msg = (
            f"cannot make snpapp's private directory {relative} on {host.name} "
            f"(exit status {result.returncode})"
        )
        raise HostError(
            msg,
            detail=(result.stderr or result.stdout).strip() or None,
            hint=f"check that the SSH user's home directory on {host.name} exists and is "
            "writable, or set XDG_CACHE_HOME there to a directory it owns",
        )
    return result.stdout.strip()
