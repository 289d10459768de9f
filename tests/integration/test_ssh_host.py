"""SshHost against a real OpenSSH server on loopback."""

from __future__ import annotations

import logging
import secrets
import socket
import threading
from pathlib import Path

import pytest

from snpappliance import proc
from snpappliance.errors import (
    AuthenticationError,
    CommandError,
    CommandTimeoutError,
    ConfigError,
    ConnectionLostError,
    TransportError,
)
from snpappliance.hosts.connect import connect
from snpappliance.hosts.local import LocalHost
from snpappliance.hosts.ssh import SshHost
from snpappliance.hosts.sshcmd import SshSettings
from tests.conftest import wait_for
from tests.integration.sshd import ADDRESS_IN_USE, SshServer, keygen, require_sshd

pytestmark = [pytest.mark.integration, pytest.mark.ssh]


HOSTILE = [
    "a b",
    "$(touch /tmp/snpapp-pwned)",
    "`touch /tmp/snpapp-pwned`",
    "; touch /tmp/snpapp-pwned",
    "'single' \"double\"",
    "new\nline",
    "*",
    "-n",
    "back\\slash",
    "&& exit 7 ||",
]


def test_hostile_arguments_arrive_verbatim(ssh_server: SshServer) -> None:
    host = ssh_server.host()
    result = host.run(["printf", "%s\\0", *HOSTILE])
    assert result.stdout.split("\0")[:-1] == HOSTILE
    assert not Path("/tmp/snpapp-pwned").exists()


def test_env_and_input_are_passed_safely(ssh_server: SshServer) -> None:
    host = ssh_server.host()
    value = "x y; $(id) `id` 'q'"
    assert (
        host.run(["sh", "-c", 'printf %s "$SNP_VALUE"'], env={"SNP_VALUE": value}).stdout == value
    )
    assert host.run(["cat"], input="line one\nline two\n").stdout == "line one\nline two\n"


def test_exit_status_is_the_remote_commands(ssh_server: SshServer) -> None:
    host = ssh_server.host()
    assert host.run(["sh", "-c", "exit 3"], check=False).returncode == 3
    with pytest.raises(CommandError) as caught:
        host.run(["sh", "-c", "echo broken >&2; exit 4"])
    assert caught.value.returncode == 4
    assert "broken" in caught.value.stderr_tail
    assert "genoa01" in caught.value.message


def test_put_and_get_files_and_directories(ssh_server: SshServer, tmp_path: Path) -> None:
    host = ssh_server.host()
    tree = tmp_path / "src"
    (tree / "sub dir").mkdir(parents=True)
    (tree / "sub dir" / "it's $(odd)").write_bytes(b"\x00\x01payload" * 1000)
    (tree / "plain").write_text("plain\n")
    remote = tmp_path / "remote side" / "copy"
    host.put(tree, str(remote))
    assert (remote / "sub dir" / "it's $(odd)").read_bytes() == b"\x00\x01payload" * 1000
    host.put(tree / "plain", str(tmp_path / "remote side" / "one file"))
    assert (tmp_path / "remote side" / "one file").read_text() == "plain\n"

    back = tmp_path / "back"
    host.get(str(remote), back)
    assert (back / "sub dir" / "it's $(odd)").read_bytes() == b"\x00\x01payload" * 1000
    host.get(str(remote / "plain"), tmp_path / "single")
    assert (tmp_path / "single").read_text() == "plain\n"


def test_one_connection_serves_many_commands(ssh_server: SshServer) -> None:
    host = ssh_server.host()
    for i in range(50):
        assert host.run(["echo", str(i)]).stdout == f"{i}\n"
    # One TCP connection and one login: every command rode the master connection.
    assert (ssh_server.connections(), ssh_server.logins()) == (1, 1)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_refused_connection_is_retried_then_reported(ssh_server: SshServer) -> None:
    host = ssh_server.host()
    ssh_server.stop()
    records = _Records()
    logger = logging.getLogger("snpapp.ssh")
    logger.addHandler(records)
    try:
        with pytest.raises(TransportError) as caught:
            host.run(["true"])
    finally:
        logger.removeHandler(records)
    assert [m for m in records.messages if "retrying" in m] == [
        "connection to genoa01 failed while running true (attempt 1 of 3); retrying in 0.2 s",
        "connection to genoa01 failed while running true (attempt 2 of 3); retrying in 0.4 s",
    ]
    assert "(3 attempts)" in caught.value.message
    assert "Connection refused" in (caught.value.detail or "")
    assert caught.value.hint
    assert "ssh genoa01 true" in caught.value.hint


def test_changed_host_key_is_not_retried(ssh_server: SshServer, tmp_path: Path) -> None:
    other = keygen(tmp_path / "other_host_key")
    ssh_server.known_hosts.write_text(f"genoa01 {other}\n")
    host = ssh_server.host()
    with pytest.raises(AuthenticationError) as caught:
        host.run(["true"])
    assert "host key of genoa01 has changed" in caught.value.message
    assert caught.value.hint
    assert "ssh-keygen -R" in caught.value.hint
    assert ssh_server.connections() == 1


def test_rejected_key_is_an_authentication_error(ssh_server: SshServer, tmp_path: Path) -> None:
    keygen(tmp_path / "stranger")
    text = ssh_server.client_config.read_text().replace(
        str(ssh_server.user_key), str(tmp_path / "stranger")
    )
    ssh_server.client_config.write_text(text)
    with pytest.raises(AuthenticationError) as caught:
        ssh_server.host().run(["true"])
    assert "authentication to genoa01 failed" in caught.value.message
    assert caught.value.hint
    assert "ssh-add" in caught.value.hint
    assert ssh_server.connections() == 1


def test_next_command_succeeds_after_a_server_restart(ssh_server: SshServer) -> None:
    host = ssh_server.host(attempts=5, backoff_s=0.3)
    assert host.run(["echo", "before"]).stdout == "before\n"
    ssh_server.restart()
    assert host.run(["echo", "after"]).stdout == "after\n"
    assert ssh_server.connections() == 2


def _drop_connection_once(ssh_server: SshServer, ready: Path) -> threading.Thread:
    """Kill sshd's connection processes (not the listener) once ``ready`` has a line."""

    def drop() -> None:
        wait_for(lambda: ready.exists() and ready.read_text(), f"a line in {ready}", every_s=0.05)
        ssh_server.drop_connections()

    thread = threading.Thread(target=drop)
    thread.start()
    return thread


APPEND_THEN_WAIT = 'echo ran >> "$1"; sleep 5'


def test_a_command_cut_off_by_a_lost_connection_is_not_run_again(
    ssh_server: SshServer, tmp_path: Path
) -> None:
    host = ssh_server.host(attempts=3, backoff_s=0.2)
    assert host.run(["true"]).ok  # the master connection is up
    ledger = tmp_path / "ledger"
    dropper = _drop_connection_once(ssh_server, ledger)
    try:
        with pytest.raises(ConnectionLostError) as caught:
            host.run(["sh", "-c", APPEND_THEN_WAIT, "append", str(ledger)])
    finally:
        dropper.join()
    assert "may have partly run" in caught.value.message
    # A retry would have run inside run(), before it raised: the ledger is final now.
    assert ledger.read_text() == "ran\n"


def test_an_idempotent_command_cut_off_is_run_again(ssh_server: SshServer, tmp_path: Path) -> None:
    host = ssh_server.host(attempts=3, backoff_s=0.2)
    assert host.run(["true"]).ok
    ledger = tmp_path / "ledger"
    dropper = _drop_connection_once(ssh_server, ledger)
    try:
        result = host.run(["sh", "-c", APPEND_THEN_WAIT, "append", str(ledger)], idempotent=True)
    finally:
        dropper.join()
    assert result.ok
    assert ledger.read_text() == "ran\nran\n"


def _remote_sleepers(marker: str) -> list[str]:
    found = proc.run(["pgrep", "-f", f"^sleep {marker}$"], check=False)
    return found.stdout.split()


def test_leaving_spawn_kills_the_remote_process(ssh_server: SshServer) -> None:
    host = ssh_server.host()
    with host.spawn(["sh", "-c", "echo ready; exec sleep 987.25"]) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        assert len(_remote_sleepers(r"987\.25")) == 1
    wait_for(lambda: not _remote_sleepers(r"987\.25"), "the remote sleep ending")


def _remote_processes(host: SshHost, marker: str) -> list[str]:
    # The bracket keeps pgrep's own command line (and its shell's) from matching.
    pattern = f"{marker[:-1]}[{marker[-1]}]"
    return host.run(["pgrep", "-f", pattern], check=False, idempotent=True).stdout.split()


def test_time_limit_stops_the_command_on_the_host(ssh_server: SshServer) -> None:
    host = ssh_server.host()
    marker = f"snpapp-limit-{secrets.token_hex(6)}"
    with pytest.raises(CommandTimeoutError) as caught:
        host.run(["sh", "-c", "sleep 30; echo late", marker], timeout=2)
    assert caught.value.message == "sh did not finish within 2 s on genoa01 and was stopped there"
    assert caught.value.hint
    assert marker in caught.value.hint
    wait_for(lambda: not _remote_processes(host, marker), "the timed-out command ending")


def test_a_command_that_exits_124_itself_is_not_a_timeout(ssh_server: SshServer) -> None:
    host = ssh_server.host()
    result = host.run(["sh", "-c", "echo out; echo err >&2; exit 124"], timeout=20, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (124, "out\n", "err\n")
    assert host.run(["cat"], input="fed\n", timeout=20).stdout == "fed\n"
    assert host.run(["sh", "-c", "exit 3"], timeout=20, check=False).returncode == 3


def test_spawned_command_reports_its_exit_status(ssh_server: SshServer) -> None:
    with ssh_server.host().spawn(["sh", "-c", "echo done; exit 5"]) as child:
        assert child.wait(timeout=20) == 5
        assert child.stdout is not None
        assert child.stdout.read() == b"done\n"


def test_destination_that_looks_like_an_option_is_refused() -> None:
    with pytest.raises(ConfigError):
        SshHost(SshSettings(destination="-oProxyCommand=touch /tmp/snpapp-pwned"))
    with pytest.raises(ConfigError):
        SshHost(SshSettings(destination="genoa01 rm"))


def test_connect_factory(ssh_server: SshServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(connect("local"), LocalHost)
    monkeypatch.setenv("SNPAPP_SSH_CONFIG", str(ssh_server.client_config))
    host = connect("genoa01")
    assert isinstance(host, SshHost)
    try:
        assert host.run(["echo", "via env"]).stdout == "via env\n"
    finally:
        host.close()
    monkeypatch.setenv("SNPAPP_SSH_CONFIG", str(ssh_server.root / "missing"))
    with pytest.raises(ConfigError):
        connect("genoa01")


def test_a_port_taken_before_sshd_binds_it_moves_the_server(tmp_path: Path) -> None:
    require_sshd()
    server = SshServer(tmp_path / "sshd")
    taken = server.port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        try:
            server.start()
            assert server.port != taken
            assert server.host().run(["echo", "moved"]).stdout == "moved\n"
        finally:
            server.close()
    assert ADDRESS_IN_USE in server.log_path.read_text()
