"""Waiting for a rebooted host, against a real sshd that goes away and comes back."""

from __future__ import annotations

import platform
import threading
from typing import TYPE_CHECKING

import pytest

from snpappliance.deploy.reboot import boot_id, wait_for_boot
from snpappliance.errors import DeployError

if TYPE_CHECKING:
    from tests.integration.sshd import SshServer

pytestmark = [pytest.mark.integration, pytest.mark.ssh]


def test_waits_through_the_outage_until_the_new_boot_answers(ssh_server: SshServer) -> None:
    host = ssh_server.host(attempts=2, backoff_s=0.2)
    assert len(boot_id(host)) == 36
    ssh_server.stop()
    comeback = threading.Timer(2.0, ssh_server.start)
    comeback.start()
    said: list[str] = []
    try:
        wait_for_boot(
            host, old_boot_id="the-boot-before", kernel=platform.release(), timeout_s=60,
            poll_s=0.3, say=said.append,
        )  # fmt: skip
    finally:
        comeback.join()
    assert any("waiting for genoa01 to answer over SSH" in m for m in said)


def test_a_host_that_booted_another_kernel_is_reported(ssh_server: SshServer) -> None:
    host = ssh_server.host()
    with pytest.raises(DeployError) as caught:
        wait_for_boot(
            host, old_boot_id="the-boot-before", kernel="6.12.0-snp-host-0123abcd",
            timeout_s=30, poll_s=0.3, say=lambda _: None,
        )  # fmt: skip
    assert f"came back with kernel {platform.release()}" in caught.value.message
    assert caught.value.hint is not None
    assert "snpapp deploy --rollback --host genoa01" in caught.value.hint


def test_waiting_is_bounded(ssh_server: SshServer) -> None:
    host = ssh_server.host(attempts=1)
    ssh_server.stop()
    with pytest.raises(DeployError) as caught:
        wait_for_boot(
            host, old_boot_id="x", kernel="k", timeout_s=2, poll_s=0.5, say=lambda _: None
        )
    assert "did not come back within 2 s" in caught.value.message
