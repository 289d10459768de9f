"""The cloud guest's files: the verified base image on the host, and the campaign's
key pairs, known_hosts and NoCloud seed (made once, reused by every run and on resume).

The seed holds the guest's SSH host private key, so the campaign's guest files
are secrets: mode 0600 in 0700 directories, here and on the host. Base images
go to a private directory on a remote host (see
:func:`~snpappliance.hosts.private_dir.ensure_private_dir`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance.campaign.guests.cloud import guestssh
from snpappliance.campaign.guests.cloud.image import fetch_image, local_image, qemu_img_for
from snpappliance.campaign.guests.cloud.seed import DEFAULT_PACKAGES, CloudSeed, build_seed
from snpappliance.campaign.guests.cloud.sshkey import HOST_KEY, ensure_guest_key, make_private_dir
from snpappliance.errors import CampaignError
from snpappliance.formats.manifest import FileEntry, Manifest
from snpappliance.fsutil import atomic_write_text, sha256_file
from snpappliance.hosts.private_dir import ensure_private_dir

if TYPE_CHECKING:
    from snpappliance.campaign.spec import CampaignSpec
    from snpappliance.hosts.base import Host

#: Where base images are kept on a remote host, named by their SHA-256: this
#: directory under snpapp's private directory in the SSH user's cache directory.
HOST_IMAGE_DIR = "images"
IMAGE_CACHE = "cloud-images"
CLOUD_COMPONENT = "cloud-guest"
HOSTNAME = "snpapp-guest"


@dataclass(frozen=True)
class CloudGuest:
    """The campaign's base image: where it is on the host, and what it is."""

    base_image: str
    sha256: str
    source: str
    qemu_img: str


@dataclass(frozen=True)
class CampaignFiles:
    """The campaign's guest files, as paths on the host that runs QEMU."""

    seed: str
    key: str
    known_hosts: str
    user: str
    ready_file: str


def _local_base(spec: CampaignSpec, artifacts_root: Path) -> tuple[Path, str, str]:
    guest = spec.guest
    if guest.image is not None:
        path = local_image(Path(guest.image), guest.image_sha256)
        return path, guest.image_sha256 or sha256_file(path), guest.image
    assert guest.image_url is not None
    assert guest.image_sha256 is not None
    cache = artifacts_root / IMAGE_CACHE
    return (
        fetch_image(guest.image_url, guest.image_sha256, cache),
        guest.image_sha256,
        guest.image_url,
    )


def _host_sha256(host: Host, path: str) -> str | None:
    result = host.run(["sha256sum", "--", path], check=False, timeout=600, idempotent=True)
    return result.stdout.split()[0] if result.ok and result.stdout else None


def _upload(host: Host, local: Path, sha256: str) -> str:
    images = ensure_private_dir(host, HOST_IMAGE_DIR)
    remote = f"{images}/{sha256}{local.suffix or '.img'}"
    if _host_sha256(host, remote) == sha256:
        return remote
    host.put(local, remote)
    if (found := _host_sha256(host, remote)) != sha256:
        msg = (
            f"the guest image copied to {host.name}:{remote} has SHA-256 {found}, expected {sha256}"
        )
        raise CampaignError(
            msg,
            hint=f"check free space under {images} on {host.name} and start again",
        )
    return remote


def prepare_cloud(
    spec: CampaignSpec, host: Host, artifacts_root: Path
) -> tuple[CloudGuest, Manifest]:
    """The verified base image, placed on the host, and a manifest that names it."""
    local, sha256, source = _local_base(spec, artifacts_root)
    base = str(local.resolve()) if host.is_local else _upload(host, local, sha256)
    qemu_img = qemu_img_for(spec.qemu.binary)
    if not host.run(
        ["sh", "-c", 'command -v "$1"', "sh", qemu_img], check=False, idempotent=True
    ).ok:
        msg = f"{qemu_img} (for the guest's per-run disk) is missing on host {host.name}"
        raise CampaignError(
            msg,
            hint="install qemu-img (Debian/Ubuntu: apt-get install qemu-utils)",
        )
    manifest = Manifest(
        stack=spec.stack,
        component=CLOUD_COMPONENT,
        files=(FileEntry(path=local.name, size=local.stat().st_size, sha256=sha256),),
        source={"image": source},
    )
    return CloudGuest(base, sha256, source, qemu_img), manifest


def _keep_private(directory: Path) -> None:
    """Tighten a seed directory an older snpapp left readable to every local user."""
    make_private_dir(directory)
    for path in directory.iterdir():
        if path.is_file():
            path.chmod(0o600)


def stage_campaign(
    host: Host, local_dir: Path, host_dir: str, name: str, extra_packages: tuple[str, ...] = ()
) -> CampaignFiles:
    """Key pairs, known_hosts and the seed in ``local_dir``, copied to ``host_dir`` on the host.

    The seed installs ``extra_packages`` beside sysbench and time (e.g. the PTS smoke
    tests' packages, see :func:`snpappliance.campaign.ptsguest.guest_packages`).
    """
    make_private_dir(local_dir)
    client = ensure_guest_key(local_dir, f"snpapp-{name}")
    host_key = ensure_guest_key(local_dir, f"snpapp-{name}-guest", HOST_KEY)
    seed = CloudSeed(
        hostname=HOSTNAME,
        instance_id=name,
        ssh_public_key=client.public_line,
        host_key_private=host_key.private_text,
        host_key_public=host_key.public_line,
        packages=(*DEFAULT_PACKAGES, *extra_packages),
    )
    known_hosts = local_dir / "known_hosts"
    if not known_hosts.exists():
        atomic_write_text(known_hosts, guestssh.known_hosts_line(host_key.public_line), mode=0o600)
    known_hosts.chmod(0o600)
    iso = local_dir / "seed" / "seed.iso"
    if iso.exists():
        _keep_private(iso.parent)
    else:
        build_seed(seed, iso.parent)
    # The seed goes last: once it is on the host, the key and known_hosts are too.
    files = {"key": client.private, "known_hosts": known_hosts, "seed": iso}
    if host.is_local:
        paths = {k: str(v.resolve()) for k, v in files.items()}
    else:
        paths = {k: f"{host_dir}/{v.name}" for k, v in files.items()}
        if not host.run(["test", "-e", paths["seed"]], check=False, idempotent=True).ok:
            host.run(["install", "-d", "-m", "700", "--", host_dir], idempotent=True)
            for key, path in files.items():
                host.put(path, paths[key])
            host.run(["chmod", "600", "--", *paths.values()], idempotent=True)
    return CampaignFiles(
        seed=paths["seed"],
        key=paths["key"],
        known_hosts=paths["known_hosts"],
        user=seed.user,
        ready_file=seed.ready_file,
    )
