"""Leaving a ``with`` block of an :class:`SshHost` stops its master connection (real sshd)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from snpappliance.hosts import sshcmd

if TYPE_CHECKING:
    from snpappliance.hosts.ssh import SshHost
    from tests.integration.sshd import SshServer

pytestmark = [pytest.mark.integration, pytest.mark.ssh]


def _master_running(host: SshHost) -> bool:
    argv = [*sshcmd.ssh_options(host.settings), "-O", "check", "--", host.name]
    return proc.run(argv, check=False, timeout=30).ok


def test_the_master_connection_ends_with_the_block(ssh_server: SshServer) -> None:
    with ssh_server.host() as host:
        host.run(["true"])
        assert _master_running(host)
    assert not _master_running(host)
    # A closed host connects again when used, and closing twice is harmless.
    host.run(["true"])
    host.close()
    host.close()
    assert not _master_running(host)
