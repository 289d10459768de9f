"""Pinned sources for real: git submodules at their gitlinks, Debian source packages by checksum."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import threading
from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from snpappliance.build.sources import fetch_debian, fetch_git, local_tree_digest
from snpappliance.errors import SourceError
from snpappliance.formats.stack import DebianSource, GitSource
from tests.conftest import require_program
from tests.integration.build_fixtures import GIT_ENV

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration


def _git(repo: Path, *args: str) -> str:
    return proc.run(["git", *args], cwd=repo, env=GIT_ENV).stdout.strip()


def _repo(path: Path, files: dict[str, str]) -> str:
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    for name, text in files.items():
        (path / name).write_text(text)
    _git(path, "add", ".")
    _git(path, "commit", "-q", "-m", "initial")
    return _git(path, "rev-parse", "HEAD")


def test_git_source_checks_out_submodules_at_their_gitlinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_program("git")
    # Local file:// submodules are refused by default since git 2.38.1; allow them here.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "protocol.file.allow")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "always")
    sub = tmp_path / "tpm"
    pinned_sub = _repo(sub, {"configure.ac": "AC_INIT\n"})
    top = tmp_path / "svsm"
    _repo(top, {"Makefile": "all:\n"})
    proc.run(["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q",
              f"file://{sub}", "deps/tpm"], cwd=top, env=GIT_ENV)  # fmt: skip
    _git(top, "commit", "-q", "-m", "add submodule")
    commit = _git(top, "rev-parse", "HEAD")
    (sub / "configure.ac").write_text("AC_INIT\nlater\n")
    _git(sub, "commit", "-q", "-am", "moves past the gitlink")
    src = GitSource(url=f"file://{top}", ref="main", commit=commit, submodules=True)
    tree = fetch_git(src, "svsm", tmp_path / "cache", tmp_path / "fetch.log")
    assert tree == tmp_path / "cache" / "sources" / "git" / commit
    assert _git(tree, "rev-parse", "HEAD") == commit
    assert _git(tree / "deps" / "tpm", "rev-parse", "HEAD") == pinned_sub
    assert (tree / "deps" / "tpm" / "configure.ac").read_text() == "AC_INIT\n"
    # A second fetch reuses the cache entry.
    assert fetch_git(src, "svsm", tmp_path / "cache", tmp_path / "fetch.log") == tree


def test_a_commit_the_remote_does_not_have_is_a_source_error(tmp_path: Path) -> None:
    require_program("git")
    repo = tmp_path / "repo"
    _repo(repo, {"a": "1\n"})
    src = GitSource(url=f"file://{repo}", ref="v9.9", commit="0" * 40)
    with pytest.raises(SourceError, match=r"cannot fetch file://.*\(v9\.9 @ 000000000000\)"):
        fetch_git(src, "qemu", tmp_path / "cache", tmp_path / "fetch.log")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request to the test's stderr."""

    def log_message(self, _format: str, *_args: object) -> None:
        return


@contextlib.contextmanager
def _http_server(root: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/debian"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _source_package(mirror_root: Path) -> Path:
    """A tiny native Debian source package, built with dpkg-source into a pool directory."""
    tree = mirror_root / "build" / "snpfix-1.0"
    (tree / "debian" / "source").mkdir(parents=True)
    (tree / "debian" / "source" / "format").write_text("3.0 (native)\n")
    (tree / "debian" / "changelog").write_text(
        "snpfix (1.0) unstable; urgency=medium\n\n  * Fixture.\n\n"
        " -- snpapp tests <tests@snpapp.invalid>  Wed, 01 Jan 2025 00:00:00 +0000\n"
    )
    (tree / "debian" / "control").write_text(
        "Source: snpfix\nMaintainer: snpapp tests <tests@snpapp.invalid>\n\n"
        "Package: snpfix\nArchitecture: all\nDescription: fixture\n fixture\n"
    )
    (tree / "hello.c").write_text("int main(void) { return 0; }\n")
    pool = mirror_root / "debian" / "pool" / "main" / "s" / "snpfix"
    pool.mkdir(parents=True)
    proc.run(["dpkg-source", "-b", tree.name], cwd=tree.parent)
    for built in tree.parent.glob("snpfix_1.0*"):
        built.rename(pool / built.name)
    return pool / "snpfix_1.0.dsc"


def test_debian_source_is_verified_and_unpacked(tmp_path: Path) -> None:
    require_program("dpkg-source")
    dsc = _source_package(tmp_path / "mirror")
    pinned = hashlib.sha256(dsc.read_bytes()).hexdigest()
    src = DebianSource(package="snpfix", version="1.0", suite="bookworm",
                       dsc="pool/main/s/snpfix/snpfix_1.0.dsc", dsc_sha256=pinned)  # fmt: skip
    with _http_server(tmp_path / "mirror") as mirror:
        tree = fetch_debian(src, "qemu", mirror, tmp_path / "cache", tmp_path / "fetch.log")
        assert (tree / "hello.c").read_text() == "int main(void) { return 0; }\n"
        assert (tree / "debian" / "changelog").is_file()
        wrong = DebianSource(**{**src.__dict__, "version": "1.0-x", "dsc_sha256": "f" * 64})
        with pytest.raises(SourceError, match=f"has SHA-256 {pinned}, the pin says f{{64}}"):
            fetch_debian(wrong, "qemu", mirror, tmp_path / "cache2", tmp_path / "fetch.log")
        missing = DebianSource(**{**src.__dict__, "dsc": "pool/main/s/snpfix/nope.dsc"})
        with pytest.raises(
            SourceError, match=r"cannot download http://127\.0\.0\.1:\d+/debian/pool"
        ):
            fetch_debian(missing, "qemu", mirror, tmp_path / "cache3", tmp_path / "fetch.log")
    assert not list((tmp_path / "cache2" / "downloads").rglob("*.partial"))


def test_local_tree_digest_follows_content(tmp_path: Path) -> None:
    tree = tmp_path / "linux"
    tree.mkdir()
    (tree / "Makefile").write_text("VERSION = 6\n")
    first = local_tree_digest(tree)
    assert local_tree_digest(tree) == first
    (tree / "Makefile").write_text("VERSION = 7\n")
    assert local_tree_digest(tree) != first
    with pytest.raises(SourceError, match="does not exist"):
        local_tree_digest(tmp_path / "nope")
