"""Which ssh failures SshHost retries: a fake runner stands in for the ssh client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from snpappliance.errors import ConnectionLostError, TransportError
from snpappliance.hosts.ssh import SshHost
from snpappliance.hosts.sshcmd import SshSettings

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

REFUSED = "ssh: connect to host 127.0.0.1 port 22: Connection refused\n"


class FakeSsh:
    """Answers each ssh call with the next (exit status, stderr) and counts the calls."""

    def __init__(self, answers: Sequence[tuple[int, str]]) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, argv: Sequence[str], **_: object) -> proc.Completed:
        returncode, stderr = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return proc.Completed(tuple(argv), returncode, "", stderr, 0.01)


def _host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeSsh) -> SshHost:
    monkeypatch.setattr(proc, "run", fake)
    return SshHost(
        SshSettings(destination="genoa01", control_dir=tmp_path / "ctl", attempts=4, backoff_s=0)
    )


def test_a_lost_connection_does_not_run_a_command_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeSsh([(255, ""), (0, "")])
    host = _host(tmp_path, monkeypatch, fake)
    with pytest.raises(ConnectionLostError) as caught:
        host.run(["sh", "-c", "echo x >> /var/log/once"])
    assert fake.calls == 1
    assert caught.value.message == (
        "the SSH connection to genoa01 was lost while running sh, which may have partly run there"
    )


def test_an_idempotent_command_is_run_again_after_a_lost_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeSsh([(255, ""), (255, "Connection to 127.0.0.1 closed by remote host.\n"), (0, "")])
    host = _host(tmp_path, monkeypatch, fake)
    assert host.run(["cat", "/proc/cmdline"], idempotent=True).ok
    assert fake.calls == 3


def test_failures_before_the_start_are_retried_for_any_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeSsh([(255, REFUSED), (255, REFUSED), (0, "")])
    host = _host(tmp_path, monkeypatch, fake)
    assert host.run(["mv", "-T", "--", "a", "b"]).ok
    assert fake.calls == 3


def test_a_loss_after_refusals_stops_and_counts_the_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeSsh([(255, REFUSED), (255, ""), (0, "")])
    host = _host(tmp_path, monkeypatch, fake)
    with pytest.raises(ConnectionLostError) as caught:
        host.run(["mv", "-T", "--", "a", "b"])
    assert fake.calls == 2
    assert caught.value.message.endswith("(2 attempts)")


def test_retries_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeSsh([(255, REFUSED)])
    host = _host(tmp_path, monkeypatch, fake)
    with pytest.raises(TransportError) as caught:
        host.run(["true"], idempotent=True)
    assert type(caught.value) is TransportError
    assert fake.calls == 4
    assert caught.value.message.endswith("(4 attempts)")
