"""Pinned sources, fetched into a cache outside any build context.

* git: ``git init; git fetch --depth 1 origin <sha>`` (falling back to the tag
  or branch), then HEAD is verified against the pin and submodules are checked
  out at their gitlinks;
* Debian source packages: the ``.dsc`` is verified against its pinned SHA-256,
  every file it lists against the SHA-256 it gives, then ``dpkg-source -x``;
* ``--source COMPONENT=DIR``: a local tree, identified by its git HEAD and
  status (or by the hash of its files).

Builds work on a copy (:func:`work_copy`) so the cache stays pristine.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance import proc
from snpappliance.errors import CommandError, SourceError
from snpappliance.fsutil import sha256_file

if TYPE_CHECKING:
    from collections.abc import Iterator

    from snpappliance.formats.stack import DebianSource, GitSource

GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
_NET_ERRORS = re.compile(
    r"Could not resolve host|unable to access|Connection (refused|timed out)|Failed to connect"
    r"|Could not read from remote|does not appear to be a git repository|Network is unreachable",
)
_CHUNK = 1 << 20


def offline_hint(component: str, what: str) -> str:
    return (
        f"offline options: build from a local tree with --source {component}=DIR "
        f"(a checkout of {what}), or use the debian-bookworm stack, which needs only a "
        "Debian mirror (--stack debian-bookworm)"
    )


@contextlib.contextmanager
def cache_lock(entry: Path) -> Iterator[None]:
    """Hold an exclusive lock on a source cache entry (threads and processes alike)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    with (entry.parent / f".{entry.name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _git(args: list[str], cwd: Path, log_file: Path) -> proc.Completed:
    return proc.run(["git", *args], cwd=cwd, env=GIT_ENV, log_file=log_file)


def fetch_git(src: GitSource, component: str, cache_root: Path, log_file: Path) -> Path:
    """A verified checkout of ``src.commit`` (with submodules) in the source cache."""
    final = cache_root / "sources" / "git" / src.commit
    with cache_lock(final):
        if not (final / ".git").is_dir():
            _clone_into(src, component, final, log_file)
    return final


def _clone_into(src: GitSource, component: str, final: Path, log_file: Path) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f".{src.commit[:12]}-", dir=final.parent))
    try:
        _git(["init", "-q", "."], scratch, log_file)
        _git(["remote", "add", "origin", src.url], scratch, log_file)
        _fetch_commit(src, component, scratch, log_file)
        _git(["-c", "advice.detachedHead=false", "checkout", "-q", src.commit], scratch, log_file)
        head = _git(["rev-parse", "HEAD"], scratch, log_file).stdout.strip()
        if head != src.commit:
            msg = f"{src.url} {src.ref}: HEAD is {head}, not the pinned {src.commit}"
            raise SourceError(
                msg,
                hint="the pin in the stack lock is wrong, or the remote serves another history",
            )
        if src.submodules:
            _submodules(src, component, scratch, log_file)
        scratch.rename(final)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def _fetch_commit(src: GitSource, component: str, repo: Path, log_file: Path) -> None:
    attempts = [src.commit] + ([src.ref] if re.fullmatch(r"[\w./-]+", src.ref) else [])
    error: CommandError | None = None
    for want in attempts:
        try:
            _git(["fetch", "-q", "--depth", "1", "origin", want], repo, log_file)
        except CommandError as exc:
            error = exc
            if _NET_ERRORS.search(exc.stderr_tail):
                break
            continue
        probe = proc.run(["git", "cat-file", "-t", src.commit], cwd=repo, env=GIT_ENV, check=False)
        if probe.stdout.strip() == "commit":
            return
        _git(["fetch", "-q", "--unshallow", "origin", want], repo, log_file)
        return
    reason = error.stderr_tail.splitlines()[-1] if error and error.stderr_tail else "unknown"
    msg = f"cannot fetch {src.url} ({src.ref} @ {src.commit[:12]}): {reason}"
    raise SourceError(
        msg,
        detail=f"full log: {log_file}",
        hint=offline_hint(component, f"{src.ref} at {src.commit}"),
    )


def _submodules(src: GitSource, component: str, repo: Path, log_file: Path) -> None:
    try:
        _git(["submodule", "update", "--init", "--recursive"], repo, log_file)
    except CommandError as exc:
        msg = f"cannot fetch the submodules of {src.url} @ {src.commit[:12]}"
        raise SourceError(
            msg,
            detail=f"{exc.stderr_tail}\nfull log: {log_file}",
            hint=offline_hint(component, f"{src.ref} at {src.commit} with its submodules"),
        ) from exc
    status = _git(["submodule", "status", "--recursive"], repo, log_file).stdout
    off = [line for line in status.splitlines() if line[:1] in ("+", "-", "U")]
    if off:
        msg = f"submodules of {src.url} are not at their gitlinks: {'; '.join(off)}"
        raise SourceError(
            msg,
            hint="remove the source cache entry and build again",
        )


# ------------------------------------------------------------------ Debian


def _download(url: str, dest: Path, sha256: str, component: str) -> Path:
    if dest.is_file() and sha256_file(dest) == sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as fh:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                fh.write(chunk)
    except (urllib.error.URLError, OSError) as exc:
        partial.unlink(missing_ok=True)
        msg = f"cannot download {url}: {getattr(exc, 'reason', exc)}"
        raise SourceError(
            msg,
            hint=f"is the Debian mirror reachable? Pass a reachable one with --mirror URL; "
            f"or {offline_hint(component, url.rsplit('/', 1)[-1])}",
        ) from exc
    if digest.hexdigest() != sha256:
        partial.unlink(missing_ok=True)
        msg = f"{url} has SHA-256 {digest.hexdigest()}, the pin says {sha256}"
        raise SourceError(
            msg,
            hint="the mirror serves different bytes for this version: check the stack lock's pin",
        )
    partial.replace(dest)
    return dest


def dsc_files(dsc_text: str) -> list[tuple[str, str]]:
    """(name, sha256) of every file a ``.dsc`` lists under Checksums-Sha256."""
    match = re.search(r"^Checksums-Sha256:\n((?:[ \t].*\n?)+)", dsc_text, re.MULTILINE)
    if match is None:
        msg = "the .dsc has no Checksums-Sha256 field"
        raise SourceError(msg)
    files = []
    for line in match.group(1).splitlines():
        sha, _size, name = line.split()
        files.append((name, sha))
    return files


def fetch_debian(src: DebianSource, component: str, mirror: str, cache_root: Path,
                 log_file: Path) -> Path:  # fmt: skip
    """The unpacked, checksum-verified Debian source package in the source cache."""
    final = cache_root / "sources" / "debian" / f"{src.package}_{src.version.replace(':', '%3a')}"
    with cache_lock(final):
        if not (final / "debian" / "changelog").is_file():
            _unpack_debian(src, component, mirror, cache_root, final, log_file)
    return final


def _unpack_debian(src: DebianSource, component: str, mirror: str, cache_root: Path,
                   final: Path, log_file: Path) -> None:  # fmt: skip
    base_url = mirror.rstrip("/") + "/"
    downloads = cache_root / "downloads" / "debian"
    dsc = _download(base_url + src.dsc, downloads / Path(src.dsc).name, src.dsc_sha256, component)
    pool_dir = src.dsc.rsplit("/", 1)[0] + "/"
    for name, sha in dsc_files(dsc.read_text(encoding="utf-8")):
        _download(base_url + pool_dir + name, downloads / name, sha, component)
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{src.package}-", dir=final.parent))
    try:
        proc.run(["dpkg-source", "--no-check", "-x", dsc, scratch / "tree"], log_file=log_file,
                 hint="install dpkg-dev to unpack Debian source packages")  # fmt: skip
        (scratch / "tree").rename(final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ------------------------------------------------------------- local trees


def local_tree_digest(tree: Path) -> str:
    """What identifies a local tree: git HEAD plus status, or the hash of every file."""
    if not tree.is_dir():
        msg = f"--source directory {tree} does not exist"
        raise SourceError(
            msg,
            hint="give an existing source tree as --source COMPONENT=DIR",
        )
    if (tree / ".git").exists():
        head = proc.run(["git", "-C", tree, "rev-parse", "HEAD"], env=GIT_ENV).stdout.strip()
        status = proc.run(["git", "-C", tree, "status", "--porcelain"], env=GIT_ENV).stdout
        return hashlib.sha256(f"{head}\n{status}".encode()).hexdigest()
    digest = hashlib.sha256()
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(tree).as_posix()}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def source_date_epoch(tree: Path) -> str | None:
    """The commit date (git) or changelog date (Debian) of a tree, for reproducible builds."""
    if (tree / ".git").exists():
        out = proc.run(["git", "-C", tree, "log", "-1", "--format=%ct"], env=GIT_ENV, check=False)
        return out.stdout.strip() or None
    if (tree / "debian" / "changelog").is_file():
        out = proc.run(["dpkg-parsechangelog", "-l", tree / "debian" / "changelog",
                        "-STimestamp"], check=False)  # fmt: skip
        return out.stdout.strip() or None
    return None


def work_copy(pristine: Path, work: Path, log_file: Path) -> Path:
    """Make ``work`` an exact copy of ``pristine`` (rsync, so reruns copy little)."""
    work.mkdir(parents=True, exist_ok=True)
    proc.run(
        ["rsync", "-a", "--delete", f"{os.fspath(pristine)}/", f"{os.fspath(work)}/"],
        log_file=log_file,
        hint="install rsync",
    )
    return work
