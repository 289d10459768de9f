"""A pinned local campaign: under TCG the pinning is real, and /proc shows it.

One repetition of the mini campaign (a plain and an snp-layout boot) with one
vCPU and ``pin = "auto"``: the plan recorded in environment.json is checked
against the running QEMU's threads in /proc (read here, not through snpapp),
while the guest runs, and against what each attempt recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from snpappliance import proc
from snpappliance.hosts.local import LocalHost
from snpappliance.report.load import load_results
from snpappliance.tuning.cpulist import parse_cpulist
from snpappliance.tuning.state import read_host_state
from snpappliance.tuning.topology import topology_from_state
from tests.conftest import unavailable, wait_for
from tests.integration.test_campaign_runs import REPO, attempts_of, spec_file

pytestmark = [pytest.mark.integration, pytest.mark.qemu, pytest.mark.docker, pytest.mark.slow]


def pinned_spec(directory: Path) -> Path:
    path = spec_file(directory)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("vcpus = 2\n", 'vcpus = 1\npin = "auto"\n'), encoding="utf-8")
    return path


def allowed(pid: int, tid: int) -> tuple[int, ...] | None:
    """A thread's Cpus_allowed_list from /proc; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    line = next(line for line in status.splitlines() if line.startswith("Cpus_allowed_list:"))
    return parse_cpulist(line.split(":", 1)[1])


def running_qemu(root: Path) -> int | None:
    """The pid of the QEMU a campaign below ``root`` runs, if one runs."""
    found = proc.run(["pgrep", "-f", f"^qemu-system-x86_64 .*{root}/"], check=False)
    pids = [int(p) for p in found.stdout.split()]
    return pids[0] if pids else None


def vcpu_thread(pid: int) -> int | None:
    """The tid of vCPU 0 (QEMU names it ``CPU 0/TCG`` with debug-threads=on)."""
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            if (task / "comm").read_text().strip() == "CPU 0/TCG":
                return int(task.name)
        except FileNotFoundError:
            continue
    return None


def pinning_of(record: dict[str, object]) -> dict[str, Any]:
    pinning = record["pinning"]
    assert isinstance(pinning, dict)
    return pinning


def test_every_boot_of_a_pinned_campaign_runs_on_the_planned_cpus(
    guest_artifacts: Path, tmp_path: Path
) -> None:
    topology = topology_from_state(read_host_state(LocalHost()))
    if len(topology.cpus) < 2:
        unavailable("pinning one vCPU needs 2 online CPUs")
    root = tmp_path / "c"
    argv = [
        sys.executable, "-m", "snpappliance", "campaign", "--spec", str(pinned_spec(tmp_path)),
        "--campaigns", str(root), "--artifacts", str(guest_artifacts),
    ]  # fmt: skip
    seen: dict[str, Any] = {}

    def pinned_guest_runs() -> bool:
        """True once a QEMU of the campaign runs with its vCPU thread pinned as planned."""
        pid = running_qemu(root)
        tid = None if pid is None else vcpu_thread(pid)
        if pid is None or tid is None:
            return False
        (cdir,) = root.iterdir()
        env = json.loads((cdir / "environment.json").read_text(encoding="utf-8"))
        vcpu_cpus = tuple(env["pinning"]["vcpu_cpus"])
        if allowed(pid, tid) != vcpu_cpus:
            return False  # QEMU is still stopped, before pinning
        seen.update(pid=pid, tid=tid, env=env["pinning"])
        seen["threads"] = {
            int(t.name): allowed(pid, int(t.name)) for t in Path(f"/proc/{pid}/task").iterdir()
        }
        return True

    with (
        (tmp_path / "campaign.log").open("wb") as log,
        subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT) as child,
    ):
        wait_for(lambda: child.poll() is not None or pinned_guest_runs(),
                 "a pinned guest", 240, 0.05)  # fmt: skip
        code = child.wait(timeout=600)
    output = (tmp_path / "campaign.log").read_text(encoding="utf-8", errors="replace")
    assert code == 0, output
    assert seen, f"no pinned guest was seen running\n{output}"
    plan = seen["env"]
    assert plan["request"] == "auto"
    if topology.cpus == (0, 1):  # this machine: the vCPU on CPU 1, QEMU's threads on CPU 0
        assert (plan["vcpu_cpus"], plan["emulator_cpus"]) == ([1], [0])
    vcpu_cpus, emulator = tuple(plan["vcpu_cpus"]), tuple(plan["emulator_cpus"])
    threads = seen["threads"]
    assert threads.pop(seen["tid"]) == vcpu_cpus
    assert threads[seen["pid"]] == emulator
    assert all(cpus in (emulator, None) for cpus in threads.values()), threads

    (cdir,) = root.iterdir()
    assert set(load_results(cdir).frame["status"]) == {"ok"}
    attempts = attempts_of(cdir)
    assert len(attempts) == 2
    applied = [pinning_of(record) for record in attempts]
    for record, pinning in zip(attempts, applied, strict=True):
        assert pinning["applied"] is True
        assert [v["cpus"] for v in pinning["vcpus"]] == [list(vcpu_cpus)]
        assert pinning["main_cpus"] == list(emulator)
        assert pinning["plan"]["vcpu_cpus"] == list(vcpu_cpus)
        first_line = (cdir / str(record["log"])).read_text(encoding="utf-8").splitlines()[0]
        assert f"host-nodes={plan['node']},policy=bind" in first_line
        assert " -S " in first_line
    watched = [p["vcpus"][0]["tid"] for p in applied if p["qemu_pid"] == seen["pid"]]
    assert watched == [seen["tid"]]
