"""Pin checks as data: git refs, .dsc verification and Packages indices, with fake servers."""

from __future__ import annotations

import hashlib

import pytest

from snpappliance.build.pincheck import (
    NotFound,
    PinStatus,
    Unreachable,
    check_debian,
    check_git,
    parse_packages,
)
from snpappliance.formats.stack import DebianSource, GitSource

PIN = "d7b8f8e20813f0179d8ef519541a3527e7661d3a"
TAG_OBJECT = "1" * 40


def _git(ref: str) -> GitSource:
    return GitSource(url="https://example.invalid/linux.git", ref=ref, commit=PIN)


def test_annotated_tag_is_compared_peeled() -> None:
    refs = {"refs/tags/v6.16-rc5": TAG_OBJECT, "refs/tags/v6.16-rc5^{}": PIN}
    check = check_git("kernel", _git("v6.16-rc5"), lambda _url, _wanted: refs)
    assert check.status is PinStatus.OK
    assert check.detail == "refs/tags/v6.16-rc5 is the pinned commit"


def test_moved_tag_warns_with_the_new_target() -> None:
    refs = {"refs/tags/v1^{}": "2" * 40}
    check = check_git("kernel", _git("v1"), lambda _url, _wanted: refs)
    assert check.status is PinStatus.WARN
    assert "refs/tags/v1 now points to 222222222222" in check.detail


def test_ref_with_a_description_uses_its_first_word() -> None:
    asked: list[tuple[str, ...]] = []

    def ls_remote(url: str, wanted: tuple[str, ...]) -> dict[str, str]:
        asked.append(wanted)
        return {"refs/heads/main": PIN}

    check = check_git("svsm", _git("main (2024-04-29, PR #333)"), ls_remote)
    assert asked == [("main", "main^{}")]
    assert check.status is PinStatus.OK


def test_unreachable_remote_is_reported_as_such() -> None:
    def ls_remote(url: str, wanted: tuple[str, ...]) -> dict[str, str]:
        msg = "Could not resolve host: example.invalid"
        raise Unreachable(msg)

    check = check_git("kernel", _git("v1"), ls_remote)
    assert check.status is PinStatus.UNREACHABLE
    assert "Could not resolve host" in check.detail


def _debian(dsc: bytes) -> DebianSource:
    return DebianSource(package="qemu", version="1:1.0-1", suite="trixie",
                        dsc="pool/main/q/qemu/qemu_1.0-1.dsc",
                        dsc_sha256=hashlib.sha256(dsc).hexdigest())  # fmt: skip


DSC = b"Checksums-Sha256:\n " + b"a" * 64 + b" 10 qemu_1.0.orig.tar.xz\n"


def test_dsc_with_other_bytes_fails() -> None:
    src = _debian(DSC)
    check = check_debian("qemu", src, "http://m/", lambda _url, _head: DSC + b"tampered")
    assert check.status is PinStatus.FAIL
    assert "has SHA-256" in check.detail


@pytest.mark.parametrize("missing", ["qemu_1.0-1.dsc", "qemu_1.0.orig.tar.xz"])
def test_missing_pool_file_fails(missing: str) -> None:
    def get(url: str, head: bool) -> bytes:
        if url.endswith(missing):
            msg = "HTTP 404"
            raise NotFound(msg)
        return DSC

    check = check_debian("qemu", _debian(DSC), "http://m", get)
    assert check.status is PinStatus.FAIL
    assert missing in check.detail
    assert "404" in check.detail


def test_parse_packages_collects_every_version() -> None:
    text = (
        "Package: meson\nVersion: 1.0.1-5\nArchitecture: all\n\n"
        "Package: meson\nVersion: 1.7.0-1~bpo12+1\n\n"
        "Package: gcc\nSource: gcc-defaults (1.205)\nVersion: 4:12.2.0-3\n"
    )
    assert parse_packages(text) == {
        "meson": {"1.0.1-5", "1.7.0-1~bpo12+1"},
        "gcc": {"4:12.2.0-3"},
    }
