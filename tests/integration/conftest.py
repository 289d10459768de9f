"""Session fixtures for tests against a real Docker engine.

``docker_engine`` connects to the engine the environment names; when none
answers and we are root, it starts ``dockerd`` in the background for the
session (and stops it afterwards, only if it started it). In CI a missing
engine fails the tests instead of skipping them. ``base_image`` bootstraps
the Debian base once; its tag is a content hash, so later runs reuse it.
``guest_artifacts`` builds the benchmark guest once per session through
`snpapp build guest`'s machinery, for every campaign test that boots it.
``ssh_server`` is a loopback OpenSSH server per test (see sshd.py).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from snpappliance.build.commands import build_base, build_components
from snpappliance.build.docker_engine import Engine
from snpappliance.errors import DockerError
from tests.conftest import require_file, require_program, unavailable
from tests.integration.sshd import SshServer, require_sshd

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Mirror for the test base image: deb.debian.org unless the environment says otherwise.
TEST_MIRROR = os.environ.get("SNPAPP_DEBIAN_MIRROR", "http://deb.debian.org/debian")
DOCKERD_WAIT_S = 60.0
GUEST_STACK = "debian-bookworm"
OVMF = "/usr/share/ovmf/OVMF.fd"


def _connect() -> Engine | None:
    with contextlib.suppress(DockerError):
        return Engine.connect()
    return None


@contextlib.contextmanager
def _started_dockerd(log_path: Path) -> Iterator[Engine]:
    dockerd = require_program("dockerd")
    with log_path.open("wb") as log, proc.spawn([dockerd], stdout=log, stderr=log, grace_s=20):
        deadline = time.monotonic() + DOCKERD_WAIT_S
        while (engine := _connect()) is None:
            if time.monotonic() > deadline:
                pytest.fail(f"dockerd did not answer within {DOCKERD_WAIT_S:g} s (see {log_path})")
            time.sleep(0.5)
        yield engine


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A connected engine; started for the session when none runs and we are root."""
    engine = _connect()
    if engine is not None:
        yield engine
        engine.close()
        return
    if os.geteuid() != 0:
        unavailable("no Docker engine answers and starting dockerd needs root")
    log_path = tmp_path_factory.mktemp("dockerd") / "dockerd.log"
    with _started_dockerd(log_path) as started:
        yield started


@pytest.fixture(scope="session")
def base_image(docker_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bootstrapped Debian base (``snpapp-base:bookworm-<hash>``), built at most once."""
    require_program("debootstrap")
    if os.geteuid() != 0:
        unavailable("bootstrapping the base image needs root (debootstrap)")
    root = tmp_path_factory.mktemp("base")
    return build_base(
        "genoa-2025", artifacts_root=root / "artifacts", mirror=TEST_MIRROR,
        cache_root=root / "cache",
    )  # fmt: skip


@pytest.fixture(scope="session")
def guest_artifacts(base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artefacts root holding the guest built by `snpapp build guest`'s machinery."""
    require_program("qemu-system-x86_64")
    require_file(Path(OVMF), "ovmf")
    root = tmp_path_factory.mktemp("guest-artifacts")
    build_components(
        GUEST_STACK, ["guest"], artifacts_root=root, mirror=TEST_MIRROR, cache_root=root / "cache"
    )
    return root


@pytest.fixture
def ssh_server(tmp_path: Path) -> Iterator[SshServer]:
    """A started :class:`SshServer`; stopped, with its master connections, afterwards."""
    require_sshd()
    server = SshServer(tmp_path / "sshd")
    try:
        server.start()
        yield server
    finally:
        server.close()
