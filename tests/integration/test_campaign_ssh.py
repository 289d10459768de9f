"""A local-profile campaign driven through SshHost, surviving an sshd restart mid-boot.

The campaign runner is used unchanged: ``--host genoa01`` resolves through the
loopback sshd's client config (``--ssh-config``), QEMU runs "on the host"
under the remote session wrapper, the console streams back over SSH. The boot
cut off by the restart is recorded as a lost connection, not as a QEMU crash.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from snpappliance.campaign import store
from snpappliance.report.load import load_results
from tests.conftest import SnpappRunner, wait_for

if TYPE_CHECKING:
    from tests.integration.sshd import SshServer

pytestmark = [
    pytest.mark.integration, pytest.mark.ssh, pytest.mark.qemu, pytest.mark.docker,
    pytest.mark.slow,
]  # fmt: skip

STACK = "debian-bookworm"
OVMF = "/usr/share/ovmf/OVMF.fd"
SPEC = """
[campaign]
name = "over-ssh"
label = "local emulated profile — not an SNP measurement"
emulated = true
repetitions = 1
seed = 11
[guest]
vcpus = 2
memory_mib = 512
[timeouts]
boot_s = 120
[retry]
attempts = 2
backoff_s = 0.1
backoff_max_s = 0.2
[[scenarios]]
name = "baseline"
kind = "plain"
baseline = true
[[scenarios]]
name = "snp-layout"
kind = "snp-layout"
[workloads.sysbench-memory]
total_size = "1G"
"""


def _restart_during_first_boot(server: SshServer, marker: str, done: list[float]) -> None:
    """Restart sshd (down for a second, as a rebooting router would be) once QEMU runs."""
    pattern = f"^qemu-system-x86_64 .*{marker}"
    wait_for(lambda: proc.run(["pgrep", "-f", pattern], check=False).ok, "QEMU", 300, 0.2)
    server.restart(downtime_s=1.0)
    done.append(time.monotonic())


def test_campaign_over_ssh_survives_a_server_restart(
    ssh_server: SshServer,
    guest_artifacts: Path,
    tmp_path: Path,
    snpapp: SnpappRunner,
) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    restarted: list[float] = []
    restarter = threading.Thread(
        target=_restart_during_first_boot, args=(ssh_server, str(guest_artifacts), restarted)
    )
    restarter.start()
    try:
        code, out, err = snpapp(
            "campaign", "--spec", str(spec), "--host", "genoa01",
            "--ssh-config", str(ssh_server.client_config),
            "--campaigns", str(tmp_path / "c"), "--artifacts", str(guest_artifacts),
        )  # fmt: skip
    finally:
        restarter.join()
    assert code == 0, err
    assert restarted, "the sshd restart never happened"
    cdir = Path(out.strip().splitlines()[-1])
    records = store.read_records(cdir / "attempts.jsonl")
    attempts = [r for r in records if r["record"] == "attempt"]
    # The boot cut off by the restart ended with ssh's status 255: a lost connection
    # (not a QEMU crash), recorded and retried.
    assert attempts[0]["status"] == "error"
    assert attempts[0]["qemu_rc"] == 255
    assert attempts[0]["outcome"] == "connection-lost"
    assert attempts[0]["reason"].startswith(f"{attempts[0]['run_id']}: connection lost:")
    assert "crash" not in attempts[0]["reason"]
    assert attempts[1]["run_id"] == attempts[0]["run_id"]
    assert attempts[1]["status"] == "ok"
    log = (cdir / attempts[0]["log"]).read_text()
    assert "# snpapp: connection-lost, qemu exit status 255" in log
    assert [r["status"] for r in records if r["record"] == "run"] == ["ok", "ok"]
    frame = load_results(cdir).frame
    assert set(frame["status"]) == {"ok"}
    assert set(frame["scenario"]) == {"baseline", "snp-layout"}
    # One master connection before the restart, one after it.
    assert ssh_server.logins() == 2
    # The remote session wrapper took QEMU down with the lost connection.
    assert not proc.run(["pgrep", "-f", str(guest_artifacts)], check=False).ok
