"""Waiting for a rebooting host through the ways SSH fails while it is down.

A host that powers off sends no TCP reset: a command on the multiplexed
connection hangs until ssh is killed at its limit (a CommandTimeoutError), and
that must count as "not back yet", like a refused or lost connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance.deploy.reboot import reboot_into, wait_for_boot
from snpappliance.deploy.system import reboot_step
from snpappliance.errors import (
    AuthenticationError,
    CommandTimeoutError,
    ConnectionLostError,
    DeployError,
)
from snpappliance.proc import Completed
from tests.fakes import FakeRemoteHost

if TYPE_CHECKING:
    from collections.abc import Sequence

NEW = "6.12.95+deb12-cloud-amd64"
Answer = str | Exception


class ScriptedHost(FakeRemoteHost):
    """A host whose commands answer, in order, from a script (a text or an error)."""

    def __init__(self, answers: Sequence[Answer]) -> None:
        super().__init__()
        self.answers = list(answers)

    def answer(self, argv: Sequence[str]) -> Completed:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Completed(tuple(argv), 0, answer, "", 0.0)


def _stalled() -> CommandTimeoutError:
    return CommandTimeoutError(
        "sh did not finish within 30 s on genoa01: the SSH connection stopped answering"
    )


def test_a_stalled_connection_while_the_host_is_down_is_waited_through() -> None:
    host = ScriptedHost([_stalled(), ConnectionLostError("lost"), f"new-boot\n{NEW}\n"])
    said: list[str] = []
    wait_for_boot(host, old_boot_id="old-boot", kernel=NEW, timeout_s=60, poll_s=0, say=said.append)
    assert len(host.commands) == 3
    assert sum("waiting for genoa01 to answer over SSH" in m for m in said) == 2


def test_the_reboot_command_hanging_on_a_dying_connection_is_not_an_error() -> None:
    host = ScriptedHost(["old-boot\n", _stalled(), f"new-boot\n{NEW}\n"])
    reboot_into(host, NEW, reboot_step(), timeout_s=60, say=lambda _: None, hint="h")
    assert list(host.commands[1]) == ["systemctl", "reboot"]


def test_a_refused_login_still_stops_the_wait() -> None:
    host = ScriptedHost([AuthenticationError("denied")])
    with pytest.raises(AuthenticationError):
        wait_for_boot(host, old_boot_id="b", kernel=NEW, timeout_s=60, poll_s=0, say=print)


def test_a_host_that_keeps_stalling_is_bounded() -> None:
    host = ScriptedHost([_stalled()] * 1000)
    with pytest.raises(DeployError) as caught:
        wait_for_boot(host, old_boot_id="b", kernel=NEW, timeout_s=0.05, poll_s=0.01,
                      say=lambda _: None)  # fmt: skip
    assert "did not come back within" in caught.value.message
