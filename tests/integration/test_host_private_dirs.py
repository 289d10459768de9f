"""Campaign secrets stay private: modes of a real seed build, and private directories on a
host reached through the real loopback sshd (another local user is simulated by ``nobody``).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign.guests.cloud.assets import prepare_cloud, stage_campaign
from snpappliance.campaign.spec import parse_spec
from snpappliance.errors import HostError
from snpappliance.hosts.local import LocalHost
from snpappliance.hosts.private_dir import ensure_private_dir
from tests.conftest import require_program
from tests.integration import sshd
from tests.integration.sshd import SshServer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from snpappliance.hosts.ssh import SshHost

pytestmark = pytest.mark.integration

SECRETS = ("client_ed25519", "host_ed25519", "known_hosts", "seed/seed.iso", "seed/user-data")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


def _require_seed_tools() -> None:
    require_program("genisoimage")
    require_program("ssh-keygen")


@pytest.fixture
def host_cache(tmp_path: Path) -> Iterator[tuple[SshServer, Path]]:
    """The loopback sshd, with ``$XDG_CACHE_HOME`` of its sessions in ``tmp_path``.

    Keeps the tests out of the real home directory of the user who runs them.
    """
    sshd.require_sshd()
    cache = tmp_path / "host-cache"
    server = SshServer(tmp_path / "sshd")
    with (server.root / "sshd_config").open("a") as config:
        config.write(f"SetEnv XDG_CACHE_HOME={cache}\n")
    try:
        server.start()
        yield server, cache
    finally:
        server.close()


def test_a_seed_build_leaves_every_secret_private(tmp_path: Path) -> None:
    _require_seed_tools()
    local = tmp_path / "work" / "cloud"
    files = stage_campaign(LocalHost(), local, str(local), "t-secrets")
    assert _mode(local) == 0o700
    assert _mode(local / "seed") == 0o700
    for name in SECRETS:
        assert _mode(local / name) == 0o600, name
    assert Path(files.seed) == (local / "seed" / "seed.iso").resolve()


def test_a_resumed_campaign_tightens_a_seed_made_by_an_older_snpapp(tmp_path: Path) -> None:
    _require_seed_tools()
    local = tmp_path / "cloud"
    stage_campaign(LocalHost(), local, str(local), "t-old")
    for path in (local, local / "seed"):
        path.chmod(0o755)
    (local / "seed" / "seed.iso").chmod(0o644)
    stage_campaign(LocalHost(), local, str(local), "t-old")
    assert (_mode(local), _mode(local / "seed"), _mode(local / "seed" / "seed.iso")) == (
        0o700,
        0o700,
        0o600,
    )


@pytest.mark.ssh
def test_the_seed_and_keys_stay_private_on_the_host(
    host_cache: tuple[SshServer, Path], tmp_path: Path
) -> None:
    _require_seed_tools()
    server, _ = host_cache
    remote = tmp_path / "remote" / "cloud"
    remote.parent.mkdir()
    files = stage_campaign(server.host(), tmp_path / "local", str(remote), "t-remote")
    assert _mode(remote) == 0o700
    for path in (files.seed, files.key, files.known_hosts):
        assert _mode(Path(path)) == 0o600, path


@pytest.mark.ssh
def test_a_private_dir_is_made_under_the_hosts_cache_and_reused(
    host_cache: tuple[SshServer, Path],
) -> None:
    server, cache = host_cache
    host = server.host()
    made = ensure_private_dir(host, "work/c-20260101")
    assert made == str(cache / "snpapp" / "guests" / "work" / "c-20260101")
    for path in (cache / "snpapp", cache / "snpapp" / "guests" / "work", Path(made)):
        assert (_mode(path), path.lstat().st_uid) == (0o700, os.getuid()), path
    (Path(made) / "kept").write_text("x")
    assert ensure_private_dir(host, "work/c-20260101") == made
    assert (Path(made) / "kept").read_text() == "x"


def _refused(host: SshHost, relative: str) -> str:
    with pytest.raises(HostError) as caught:
        ensure_private_dir(host, relative)
    assert caught.value.hint
    return caught.value.message


@pytest.mark.ssh
def test_a_dir_another_user_made_is_refused(host_cache: tuple[SshServer, Path]) -> None:
    server, cache = host_cache
    planted = cache / "snpapp" / "guests" / "images"
    planted.mkdir(parents=True, mode=0o700)
    (cache / "snpapp").chmod(0o700)
    (cache / "snpapp" / "guests").chmod(0o700)
    os.chown(planted, _nobody(), -1)
    message = _refused(server.host(), "images")
    assert str(planted) in message
    assert f"owner uid {_nobody()}" in message


@pytest.mark.ssh
def test_an_open_or_linked_dir_is_refused(host_cache: tuple[SshServer, Path]) -> None:
    server, cache = host_cache
    host = server.host()
    top = Path(ensure_private_dir(host, "work")).parent
    (top / "open").mkdir(mode=0o755)
    (top / "open").chmod(0o755)
    assert "mode 755" in _refused(host, "open")
    elsewhere = cache / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (top / "linked").symlink_to(elsewhere)
    assert "symbolic link" in _refused(host, "linked")
    (top / "file").write_text("")
    assert "not a directory" in _refused(host, "file")
    # A parent another user made is refused too, before anything is made inside it.
    os.chown(top / "work", _nobody(), -1)
    assert str(top / "work") in _refused(host, "work/c-1")
    assert not (top / "work" / "c-1").exists()


@pytest.mark.ssh
def test_a_readable_snpapp_cache_is_shared_but_never_writable_by_others(
    host_cache: tuple[SshServer, Path],
) -> None:
    # ~/.cache/snpapp is also where `snpapp build` caches sources (mode 755 there).
    server, cache = host_cache
    host = server.host()
    top = cache / "snpapp"
    top.mkdir(parents=True)
    top.chmod(0o755)
    (top / "work" / "debian-bookworm").mkdir(parents=True)  # the build's source cache
    (top / "work").chmod(0o755)
    made = ensure_private_dir(host, "images")
    assert (_mode(Path(made)), _mode(top)) == (0o700, 0o755)
    assert ensure_private_dir(host, "work/c-1") == str(top / "guests" / "work" / "c-1")
    top.chmod(0o775)
    assert "others may write to it" in _refused(host, "images")


PAYLOAD = b"a guest image, only bytes here\n" * 64

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


@pytest.mark.ssh
def test_the_image_goes_to_a_private_dir_on_the_host(
    host_cache: tuple[SshServer, Path], tmp_path: Path
) -> None:
    require_program("qemu-img")
    server, cache = host_cache
    image = tmp_path / "noble.img"
    image.write_bytes(PAYLOAD)
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    spec = parse_spec(SPEC.format(image=image), source="spec.toml")
    cloud, _ = prepare_cloud(spec, server.host(), tmp_path / "artifacts")
    images = cache / "snpapp" / "guests" / "images"
    assert cloud.base_image == str(images / f"{sha}.img")
    assert Path(cloud.base_image).read_bytes() == PAYLOAD
    assert (_mode(images), images.stat().st_uid) == (0o700, os.getuid())


@pytest.mark.ssh
def test_an_image_dir_another_user_made_is_refused(
    host_cache: tuple[SshServer, Path], tmp_path: Path
) -> None:
    require_program("qemu-img")
    server, cache = host_cache
    planted = cache / "snpapp" / "guests" / "images"
    planted.mkdir(parents=True, mode=0o777)
    (cache / "snpapp").chmod(0o700)
    (cache / "snpapp" / "guests").chmod(0o700)
    planted.chmod(0o777)
    os.chown(planted, _nobody(), -1)
    image = tmp_path / "noble.img"
    image.write_bytes(PAYLOAD)
    spec = parse_spec(SPEC.format(image=image), source="spec.toml")
    with pytest.raises(HostError) as caught:
        prepare_cloud(spec, server.host(), tmp_path / "artifacts")
    assert str(planted) in caught.value.message
    assert list(planted.iterdir()) == []
