"""The cloud guest's SSH session against a real sshd standing in for the guest.

No cloud image is available offline, so a loopback OpenSSH server plays the
guest's sshd: the readiness probe, the remapped guest-SSH failure, and one
workload run with the guest script, watched by boot_guest and judged, are all
real. A full cloud-guest boot under QEMU needs an Ubuntu cloud image.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from snpappliance.campaign.boot import BootLimits, boot_guest
from snpappliance.campaign.guests.cloud.guestssh import (
    GUEST_SSH_FAILURE,
    GuestLogin,
    guest_script,
    host_ssh_argv,
    known_hosts_line,
    ready_command,
    run_command,
)
from snpappliance.campaign.judge import STATUS_OK, judge_boot
from snpappliance.campaign.spec import SysbenchCpu
from snpappliance.hosts.local import LocalHost
from snpappliance.workloads.parsers import METRIC_CPU, wall_metric
from tests.conftest import require_program
from tests.factories import run_kind
from tests.integration.sshd import SshServer, free_port

pytestmark = [pytest.mark.integration, pytest.mark.ssh]


def _login(server: SshServer, tmp_path: Path, port: int | None = None) -> GuestLogin:
    known_hosts = tmp_path / "guest_known_hosts"
    host_pub = server.host_key.with_suffix(".pub").read_text()
    known_hosts.write_text(known_hosts_line(host_pub))
    return GuestLogin(server.user, str(server.user_key), str(known_hosts), port or server.port)


def test_readiness_probe_waits_for_the_ready_file(ssh_server: SshServer, tmp_path: Path) -> None:
    login = _login(ssh_server, tmp_path)
    ready = tmp_path / "ready"
    probe = host_ssh_argv(login, ready_command(str(ready)))
    assert LocalHost().run(probe, check=False).returncode == 1
    ready.touch()
    assert LocalHost().run(probe, check=False).ok


def test_an_unreachable_guest_is_254_not_255(ssh_server: SshServer, tmp_path: Path) -> None:
    login = _login(ssh_server, tmp_path, port=free_port())
    result = LocalHost().run(host_ssh_argv(login, "true"), check=False, timeout=60)
    assert result.returncode == GUEST_SSH_FAILURE


def test_a_wrong_guest_host_key_is_refused(ssh_server: SshServer, tmp_path: Path) -> None:
    login = _login(ssh_server, tmp_path)
    Path(login.known_hosts).write_text(known_hosts_line("ssh-ed25519 " + "A" * 68))
    result = LocalHost().run(host_ssh_argv(login, "true"), check=False, timeout=60)
    assert result.returncode == GUEST_SSH_FAILURE


def test_a_workload_run_over_ssh_is_judged_like_the_minimal_guest(
    ssh_server: SshServer, tmp_path: Path
) -> None:
    require_program("sysbench")
    login = _login(ssh_server, tmp_path)
    run_id = "r0001-off-sysbench-cpu-1"
    script = guest_script(run_id, SysbenchCpu(max_prime=2000, time_s=1), 1, 120)
    log = tmp_path / "r0001.log"
    record = boot_guest(
        LocalHost(), host_ssh_argv(login, run_command(script)), log, BootLimits(60, 120)
    )
    verdict = judge_boot(
        record,
        run_id=run_id,
        kind=run_kind("sysbench-cpu", kernel_boot=False),
        expects_snp=False,
        log=str(log),
    )
    assert verdict.status == STATUS_OK
    metrics = {m.metric: m.value for m in verdict.measurements}
    assert metrics[METRIC_CPU] > 0
    assert 0.5 < metrics[wall_metric("sysbench-cpu")] < 30
    assert record.t_begin is not None
    assert record.t_end is not None
