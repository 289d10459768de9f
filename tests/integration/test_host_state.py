"""Host state and `host tune` / `host reset` on this machine's real /sys and /proc.

The state is read from the real files, here and over a loopback SSH server. Tune
and reset run their real code path (one shell command per step, over SSH) against
a temporary root directory holding copies of this machine's files, so the tests
change nothing on the machine itself.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance.errors import HostError
from snpappliance.hosts.local import LocalHost
from snpappliance.tuning import state as st
from snpappliance.tuning.execute import reset, tune
from snpappliance.tuning.plan import TUNE_PATTERNS
from snpappliance.tuning.state import ABSENT, absent, read_host_state, state_changes

if TYPE_CHECKING:
    from tests.conftest import SnpappRunner
    from tests.integration.sshd import SshServer

pytestmark = [pytest.mark.integration]

log = logging.getLogger(__name__)

THP_ENABLED = "/sys/kernel/mm/transparent_hugepage/enabled"


def copy_root(dest: Path) -> Path:
    """Copy every real file the state and tune read into ``dest`` (same paths below it)."""
    for pattern in (*st.PATTERNS, *TUNE_PATTERNS):
        for path in Path("/").glob(pattern.lstrip("/")):
            try:
                data = path.read_bytes()
            except OSError:
                continue
            target = dest / path.relative_to("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return dest


def test_state_of_this_machine_matches_its_files() -> None:
    state = read_host_state(LocalHost())
    assert state["kernel.cmdline"] == Path("/proc/cmdline").read_text().strip()
    assert state["cpus.online"] == Path("/sys/devices/system/cpu/online").read_text().strip()
    for key, path in st.SINGLE.items():
        if not Path(path).exists():
            assert state[key] == ABSENT, key
    thp = Path(THP_ENABLED).read_text()
    assert state["thp.enabled"] == re.search(r"\[(\w+)\]", thp).group(1)  # type: ignore[union-attr]
    vulnerabilities = sorted(p.name for p in Path(st.VULNERABILITIES).iterdir())
    assert sorted(k.split(".", 1)[1] for k in state if k.startswith("vulnerability.")) == (
        vulnerabilities
    )
    if not Path(st.KVM_AMD).is_dir():
        assert state["kvm_amd"] == ABSENT
    governors = list(Path("/sys/devices/system/cpu").glob("cpu[0-9]*/cpufreq/scaling_governor"))
    assert (state["cpufreq.governor"] == ABSENT) == (not governors)
    assert float(state["load.avg1"]) >= 0
    assert int(state["load.running"]) >= 1  # the reading shell itself runs
    json.dumps(state)
    missing = {key for key, path in st.SINGLE.items() if not Path(path).exists()}
    assert missing <= set(absent(state))
    # This VM has no cpufreq and no kvm_amd: say what is absent here.
    log.warning("absent on this machine: %s", ", ".join(absent(state)))


@pytest.mark.ssh
def test_state_over_ssh_equals_the_local_one(ssh_server: SshServer) -> None:
    local = read_host_state(LocalHost())
    with ssh_server.host() as host:
        remote = read_host_state(host)
    assert state_changes(local, remote) == []
    assert remote.keys() == local.keys()


def test_a_changed_setting_is_named(tmp_path: Path) -> None:
    root = copy_root(tmp_path / "root")
    before = read_host_state(LocalHost(), root=str(root))
    (root / THP_ENABLED.lstrip("/")).write_text("[always] madvise never\n")
    after = read_host_state(LocalHost(), root=str(root))
    changes = state_changes(before, after)
    assert [c.key for c in changes] == (
        ["thp.enabled"] if before["thp.enabled"] != "always" else []
    )


@pytest.mark.ssh
def test_tune_saves_first_then_reset_restores_over_ssh(
    ssh_server: SshServer, tmp_path: Path
) -> None:
    root = copy_root(tmp_path / "root")
    # An untuned host: THP for every process (the real kernel's format).
    (root / THP_ENABLED.lstrip("/")).write_text("[always] madvise never\n")
    saved = tmp_path / "state" / "host-tune.json"
    with ssh_server.host() as host:
        before = read_host_state(host, root=str(root))
        plan, outcome = tune(host, isolate={1}, root=str(root), saved_path=str(saved))
        tuned = read_host_state(host, root=str(root))
        first_saved = json.loads(saved.read_text())
        tune(host, isolate={1}, root=str(root), saved_path=str(saved))
        second_saved = json.loads(saved.read_text())
        restored = reset(host, root=str(root), saved_path=str(saved))
        after = read_host_state(host, root=str(root))
        again = reset(host, root=str(root), saved_path=str(saved))
    written = {w.path for w in outcome.done}
    assert THP_ENABLED in written
    assert tuned["thp.enabled"] == "madvise"
    assert first_saved["values"][THP_ENABLED] == "always"
    irqs = [w for w in plan.writes if w.setting == "irq-affinity"]
    assert irqs, "this machine's interrupts may run on CPU 1: tune must move them"
    assert all("1" not in w.value.split(",") for w in irqs)
    assert "1" not in tuned["irq.affinity"].replace("-", ",").split(",")
    assert second_saved == first_saved  # a second tune keeps the original values
    assert restored is not None
    assert state_changes(before, after) == []
    assert again is None
    assert not saved.exists()
    for skipped in plan.skipped:  # settings this VM lacks are named, never written
        assert "skipped" in skipped


def test_a_setting_that_cannot_be_written_stops_tune_with_a_hint(tmp_path: Path) -> None:
    root = copy_root(tmp_path / "root")
    thp = root / THP_ENABLED.lstrip("/")
    thp.unlink()
    thp.mkdir()  # writing to a directory fails, even as root
    saved = tmp_path / "host-tune.json"
    with pytest.raises(HostError) as caught:
        tune(LocalHost(), root=str(root), saved_path=str(saved))
    assert THP_ENABLED in (caught.value.detail or "")
    assert "host reset" in (caught.value.hint or "")
    assert THP_ENABLED in json.loads(saved.read_text())["values"]  # saved before writing


def test_host_commands_on_this_machine(snpapp: SnpappRunner) -> None:
    code, out, _ = snpapp("host", "show", "--json")
    assert code == 0
    assert json.loads(out)["cpus.online"] == read_host_state(LocalHost())["cpus.online"]
    code, out, _ = snpapp("host", "show", "--cpus", "0")
    assert code == 0
    assert "absent on local: " in out
    code, out, _ = snpapp("host", "tune", "--dry-run", "--cpus", "0")
    assert code == 0
    assert out.rstrip().endswith("dry run: nothing was changed")
    assert "note: C-states are left as they are" in out
    code, _, err = snpapp("host", "tune", "--cpus", "zero")
    assert code == 2
    assert "--cpus takes a CPU list" in err
