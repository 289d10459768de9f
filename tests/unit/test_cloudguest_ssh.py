"""How the host reaches the cloud guest: the ssh command lines (pure)."""

from __future__ import annotations

import shlex

from snpappliance.campaign.guests.cloud.guestssh import (
    HOST_KEY_ALIAS,
    GuestLogin,
    guest_script,
    host_ssh_argv,
    known_hosts_line,
    ready_command,
    run_command,
    ssh_argv,
)
from snpappliance.campaign.spec import SysbenchCpu

LOGIN = GuestLogin(user="snpapp", key="/w/cloud/client_ed25519", known_hosts="/w/kh", port=40022)


def _options(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == "-o"]


def test_ssh_reaches_the_forwarded_port_with_the_campaign_files_only() -> None:
    argv = ssh_argv(LOGIN, "true")
    assert argv[:7] == ["ssh", "-F", "none", "-i", "/w/cloud/client_ed25519", "-p", "40022"]
    assert argv[-2:] == ["snpapp@127.0.0.1", "true"]
    options = _options(argv)
    assert "StrictHostKeyChecking=yes" in options
    assert "UserKnownHostsFile=/w/kh" in options
    assert f"HostKeyAlias={HOST_KEY_ALIAS}" in options
    assert "BatchMode=yes" in options


def test_on_the_host_a_guest_ssh_failure_is_not_ssh_exit_255() -> None:
    argv = host_ssh_argv(LOGIN, "true")
    assert argv[:2] == ["sh", "-c"]
    assert "exit 254" in argv[2]
    assert argv[3] == "sh"
    assert argv[4:] == ssh_argv(LOGIN, "true")[1:]


def test_known_hosts_pins_the_guest_key_under_the_alias() -> None:
    line = known_hosts_line("ssh-ed25519 AAAAC3Nza snpapp-x-guest")
    assert line == f"{HOST_KEY_ALIAS} ssh-ed25519 AAAAC3Nza\n"


def test_remote_commands_are_quoted_for_the_guest_shell() -> None:
    assert ready_command("/var/lib/snpapp/ready") == "test -e /var/lib/snpapp/ready"
    script = guest_script("r1'x", SysbenchCpu(max_prime=100), 8, 600)
    assert shlex.split(run_command(script)) == ["sh", "-c", script]


def test_guest_script_prints_the_minimal_guests_markers() -> None:
    script = guest_script("r0001-on-sysbench-cpu-1", SysbenchCpu(max_prime=20000), 8, 600)
    assert 'echo "SNPGUEST-INIT id=r0001-on-sysbench-cpu-1 uptime=$(up)' in script
    assert "sudo -n dmesg | grep -E 'Memory Encryption Features active|" in script
    assert 'echo "===SNP-BEGIN id=r0001-on-sysbench-cpu-1 src=ssh uptime=$(up)==="' in script
    assert "timeout 600 sh -c '/usr/bin/time -f %e -o /tmp/snp-wall sysbench cpu --threads=8 " in (
        script
    )
    assert 'echo "===SNP-END id=r0001-on-sysbench-cpu-1 rc=$rc uptime=$(up)==="' in script
