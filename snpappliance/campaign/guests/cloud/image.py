"""The cloud guest's disk: the base image (downloaded or local, always SHA-256 checked)
and a fresh copy-on-write overlay on it for every run.

Downloads go to a cache named by the image's SHA-256, through a temporary file
that is renamed only once the checksum matched, so a cached image is always a
verified one. The overlay (``qemu-img create -f qcow2 -b BASE -F FMT``) makes
every run boot an unused guest while the base image stays untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance.errors import CampaignError
from snpappliance.fsutil import sha256_file

if TYPE_CHECKING:
    from snpappliance.hosts.base import Host

DOWNLOAD_TIMEOUT_S = 30.0
_CHUNK = 1 << 20
QEMU_IMG_HINT = "install qemu-img (Debian: apt-get install qemu-utils) on the host"


def _offline_hint(url: str) -> str:
    return (
        f'download {url} on a machine that can reach it and set `image = "/path/to/file"` '
        "in the spec's [guest] table (with its image_sha256), or check this machine's "
        "network and proxy settings"
    )


def cached_path(cache_dir: Path, sha256: str, url: str) -> Path:
    """Where the verified download of ``url`` lives in the cache."""
    suffix = Path(url.rsplit("/", 1)[-1]).suffix or ".img"
    return cache_dir / f"{sha256}{suffix}"


def _download(url: str, dest: Path) -> None:
    try:
        with (
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response,
            dest.open("wb") as out,
        ):
            while chunk := response.read(_CHUNK):
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        exc.close()
        msg = f"cannot download the guest image {url}: HTTP {exc.code} {exc.reason}"
        raise CampaignError(
            msg,
            hint=_offline_hint(url),
        ) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        msg = f"cannot download the guest image {url}: {reason}"
        raise CampaignError(
            msg,
            hint=_offline_hint(url),
        ) from exc


def fetch_image(url: str, sha256: str, cache_dir: Path) -> Path:
    """The verified local copy of ``url``: from the cache, or downloaded and checked."""
    target = cached_path(cache_dir, sha256, url)
    if target.is_file() and sha256_file(target) == sha256:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".download-", dir=cache_dir)
    os.close(fd)
    partial = Path(name)
    try:
        _download(url, partial)
        actual = sha256_file(partial)
        if actual != sha256:
            msg = (
                f"the guest image downloaded from {url} has SHA-256 {actual}, "
                f"but the spec's image_sha256 is {sha256}"
            )
            raise CampaignError(
                msg,
                hint="check image_sha256 against the SHA256SUMS published next to the image "
                "(a moving link such as release/ changes with every Ubuntu build)",
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def local_image(path: Path, sha256: str | None) -> Path:
    """A local image file given in the spec, checked against ``sha256`` when given."""
    if not path.is_file():
        msg = f"the guest image {path} does not exist"
        raise CampaignError(
            msg,
            hint="set guest.image to an existing cloud image file, or remove it to download "
            "guest.image_url",
        )
    if sha256 is not None and (actual := sha256_file(path)) != sha256:
        msg = (
            f"the guest image {path} has SHA-256 {actual}, but the spec's image_sha256 is {sha256}"
        )
        raise CampaignError(
            msg,
            hint="fix guest.image_sha256 or use the image it names",
        )
    return path


def image_format(host: Host, qemu_img: str, path: str) -> str:
    """The disk format of ``path`` on the host (``qcow2`` for Ubuntu's .img), per qemu-img."""
    result = host.run([qemu_img, "info", "--output=json", path], timeout=60, idempotent=True)
    try:
        fmt = json.loads(result.stdout)["format"]
    except (ValueError, KeyError, TypeError) as exc:
        msg = f"qemu-img info on {host.name} did not say the format of {path}"
        raise CampaignError(
            msg,
            hint=QEMU_IMG_HINT,
            detail=result.stdout[-500:],
        ) from exc
    return str(fmt)


def overlay_argv(
    qemu_img: str, base: str, base_format: str, overlay: str, size_gib: int
) -> list[str]:
    """qemu-img creating a fresh copy-on-write disk on ``base`` (``size_gib`` virtual)."""
    return [
        qemu_img,
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        base,
        "-F",
        base_format,
        overlay,
        f"{size_gib}G",
    ]


def qemu_img_for(qemu_binary: str) -> str:
    """qemu-img next to the QEMU the campaign runs (a release's), else the one on PATH."""
    if "/" in qemu_binary:
        return str(Path(qemu_binary).with_name("qemu-img"))
    return "qemu-img"


def create_overlay(host: Host, qemu_img: str, base: str, overlay: str, size_gib: int) -> None:
    """Make ``overlay`` on the host: a fresh, empty copy-on-write disk on ``base``."""
    fmt = image_format(host, qemu_img, base)
    host.run(["rm", "-f", "--", overlay], idempotent=True)
    # qemu-img create replaces a half-made overlay: running it again is safe.
    host.run(overlay_argv(qemu_img, base, fmt, overlay, size_gib), timeout=120, idempotent=True)
