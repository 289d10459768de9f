"""Reaching the cloud guest: the ssh command run on the host, and the script run in the guest.

QEMU forwards the guest's port 22 to a port on the host's loopback, so the
campaign runs the OpenSSH client *on the host* (through the Host interface,
like QEMU itself). The client uses only the campaign's files: its key, and a
known_hosts file holding the guest's host key under a fixed alias, checked
strictly; the host user's own ssh configuration is not read (``-F none``).

The guest script prints the same markers as the minimal guest's /init
(SNPGUEST-INIT, SNPGUEST-EVIDENCE, ===SNP-BEGIN===, ===SNP-END===) around the
same GNU-time-wrapped workload, so one parser and one judge serve both guests.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from snpappliance.campaign.scripts import workload_script

if TYPE_CHECKING:
    from snpappliance.campaign.spec import Workload

#: The name the guest's host key is recorded under in the campaign's known_hosts.
HOST_KEY_ALIAS = "snpapp-cloud-guest"
CONNECT_TIMEOUT_S = 10
#: The kernel lines that tell whether memory encryption is active (as the minimal guest).
EVIDENCE_PATTERN = "Memory Encryption Features active|SEV: Status|SEV-SNP"


@dataclass(frozen=True)
class GuestLogin:
    """How the host reaches one guest: paths on the host and the forwarded port."""

    user: str
    key: str
    known_hosts: str
    port: int


def known_hosts_line(host_public_key: str) -> str:
    """The known_hosts entry for the guest's host key (under :data:`HOST_KEY_ALIAS`)."""
    key_type, blob = host_public_key.split()[:2]
    return f"{HOST_KEY_ALIAS} {key_type} {blob}\n"


def ssh_argv(login: GuestLogin, command: str) -> list[str]:
    """ssh to the guest through its forwarded port, strict host-key checking, batch mode."""
    return [
        "ssh",
        "-F",
        "none",
        "-i",
        login.key,
        "-p",
        str(login.port),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={login.known_hosts}",
        "-o",
        f"HostKeyAlias={HOST_KEY_ALIAS}",
        "-o",
        f"ConnectTimeout={CONNECT_TIMEOUT_S}",
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "ServerAliveCountMax=4",
        f"{login.user}@127.0.0.1",
        command,
    ]


#: The exit status the host reports when ssh to the *guest* failed (ssh's own 255 is
#: remapped, so that 255 keeps meaning that the connection to the host was lost).
GUEST_SSH_FAILURE = 254
_REMAP = 'ssh "$@"; rc=$?; if [ "$rc" -eq 255 ]; then exit 254; fi; exit "$rc"'


def host_ssh_argv(login: GuestLogin, command: str) -> list[str]:
    """:func:`ssh_argv` as run on the host, ssh's own failure reported as 254."""
    return ["sh", "-c", _REMAP, "sh", *ssh_argv(login, command)[1:]]


def ready_command(ready_file: str) -> str:
    """Succeeds once cloud-init has installed the packages and touched the ready file."""
    return f"test -e {shlex.quote(ready_file)}"


POWEROFF_COMMAND = "sudo -n systemctl poweroff"


def guest_script(
    run_id: str, workload: Workload, vcpus: int, watchdog_s: int, *, attest_step: str = ""
) -> str:
    """The shell script the guest runs for one run, printing the minimal guest's markers.

    ``attest_step`` runs before the BEGIN marker, as the minimal guest's /init runs it.
    """
    rid = shlex.quote(run_id)
    body = shlex.quote(workload_script(workload, vcpus))
    pattern = shlex.quote(EVIDENCE_PATTERN)
    return (
        "up() { cut -d' ' -f1 /proc/uptime; }\n"
        f'echo "SNPGUEST-INIT id={rid} uptime=$(up) nproc=$(nproc) '
        "mem_kb=$(awk '/MemTotal/{print $2}' /proc/meminfo)\"\n"
        f"ev=$(sudo -n dmesg | grep -E {pattern} | sed 's/^\\[[^]]*\\] *//')\n"
        'if [ -n "$ev" ]; then echo "$ev" | while read -r l; do echo "SNPGUEST-EVIDENCE $l"; '
        'done; else echo "SNPGUEST-EVIDENCE none"; fi\n'
        f"{attest_step}"
        f'echo "===SNP-BEGIN id={rid} src=ssh uptime=$(up)==="\n'
        f"timeout {watchdog_s} sh -c {body} 2>&1\n"
        "rc=$?\n"
        f'echo "===SNP-END id={rid} rc=$rc uptime=$(up)==="\n'
    )


def run_command(script: str) -> str:
    """The remote command line that runs ``script`` with sh in the guest."""
    return shlex.join(["sh", "-c", script])
