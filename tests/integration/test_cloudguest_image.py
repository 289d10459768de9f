"""The cloud image fetch (a local HTTP server) and the per-run overlay (the real qemu-img)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import subprocess
import threading
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign.guests.cloud.assets import prepare_cloud
from snpappliance.campaign.guests.cloud.image import create_overlay, fetch_image, local_image
from snpappliance.campaign.spec import parse_spec
from snpappliance.errors import CampaignError
from snpappliance.hosts.local import LocalHost
from tests.conftest import require_program

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

PAYLOAD = b"not a real cloud image, just bytes to checksum\n" * 100


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """Base URL of an HTTP server on 127.0.0.1 serving ``noble.img``."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "noble.img").write_bytes(PAYLOAD)
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_download_with_the_right_checksum_is_cached(served: str, tmp_path: Path) -> None:
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    path = fetch_image(f"{served}/noble.img", sha, tmp_path / "cache")
    assert path == tmp_path / "cache" / f"{sha}.img"
    assert path.read_bytes() == PAYLOAD
    assert fetch_image("http://127.0.0.1:9/gone.img", sha, tmp_path / "cache") == path


def test_a_checksum_mismatch_keeps_nothing(served: str, tmp_path: Path) -> None:
    url = f"{served}/noble.img"
    with pytest.raises(CampaignError) as info:
        fetch_image(url, "0" * 64, tmp_path / "cache")
    assert url in info.value.message
    assert hashlib.sha256(PAYLOAD).hexdigest() in info.value.message
    assert list((tmp_path / "cache").iterdir()) == []


def test_an_unreachable_url_names_the_offline_option(served: str, tmp_path: Path) -> None:
    url = f"{served}/missing.img"
    with pytest.raises(CampaignError) as info:
        fetch_image(url, "0" * 64, tmp_path / "cache")
    assert f"cannot download the guest image {url}: HTTP 404" in info.value.message
    assert info.value.hint is not None
    assert 'image = "/path/to/file"' in info.value.hint
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_refused_connection_is_reported_too(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/noble.img"
    with pytest.raises(CampaignError) as info:
        fetch_image(url, "0" * 64, tmp_path / "cache")
    assert f"cannot download the guest image {url}: " in info.value.message


def test_a_local_image_is_checked(tmp_path: Path) -> None:
    image = tmp_path / "noble.img"
    image.write_bytes(PAYLOAD)
    assert local_image(image, hashlib.sha256(PAYLOAD).hexdigest()) == image
    with pytest.raises(CampaignError, match="has SHA-256"):
        local_image(image, "0" * 64)
    with pytest.raises(CampaignError, match="does not exist"):
        local_image(tmp_path / "absent.img", None)


def test_each_run_gets_a_fresh_overlay_on_the_untouched_base(tmp_path: Path) -> None:
    qemu_img = require_program("qemu-img")
    base = tmp_path / "base.qcow2"
    subprocess.run([qemu_img, "create", "-q", "-f", "qcow2", str(base), "64M"], check=True)
    before = hashlib.sha256(base.read_bytes()).hexdigest()
    overlay = tmp_path / "run" / "r0001.qcow2"
    overlay.parent.mkdir()
    overlay.write_bytes(b"stale disk of an earlier attempt")
    create_overlay(LocalHost(), qemu_img, str(base), str(overlay), 1)
    info = json.loads(
        subprocess.run(
            [qemu_img, "info", "--output=json", str(overlay)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert info["format"] == "qcow2"
    assert info["backing-filename"] == str(base)
    assert info["backing-filename-format"] == "qcow2"
    assert info["virtual-size"] == 1 << 30
    assert hashlib.sha256(base.read_bytes()).hexdigest() == before


def test_prepare_names_the_local_image_in_the_guest_manifest(tmp_path: Path) -> None:
    require_program("qemu-img")
    image = tmp_path / "noble.img"
    image.write_bytes(PAYLOAD)
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    spec = parse_spec(SPEC.format(image=image), source="spec.toml")
    cloud, manifest = prepare_cloud(spec, LocalHost(), tmp_path / "artifacts")
    assert cloud.base_image == str(image)
    assert cloud.sha256 == sha
    assert cloud.source == str(image)
    assert manifest.component == "cloud-guest"
    assert [(f.path, f.size, f.sha256) for f in manifest.files] == [
        ("noble.img", len(PAYLOAD), sha)
    ]


SPEC = """
[campaign]
name = "t"
[guest]
kind = "cloud"
image = "{image}"
[[scenarios]]
name = "a"
kind = "plain"
baseline = true
[[scenarios]]
name = "b"
kind = "snp-layout"
[workloads.sysbench-cpu]
"""
