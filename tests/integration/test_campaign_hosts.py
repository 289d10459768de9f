"""One campaign on two hosts at once, through the loopback sshd, with a host lost and resumed.

Both hosts are this machine: ``genoa01`` and ``genoa02`` are two aliases of
the same loopback sshd, or ``local`` plus ``genoa01``. Boots are kept few:
two scenarios × one workload × one repetition per host.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from snpappliance.campaign import store
from snpappliance.report.load import load_results
from tests.conftest import SnpappRunner, wait_for
from tests.integration import sshd
from tests.integration.test_campaign_ssh import SPEC

if TYPE_CHECKING:
    from pathlib import Path

    from tests.integration.sshd import SshServer

pytestmark = [
    pytest.mark.integration, pytest.mark.ssh, pytest.mark.qemu, pytest.mark.docker,
    pytest.mark.slow,
]  # fmt: skip


def two_alias_config(server: SshServer) -> Path:
    """The server's client config plus ``genoa02``, a second alias of the same sshd.

    ``genoa02`` names the machine ``localhost`` rather than 127.0.0.1, so that it
    gets a master connection of its own, as a second real host would.
    """
    text = server.client_config.read_text(encoding="utf-8")
    second = text.replace(f"Host {sshd.ALIAS}\n", "Host genoa02\n", 1)
    path = server.root / "ssh_config_two"
    path.write_text(text + second.replace("HostName 127.0.0.1", "HostName localhost"))
    return path


def campaign(
    snpapp: SnpappRunner, tmp_path: Path, artifacts: Path, config: Path, *hosts: str
) -> tuple[int, Path, str]:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    host_args = [a for h in hosts for a in ("--host", h)]
    code, _, err = snpapp(
        "campaign", "--spec", str(spec), *host_args, "--ssh-config", str(config),
        "--campaigns", str(tmp_path / "c"), "--artifacts", str(artifacts),
    )  # fmt: skip
    (cdir,) = (tmp_path / "c").iterdir()
    return code, cdir, " ".join(err.split())


def run_records(cdir: Path) -> dict[str, str]:
    return store.committed_runs(store.read_records(cdir / "attempts.jsonl"))


def test_two_hosts_run_the_same_plan_at_once(
    ssh_server: SshServer, guest_artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    code, cdir, err = campaign(
        snpapp, tmp_path, guest_artifacts, two_alias_config(ssh_server), "genoa01", "genoa02"
    )
    assert code == 0, err
    committed = run_records(cdir)
    assert sorted(committed) == sorted(
        f"r{i:04d}-{s}-sysbench-memory-1@{h}"
        for h in ("genoa01", "genoa02")
        for i, s in enumerate(_scenarios(cdir), start=1)
    )
    assert set(committed.values()) == {"ok"}
    assert ssh_server.logins() >= 2  # one master connection per host
    frame = load_results(cdir).frame
    assert sorted(set(frame["host"])) == ["genoa01", "genoa02"]
    assert frame.groupby("host")["run_id"].nunique().to_dict() == {"genoa01": 2, "genoa02": 2}
    env = json.loads((cdir / "environment.json").read_text(encoding="utf-8"))
    assert sorted(env["hosts"]) == ["genoa01", "genoa02"]
    assert env["hosts"]["genoa02"]["host"]["name"] == "genoa02"
    info = json.loads((cdir / "campaign.json").read_text(encoding="utf-8"))
    assert info["hosts"] == ["genoa01", "genoa02"]
    # The first runs of both hosts started together: the hosts run in parallel.
    first = frame[frame["run_id"].str.startswith("r0001-")].groupby("host")["started_at"].first()
    starts = [datetime.fromisoformat(s) for s in first]
    assert abs((starts[0] - starts[1]).total_seconds()) < 5, first.to_dict()
    code, printed, _ = snpapp("campaign", "status", str(cdir))
    assert code == 0
    status = " ".join(printed.split())
    assert "host genoa01: 2/2 committed (ok 2)" in status
    assert "host genoa02: 2/2 committed (ok 2)" in status


def _scenarios(cdir: Path) -> list[str]:
    plan = json.loads((cdir / "plan.json").read_text(encoding="utf-8"))
    return [r["scenario"] for r in plan["runs"] if r["host"] == "genoa01"]


def _stop_during_first_remote_boot(server: SshServer, stopped: list[float]) -> None:
    """Stop sshd, and with it every session, once genoa01's first QEMU runs."""
    pattern = "^qemu-system-x86_64 .*@genoa01"
    wait_for(lambda: proc.run(["pgrep", "-f", pattern], check=False).ok, "genoa01's QEMU", 300, 0.2)
    server.stop()
    stopped.append(time.monotonic())


def test_a_lost_host_stops_alone_and_resumes(
    ssh_server: SshServer, guest_artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    stopped: list[float] = []
    stopper = threading.Thread(target=_stop_during_first_remote_boot, args=(ssh_server, stopped))
    stopper.start()
    try:
        code, cdir, err = campaign(
            snpapp, tmp_path, guest_artifacts, ssh_server.client_config, "local", "genoa01"
        )
    finally:
        stopper.join()
    assert stopped, "sshd was never stopped"
    assert code != 0, err
    assert "host genoa01 stopped with 2 run(s) left" in err, err
    assert f"snpappcampaign--resume{cdir}" in err.replace(" ", "")  # rich wraps anywhere
    # local went on and finished both its runs; genoa01 committed nothing.
    committed = run_records(cdir)
    assert sorted(committed) == sorted(r for r in committed if r.endswith("@local"))
    assert len(committed) == 2
    code, printed, _ = snpapp("campaign", "status", str(cdir))
    status = " ".join(printed.split())
    assert "host local: 2/2 committed (ok 2)" in status
    assert "host genoa01: 0/2 committed (none yet)" in status

    ssh_server.start()
    code, _, err = snpapp(
        "campaign", "--resume", str(cdir), "--ssh-config", str(ssh_server.client_config),
        "--artifacts", str(guest_artifacts),
    )  # fmt: skip
    assert code == 0, err
    committed = run_records(cdir)
    assert len(committed) == 4
    assert set(committed.values()) == {"ok"}
    frame = load_results(cdir).frame
    assert frame.groupby("host")["run_id"].nunique().to_dict() == {"genoa01": 2, "local": 2}
