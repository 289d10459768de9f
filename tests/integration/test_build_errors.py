"""Clear errors when the engine, a source or the Debian mirror cannot be reached."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance.build.base import check_mirror
from snpappliance.build.docker_engine import Engine
from snpappliance.build.sources import fetch_git
from snpappliance.errors import DockerError, SourceError
from snpappliance.formats.stack import GitSource
from tests.conftest import require_program

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

#: Nothing listens on the discard port of the loopback address.
DEAD_URL = "http://127.0.0.1:9"


def test_unreachable_engine_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(DockerError) as info:
        Engine.connect()
    socket = f"unix://{tmp_path}/no-docker.sock"
    assert info.value.message == f"the Docker engine at {socket} does not answer"
    assert info.value.hint is not None
    assert "dockerd" in info.value.hint
    assert "DOCKER_HOST" in info.value.hint


def test_unreachable_git_source_names_url_and_offline_options(tmp_path: Path) -> None:
    require_program("git")
    src = GitSource(url=f"{DEAD_URL}/linux.git", ref="v6.12",
                    commit="adc218676eef25575469234709c2d87185ca223a")  # fmt: skip
    with pytest.raises(SourceError) as info:
        fetch_git(src, "kernel", tmp_path / "cache", tmp_path / "fetch.log")
    expected = f"cannot fetch {DEAD_URL}/linux.git (v6.12 @ adc218676eef)"
    assert info.value.message.startswith(expected)
    assert info.value.hint is not None
    assert "--source kernel=DIR" in info.value.hint
    assert "--stack debian-bookworm" in info.value.hint
    assert not list((tmp_path / "cache" / "sources" / "git").glob("adc2*"))


def test_unreachable_mirror_names_url_and_offline_options() -> None:
    with pytest.raises(SourceError) as info:
        check_mirror(f"{DEAD_URL}/debian", "bookworm", timeout_s=5)
    assert info.value.message.startswith(f"the Debian mirror {DEAD_URL}/debian is unreachable")
    assert info.value.hint is not None
    assert f"{DEAD_URL}/debian/dists/bookworm/Release cannot be reached" in info.value.hint
    assert "--mirror URL or SNPAPP_DEBIAN_MIRROR=URL" in info.value.hint
    assert "--base-image" in info.value.hint
