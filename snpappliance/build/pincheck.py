"""Can a stack's pins still be fetched? (``snpapp stacks --check``)

A lock file is only as good as the places it points to: Debian drops superseded
versions from its pool, and a tag can be moved. This asks those places, without
downloading any source tree, whether every pin of a stack is still served:

* git sources: ``git ls-remote`` of the ref the lock names; the pin is confirmed
  when the ref (peeled, for annotated tags) still points to the pinned commit;
* Debian source packages: the ``.dsc`` is downloaded and its SHA-256 compared
  with the pin, then every file it lists is asked for (HTTP HEAD);
* toolchain packages: each ``name=version`` is looked up in the mirror's
  ``Packages`` index for the stack's release and its backports.

The checks are plain data (:class:`PinCheck`); the network is reached only
through the two callables :func:`check_stack` is given.
"""

from __future__ import annotations

import functools
import hashlib
import lzma
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from snpappliance import proc
from snpappliance.build.sources import GIT_ENV, dsc_files
from snpappliance.formats.stack import Component, DebianSource, GitSource, Stack

_REF = re.compile(r"^[\w./-]+$")
_TIMEOUT_S = 60.0


class PinStatus(StrEnum):
    OK = "ok"
    #: Still fetchable, but something moved (a branch went on, a tag was re-pointed).
    WARN = "warn"
    #: The place answered and the pin is not there (404, other bytes, unknown version).
    FAIL = "fail"
    #: The place did not answer: nothing is known about the pin.
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class PinCheck:
    component: str
    #: What was checked: ``source`` or ``package NAME``.
    what: str
    pin: str
    status: PinStatus
    detail: str


class Unreachable(Exception):
    """The server did not answer (as opposed to answering 'not found')."""


class NotFound(Exception):
    """The server answered: there is no such file."""


#: ``get(url, head_only)`` returns the body (empty for HEAD) or raises
#: :class:`NotFound` / :class:`Unreachable`.
HttpGet = Callable[[str, bool], bytes]
#: ``ls_remote(url, refs)`` returns ``{refname: sha}`` or raises :class:`Unreachable`.
LsRemote = Callable[[str, tuple[str, ...]], dict[str, str]]


def http_get(url: str, head_only: bool) -> bytes:
    """The body of ``url`` (nothing for a HEAD request)."""
    request = urllib.request.Request(url, method="HEAD" if head_only else "GET")
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            return b"" if head_only else bytes(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            msg = f"HTTP {exc.code}"
            raise NotFound(msg) from exc
        msg = f"HTTP {exc.code}"
        raise Unreachable(msg) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise Unreachable(str(getattr(exc, "reason", exc))) from exc


def git_ls_remote(url: str, refs: tuple[str, ...]) -> dict[str, str]:
    """``{refname: sha}`` of ``refs`` on the remote ``url``."""
    result = proc.run(["git", "ls-remote", "--", url, *refs], env=GIT_ENV, check=False,
                      timeout=_TIMEOUT_S)  # fmt: skip
    if not result.ok:
        lines = (result.stderr or "").strip().splitlines()
        raise Unreachable(lines[-1] if lines else f"git ls-remote exited {result.returncode}")
    out: dict[str, str] = {}
    for line in result.stdout.splitlines():
        sha, _, name = line.partition("\t")
        out[name] = sha
    return out


def check_git(component: str, src: GitSource, ls_remote: LsRemote) -> PinCheck:
    ref = src.ref.split()[0] if src.ref.split() else ""

    def result(status: PinStatus, detail: str) -> PinCheck:
        return PinCheck(component, "source", f"{src.url} {src.commit}", status, detail)

    if not _REF.match(ref):
        return result(PinStatus.WARN, f"the lock names no ref to ask for ({src.ref!r})")
    try:
        found = ls_remote(src.url, (ref, f"{ref}^{{}}"))
    except Unreachable as exc:
        return result(PinStatus.UNREACHABLE, f"git ls-remote: {exc}")
    for name in (f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", f"refs/heads/{ref}", ref):
        if name not in found:
            continue
        if found[name] == src.commit:
            return result(PinStatus.OK, f"{name.removesuffix('^{}')} is the pinned commit")
        moved = f"{name.removesuffix('^{}')} now points to {found[name][:12]}"
        return result(PinStatus.WARN, f"{moved}; the build fetches the pinned commit by its SHA")
    return result(PinStatus.WARN, f"{ref} is not on the remote; the build fetches by SHA only")


def check_debian(component: str, src: DebianSource, mirror: str, get: HttpGet) -> PinCheck:
    base = mirror.rstrip("/") + "/"

    def result(status: PinStatus, detail: str) -> PinCheck:
        return PinCheck(component, "source", src.pin, status, detail)

    try:
        dsc = get(base + src.dsc, False)
    except NotFound as exc:
        return result(PinStatus.FAIL, f"{src.dsc}: {exc} on {mirror}")
    except Unreachable as exc:
        return result(PinStatus.UNREACHABLE, f"{mirror}: {exc}")
    digest = hashlib.sha256(dsc).hexdigest()
    if digest != src.dsc_sha256:
        return result(PinStatus.FAIL, f"{src.dsc} has SHA-256 {digest}")
    pool = src.dsc.rsplit("/", 1)[0] + "/"
    names = [name for name, _sha in dsc_files(dsc.decode("utf-8", "replace"))]
    for name in names:
        try:
            get(base + pool + name, True)
        except NotFound as exc:
            return result(PinStatus.FAIL, f"{pool}{name}: {exc} (the .dsc is there)")
        except Unreachable as exc:
            return result(PinStatus.UNREACHABLE, f"{pool}{name}: {exc}")
    return result(PinStatus.OK, f".dsc verified, its {len(names)} file(s) served")


def parse_packages(text: str) -> dict[str, set[str]]:
    """``{package: {versions}}`` from a Debian ``Packages`` index."""
    versions: dict[str, set[str]] = {}
    for stanza in text.split("\n\n"):
        fields = {
            key: value.strip()
            for key, _, value in (line.partition(":") for line in stanza.splitlines())
            if key in ("Package", "Version")
        }
        if "Package" in fields and "Version" in fields:
            versions.setdefault(fields["Package"], set()).add(fields["Version"])
    return versions


@functools.lru_cache(maxsize=4)
def package_index(
    mirror: str, suites: tuple[str, ...], get: HttpGet
) -> Mapping[str, frozenset[str]]:
    """The amd64 ``Packages`` versions of ``suites`` on ``mirror``, merged.

    The first suite must be served; a later one (backports) the mirror lacks is
    skipped. Kept for the process: stacks of one release share one index (about
    10 MB to download and parse), so ``stacks --check`` reads it once.
    """
    merged: dict[str, set[str]] = {}
    for i, suite in enumerate(suites):
        url = f"{mirror.rstrip('/')}/dists/{suite}/main/binary-amd64/Packages.xz"
        try:
            body = get(url, False)
        except NotFound:
            if i == 0:
                raise
            continue
        text = lzma.decompress(body).decode("utf-8", "replace")
        for name, found in parse_packages(text).items():
            merged.setdefault(name, set()).update(found)
    return {name: frozenset(found) for name, found in merged.items()}


def check_packages(component: Component, index: Mapping[str, frozenset[str]]) -> Iterator[PinCheck]:
    for name, version in sorted(component.packages.items()):
        have = index.get(name, frozenset())
        if version in have:
            yield PinCheck(component.name, f"package {name}", version, PinStatus.OK, "served")
        else:
            served = ", ".join(sorted(have)) or "no version"
            yield PinCheck(component.name, f"package {name}", version, PinStatus.FAIL,
                           f"the mirror serves {served}")  # fmt: skip


def check_stack(
    stack: Stack,
    mirror: str,
    *,
    get: HttpGet = http_get,
    ls_remote: LsRemote = git_ls_remote,
) -> list[PinCheck]:
    """Every source and toolchain-package pin of ``stack``, checked against its server."""
    checks: list[PinCheck] = []
    index: Mapping[str, frozenset[str]] | None = None
    index_error = ""
    if any(c.packages for c in stack.components.values()):
        release = stack.base.release
        try:
            index = package_index(mirror, (release, f"{release}-backports"), get)
        except (NotFound, Unreachable) as exc:
            index_error = f"{mirror} Packages index: {exc}"
    for component in stack.components.values():
        src = component.source
        if isinstance(src, GitSource):
            checks.append(check_git(component.name, src, ls_remote))
        elif isinstance(src, DebianSource):
            checks.append(check_debian(component.name, src, mirror, get))
        if index is not None:
            checks.extend(check_packages(component, index))
        elif component.packages:
            checks.append(PinCheck(component.name, "packages", f"{len(component.packages)} pins",
                                   PinStatus.UNREACHABLE, index_error))  # fmt: skip
    return checks
