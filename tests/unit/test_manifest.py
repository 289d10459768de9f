from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import InputError
from snpappliance.formats.manifest import Manifest, describe_files, verify

if TYPE_CHECKING:
    from pathlib import Path


def test_round_trip_and_verify(tmp_path: Path) -> None:
    (tmp_path / "OVMF.fd").write_bytes(b"\x00" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.deb").write_bytes(b"deb")
    manifest = Manifest(
        stack="debian-bookworm",
        component="ovmf",
        files=describe_files(tmp_path),
        patches=({"name": "0001-a.patch", "sha256": "00" * 32},),
        toolchain={"gcc": "12.2.0"},
    )
    manifest.save(tmp_path)
    loaded = Manifest.load(tmp_path)
    assert loaded == manifest
    assert loaded.digest == manifest.digest
    assert [f.path for f in loaded.files] == ["OVMF.fd", "sub/x.deb"]
    assert verify(tmp_path, loaded) == []
    (tmp_path / "sub" / "x.deb").write_bytes(b"DEB")
    (tmp_path / "OVMF.fd").unlink()
    assert verify(tmp_path, loaded) == ["OVMF.fd: missing", "sub/x.deb: SHA-256 mismatch"]


def test_missing_manifest_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a complete build") as info:
        Manifest.load(tmp_path)
    assert info.value.hint is not None
    assert "snpapp build" in info.value.hint
