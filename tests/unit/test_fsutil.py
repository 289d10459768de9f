from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import OutputError
from snpappliance.fsutil import atomic_write_text, ensure_writable_dir, sha256_file, staged_dir

if TYPE_CHECKING:
    from pathlib import Path


def test_staged_dir_publishes_on_success(tmp_path: Path) -> None:
    final = tmp_path / "report"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with staged_dir(final) as staging:
        (staging / "new.txt").write_text("new")
        assert not (final / "new.txt").exists()
    assert (final / "new.txt").read_text() == "new"
    assert not (final / "old.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_staged_dir_leaves_previous_content_on_failure(tmp_path: Path) -> None:
    final = tmp_path / "report"
    final.mkdir()
    (final / "old.txt").write_text("old")

    def render_and_fail() -> None:
        with staged_dir(final) as staging:
            (staging / "half.txt").write_text("half")
            msg = "boom"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError):
        render_and_fail()
    assert (final / "old.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_atomic_write_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.txt"
    atomic_write_text(path, "abc")
    assert path.read_text() == "abc"
    # sha256("abc"), FIPS 180-2 test vector
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_unwritable_output_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create output directory"):
        ensure_writable_dir(blocker / "sub")
