"""The NoCloud seed ISO built with the real genisoimage, read back with isoinfo; ssh-keygen."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign.guests.cloud.seed import CloudSeed, build_seed, render_seed
from snpappliance.campaign.guests.cloud.sshkey import HOST_KEY, ensure_guest_key
from tests.conftest import require_program

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration


def _isoinfo(*args: str) -> str:
    return subprocess.run(
        [require_program("isoinfo"), *args], check=True, capture_output=True, text=True
    ).stdout


def test_seed_iso_holds_the_rendered_files_under_the_cidata_label(tmp_path: Path) -> None:
    require_program("genisoimage")
    require_program("ssh-keygen")
    key = ensure_guest_key(tmp_path / "keys", "snpapp-test")
    host_key = ensure_guest_key(tmp_path / "keys", "snpapp-test-host", HOST_KEY)
    seed = CloudSeed(
        hostname="snpapp-guest",
        instance_id="t-1",
        ssh_public_key=key.public_line,
        host_key_private=host_key.private_text,
        host_key_public=host_key.public_line,
    )
    iso = build_seed(seed, tmp_path / "seed")
    assert "Volume id: cidata" in _isoinfo("-d", "-i", str(iso))
    listed = set(_isoinfo("-R", "-f", "-i", str(iso)).split())
    assert listed == {"/user-data", "/meta-data"}
    expected = render_seed(seed)
    for name in ("user-data", "meta-data"):
        content = _isoinfo("-R", "-x", f"/{name}", "-i", str(iso))
        assert content == expected[name]
    assert key.public_line in expected["user-data"]


def test_guest_key_is_made_once_and_reused(tmp_path: Path) -> None:
    require_program("ssh-keygen")
    first = ensure_guest_key(tmp_path, "snpapp-test")
    line = first.public_line
    assert line.startswith("ssh-ed25519 ")
    assert line.endswith(" snpapp-test")
    assert first.private.stat().st_mode & 0o777 == 0o600
    assert ensure_guest_key(tmp_path, "snpapp-test").public_line == line
