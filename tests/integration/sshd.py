"""A real OpenSSH server on loopback for the SSH host, doctor and deploy tests.

:class:`SshServer` runs Debian's ``/usr/sbin/sshd -D -e`` as a child process on
a 127.0.0.1 port with generated host and user keys, and writes an ssh client
config whose ``genoa01`` alias points at it with the real host key pinned
(``StrictHostKeyChecking yes``). sshd cannot be given port 0 portably, so a
port that another process takes before sshd binds it is not an error: sshd's
log says "Address already in use" and the server starts again on another port.
Tests get a started server from the ``ssh_server`` fixture (tests/integration/conftest.py).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path

from snpappliance import proc
from snpappliance.hosts.ssh import SshHost
from snpappliance.hosts.sshcmd import SshSettings
from tests.conftest import require_file, require_program, unavailable

ALIAS = "genoa01"
SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")
#: How often sshd is started again on a fresh port when its port was taken meanwhile.
BIND_ATTEMPTS = 5
#: How long sshd may take to listen (a loaded 2-core machine can be slow to fork it).
LISTEN_WAIT_S = 30.0
ADDRESS_IN_USE = "Address already in use"
_PORT_LINE = re.compile(r"^(\s*Port) \d+$", re.MULTILINE)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (it may be taken later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def keygen(path: Path) -> str:
    """Generate an ed25519 key pair at ``path``; return the public key line."""
    proc.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "snpapp-test", "-f", path])
    return path.with_suffix(".pub").read_text().strip()


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc), deepest last."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                child = int(entry.name)
                found += [child, *_children(child)]
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class SshServer:
    """One sshd on loopback plus the client-side files that reach it as ``genoa01``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.user = getpass.getuser()
        self.log_path = root / "sshd.log"
        self.host_key = root / "ssh_host_ed25519_key"
        self.user_key = root / "id_ed25519"
        self.known_hosts = root / "known_hosts"
        self.client_config = root / "ssh_config"
        self._stack = contextlib.ExitStack()
        self._hosts: list[SshHost] = []
        self._pid: int | None = None
        self._control_dir = Path(tempfile.mkdtemp(prefix="snpctl", dir="/tmp"))
        self._write_files()

    def _write_files(self) -> None:
        host_pub = keygen(self.host_key)
        user_pub = keygen(self.user_key)
        (self.root / "authorized_keys").write_text(user_pub + "\n")
        self.known_hosts.write_text(f"{ALIAS} {host_pub}\n")
        (self.root / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
            f"PidFile none\nAuthorizedKeysFile {self.root}/authorized_keys\n"
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            "MaxSessions 50\nMaxStartups 50\nLogLevel VERBOSE\n"
            "Subsystem sftp /usr/lib/openssh/sftp-server\n"
        )
        self.client_config.write_text(
            f"Host {ALIAS}\n  HostName 127.0.0.1\n  Port {self.port}\n  User {self.user}\n"
            f"  IdentityFile {self.user_key}\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n  GlobalKnownHostsFile /dev/null\n"
            f"  HostKeyAlias {ALIAS}\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n"
        )

    def start(self) -> None:
        """Start sshd and wait until it listens; if its port was taken, on a fresh port."""
        for _ in range(BIND_ATTEMPTS):
            if self._start_on_current_port():
                return
            self._move_to_port(free_port())
        msg = f"sshd found its port taken {BIND_ATTEMPTS} times; see {self.log_path}"
        raise RuntimeError(msg)

    def _start_on_current_port(self) -> bool:
        """True once sshd listens; False when it exited because the port is in use."""
        with contextlib.ExitStack() as attempt:
            log = attempt.enter_context(self.log_path.open("ab"))
            offset = log.tell()
            argv: list[str | Path] = [SSHD, "-D", "-e", "-f", self.root / "sshd_config"]
            child = attempt.enter_context(proc.spawn(argv, stdout=log, stderr=log))
            listening = f"Server listening on 127.0.0.1 port {self.port}."
            deadline = time.monotonic() + LISTEN_WAIT_S
            while time.monotonic() < deadline:
                exited = child.poll() is not None
                text = self._log_since(offset)
                if listening in text:
                    self._pid = child.pid
                    self._stack.enter_context(attempt.pop_all())
                    return True
                if exited:
                    if ADDRESS_IN_USE in text:
                        return False
                    msg = f"sshd exited: {text}"
                    raise RuntimeError(msg)
                time.sleep(0.05)
        msg = f"sshd did not listen on port {self.port} within {LISTEN_WAIT_S:g} s"
        raise RuntimeError(msg)

    def _log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def _move_to_port(self, port: int) -> None:
        """Point the server's and the client's configuration at ``port``, keeping all else."""
        self.port = port
        for path in (self.root / "sshd_config", self.client_config):
            text = path.read_text(encoding="utf-8")
            path.write_text(_PORT_LINE.sub(rf"\g<1> {port}", text), encoding="utf-8")

    def stop(self) -> None:
        """Stop sshd and every connection it serves (as a reboot would)."""
        sessions = _children(self._pid) if self._pid else []
        self._stack.close()
        _kill(sessions)
        self._pid = None

    def drop_connections(self) -> None:
        """Kill every connection sshd serves, and what runs in them; keep listening."""
        _kill(_children(self._pid) if self._pid else [])

    def restart(self, downtime_s: float = 0.0) -> None:
        """Stop, stay down ``downtime_s`` (an outage clients must ride out), start again."""
        self.stop()
        time.sleep(downtime_s)
        self.start()

    def connections(self) -> int:
        """How many TCP connections sshd has accepted so far."""
        return self.log_path.read_text(errors="replace").count("Connection from 127.0.0.1")

    def logins(self) -> int:
        """How many connections authenticated (one per ssh master connection)."""
        return self.log_path.read_text(errors="replace").count("Accepted publickey")

    def settings(self, **overrides: object) -> SshSettings:
        values: dict[str, object] = {
            "destination": ALIAS,
            "config": self.client_config,
            "control_dir": self._control_dir,
            "attempts": 3,
            "backoff_s": 0.2,
            "connect_timeout_s": 5,
        }
        values.update(overrides)
        return SshSettings(**values)  # type: ignore[arg-type]

    def host(self, **overrides: object) -> SshHost:
        """An :class:`SshHost` for ``genoa01`` through this server's client config."""
        host = SshHost(self.settings(**overrides))
        self._hosts.append(host)
        return host

    def close(self) -> None:
        for host in self._hosts:
            host.close()
        self.stop()
        shutil.rmtree(self._control_dir, ignore_errors=True)


def require_sshd() -> None:
    """Skip (locally) or fail (in CI) when OpenSSH's server or client is missing."""
    for program in ("ssh", "ssh-keygen", "rsync"):
        require_program(program)
    require_file(Path(SSHD), "openssh-server")
    if not PRIVSEP_DIR.is_dir():
        if os.geteuid() != 0:
            unavailable(f"sshd needs {PRIVSEP_DIR}, which only root can create")
        PRIVSEP_DIR.mkdir(mode=0o755)
