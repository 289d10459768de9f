"""ssh/rsync argv building and the mapping of ssh failures to errors (pure)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import (
    AuthenticationError,
    ConfigError,
    ConnectionLostError,
    HostError,
    TransportError,
)
from snpappliance.hosts import sshcmd
from snpappliance.hosts.sshcmd import SshSettings

if TYPE_CHECKING:
    from pathlib import Path


def test_remote_command_round_trips_through_a_posix_shell_split() -> None:
    argv = ["printf", "%s", "a b", "$(id)", "`id`", "it's", '"x"', "new\nline", "*"]
    assert shlex.split(sshcmd.remote_command(argv)) == argv
    with_env = sshcmd.remote_command(["run"], {"K": "v w;$(x)"})
    assert shlex.split(with_env) == ["env", "K=v w;$(x)", "run"]


def test_a_time_limit_wraps_the_quoted_command() -> None:
    argv = ["printf", "%s", "a b", "$(id)", "it's"]
    bounded = shlex.split(sshcmd.remote_command(argv, {"K": "v;w"}, limit_s=2.5))
    assert bounded[:2] == ["sh", "-c"]
    assert bounded[3:] == [
        "snpapp-bounded",
        "2.500",
        str(sshcmd.KILL_GRACE_S),
        "env",
        "K=v;w",
        *argv,
    ]
    # Formatted as a plain decimal, and never the 0 that timeout reads as "no limit".
    assert shlex.split(sshcmd.remote_command(["true"], limit_s=1e7))[4] == "10000000.000"
    assert shlex.split(sshcmd.remote_command(["true"], limit_s=0))[4] == "0.001"


def test_only_the_wrappers_marker_means_the_limit_stopped_it() -> None:
    marker = sshcmd.TIME_LIMIT_MARKER
    assert sshcmd.stopped_by_limit(124, f"partial\n{marker}\n")
    assert not sshcmd.stopped_by_limit(124, "the command exited 124 itself\n")
    assert not sshcmd.stopped_by_limit(124, "")
    assert not sshcmd.stopped_by_limit(1, f"{marker}\n")
    assert sshcmd.without_marker(f"partial\n{marker}\n") == "partial"


def test_the_local_deadline_leaves_room_for_the_remote_limit() -> None:
    settings = SshSettings(destination="genoa01", connect_timeout_s=10)
    assert sshcmd.local_deadline_s(settings, 60) > 60 + sshcmd.KILL_GRACE_S + 10


def test_ssh_argv_keeps_host_key_checking_and_multiplexes(tmp_path: Path) -> None:
    settings = SshSettings(destination="genoa01", config=tmp_path / "cfg", control_dir=tmp_path)
    argv = sshcmd.ssh_argv(settings, "true")
    joined = " ".join(argv)
    assert argv[:3] == ["ssh", "-F", str(tmp_path / "cfg")]
    assert argv[-3:] == ["--", "genoa01", "true"]
    assert "ControlMaster=auto" in joined
    assert "BatchMode=yes" in joined
    assert "StrictHostKeyChecking" not in joined
    assert f"ControlPath={tmp_path}/" in joined
    assert joined.count("%C") == 1


def test_control_socket_differs_per_config(tmp_path: Path) -> None:
    one = SshSettings(destination="h", config=tmp_path / "a", control_dir=tmp_path)
    two = SshSettings(destination="h", config=tmp_path / "b", control_dir=tmp_path)
    assert sshcmd.control_path(one) != sshcmd.control_path(two)


def test_rsync_uses_the_same_ssh_and_resumes(tmp_path: Path) -> None:
    settings = SshSettings(destination="genoa01", control_dir=tmp_path, bwlimit_kib=500)
    argv = sshcmd.rsync_argv(settings, "src/", "genoa01:/opt/x/")
    assert "--partial" in argv
    assert "--protect-args" in argv
    assert "--bwlimit=500" in argv
    ssh = shlex.split(argv[argv.index("-e") + 1])
    assert ssh == sshcmd.ssh_options(settings)
    assert argv[-3:] == ["--", "src/", "genoa01:/opt/x/"]


@pytest.mark.parametrize("name", ["-oProxyCommand=x", "a b", "", "h;rm", "h\n", "$(id)"])
def test_hostile_destinations_are_refused(name: str) -> None:
    with pytest.raises(ConfigError):
        sshcmd.validate_destination(name)


@pytest.mark.parametrize("name", ["genoa01", "root@10.0.0.7", "user@genoa01.example.org"])
def test_plain_destinations_are_accepted(name: str) -> None:
    assert sshcmd.validate_destination(name) == name


# OpenSSH 9.2p1 client messages, verbatim.
CHANGED = """\
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
Offending ED25519 key in /root/.ssh/known_hosts:3
Host key verification failed.
"""


@pytest.mark.parametrize(
    ("stderr", "kind", "words"),
    [
        (CHANGED, AuthenticationError, "has changed"),
        ("Host key verification failed.\n", AuthenticationError, "not known"),
        ("root@127.0.0.1: Permission denied (publickey).\n", AuthenticationError, "authentication"),
        (
            "ssh: Could not resolve hostname genoa9: Name or service not known\n",
            HostError,
            "resolved",
        ),
        ("ssh: connect to host 127.0.0.1 port 22: Connection refused\n", TransportError, "failed"),
        ("Connection reset by 127.0.0.1 port 22\n", ConnectionLostError, "lost"),
    ],
)
def test_ssh_failures_are_classified(stderr: str, kind: type[HostError], words: str) -> None:
    error = sshcmd.classify_ssh_failure("genoa01", stderr, "running true")
    assert type(error) is kind
    assert words in error.message
    assert error.hint


# Captured from OpenSSH 9.2p1 (LogLevel INFO unless noted) against a loopback sshd.
BEFORE_COMMAND = [
    "ssh: connect to host 127.0.0.1 port 46435: Connection refused\n",
    "ssh: connect to host 10.255.255.1 port 22: Connection timed out\n",
    "ssh: connect to host 10.255.255.1 port 55947: Network is unreachable\n",
    "ssh: connect to host 192.0.2.7 port 22: No route to host\n",
    "kex_exchange_identification: Connection closed by remote host\n"
    "Connection closed by 127.0.0.1 port 54933\n",
    "kex_exchange_identification: read: Connection reset by peer\n",
    "Connection timed out during banner exchange\nConnection to 127.0.0.1 port 40727 timed out\n",
    "Unable to negotiate with 127.0.0.1 port 55947: no matching key exchange method found. "
    "Their offer: curve25519-sha256\n",
    "ssh: Could not resolve hostname genoa01: Temporary failure in name resolution\n",
    "channel 0: open failed: connect failed: Connection refused\nstdio forwarding failed\n"
    "kex_exchange_identification: Connection closed by remote host\n",
    "mux_client_request_session: session request failed: Session open refused by peer\n",
]

MAYBE_STARTED = [
    # A multiplexed client whose master lost the connection mid-command says nothing.
    "",
    # A direct connection cut while the command ran.
    "Connection to 127.0.0.1 closed by remote host.\n",
    "client_loop: send disconnect: Broken pipe\n",
    "Timeout, server 10.0.0.7 not responding.\n",
    # During the key exchange or a session: ssh does not say which, so assume the worse.
    "Connection reset by 127.0.0.1 port 49189\n",
]


@pytest.mark.parametrize("stderr", BEFORE_COMMAND)
def test_failures_before_the_command_started_are_plain_transport_errors(stderr: str) -> None:
    assert sshcmd.failed_before_command(stderr)
    error = sshcmd.classify_ssh_failure("genoa01", stderr, "running mv")
    assert type(error) is TransportError
    assert error.message == "the SSH connection to genoa01 failed while running mv"


@pytest.mark.parametrize("stderr", MAYBE_STARTED)
def test_a_connection_lost_after_the_start_says_the_command_may_have_run(stderr: str) -> None:
    assert not sshcmd.failed_before_command(stderr)
    error = sshcmd.classify_ssh_failure("genoa01", stderr, "running mv")
    assert type(error) is ConnectionLostError
    assert "may have partly run" in error.message
    assert error.detail
    assert error.hint
    assert "ssh genoa01 true" in error.hint


def test_rsync_failures_are_classified() -> None:
    lost = "rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n"
    assert type(sshcmd.classify_rsync_failure("h", 12, lost)) is TransportError
    missing = "bash: line 1: rsync: command not found\n"
    assert "not installed" in sshcmd.classify_rsync_failure("h", 127, missing).message
    assert type(sshcmd.classify_rsync_failure("h", 23, "some files vanished")) is HostError


def test_private_control_dir_is_enforced(tmp_path: Path) -> None:
    good = sshcmd.ensure_private_dir(tmp_path / "ctl")
    assert good.stat().st_mode & 0o777 == 0o700
    (tmp_path / "open").mkdir(mode=0o755)
    (tmp_path / "open").chmod(0o755)
    with pytest.raises(HostError):
        sshcmd.ensure_private_dir(tmp_path / "open")
