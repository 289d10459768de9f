"""Real campaigns: the guest built by `snpapp build guest`, booted under QEMU TCG.

Boots are kept few (each costs 10-25 s of a 2-core machine): a mini campaign
into a report; boot timeouts that are retried and recorded; a guest-side
watchdog stopping a hung workload with --max-failures; output that cannot be
parsed; kill -9 of a running campaign and --resume.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from snpappliance import proc
from snpappliance.campaign import store
from snpappliance.campaign.lock import runner_pid
from snpappliance.campaign.plan import plan_from_json
from snpappliance.formats.campaigndir import CampaignDir
from snpappliance.report.load import load_results
from tests.conftest import SnpappRunner, require_program, wait_for
from tests.integration.conftest import TEST_MIRROR
from tests.pdftext import pdf_pages, spaced

pytestmark = [pytest.mark.integration, pytest.mark.qemu, pytest.mark.docker, pytest.mark.slow]

STACK = "debian-bookworm"
OVMF = "/usr/share/ovmf/OVMF.fd"
REPO = Path(__file__).resolve().parents[2]


def spec_file(
    directory: Path, *, reps: int = 1, workloads: str = "", timeouts: str = "", attempts: int = 2
) -> Path:
    workloads = workloads or '[workloads.sysbench-memory]\ntotal_size = "1G"\n'
    text = f"""
[campaign]
name = "mini"
label = "local emulated profile — not an SNP measurement"
emulated = true
repetitions = {reps}
seed = 5
[guest]
vcpus = 2
memory_mib = 512
[timeouts]
{timeouts or "boot_s = 120"}
[retry]
attempts = {attempts}
backoff_s = 0.1
backoff_max_s = 0.2
[[scenarios]]
name = "baseline"
kind = "plain"
baseline = true
[[scenarios]]
name = "snp-layout"
kind = "snp-layout"
{workloads}
"""
    path = directory / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_campaign(
    snpapp: SnpappRunner, spec: Path, root: Path, guest_artifacts: Path, *extra: str
) -> tuple[int, Path | None, str]:
    code, out, err = snpapp(
        "campaign",
        "--spec",
        str(spec),
        "--campaigns",
        str(root),
        "--artifacts",
        str(guest_artifacts),
        *extra,
    )
    dirs = sorted(root.iterdir()) if root.is_dir() else []
    return code, (dirs[-1] if dirs else None), " ".join((out + err).split())


def attempts_of(cdir: Path) -> list[dict[str, object]]:
    return [r for r in store.read_records(cdir / "attempts.jsonl") if r["record"] == "attempt"]


def no_qemu_left(cdir: Path) -> bool:
    found = subprocess.run(["pgrep", "-f", str(cdir)], capture_output=True, check=False)
    return found.returncode == 1


def qemu_running(root: Path, run_prefix: str) -> bool:
    """True while QEMU boots a run ``run_prefix…`` of a campaign below ``root``."""
    found = proc.run(["pgrep", "-af", f"^qemu-system-x86_64 .*{root}/"], check=False)
    return f"snp.id={run_prefix}" in found.stdout


def test_a_fresh_install_builds_the_local_guest_itself(
    snpapp: SnpappRunner, base_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `snpapp campaign` as written, on a machine where nothing was built yet.
    require_program("qemu-system-x86_64")
    monkeypatch.setenv("SNPAPP_DEBIAN_MIRROR", TEST_MIRROR)
    empty = tmp_path / "artifacts"
    code, cdir, output = run_campaign(snpapp, spec_file(tmp_path), tmp_path / "c", empty)
    assert code == 0, output
    assert "is not built yet: building it now" in output
    assert (empty / STACK / "guest" / "manifest.json").is_file()
    assert cdir is not None
    assert set(load_results(cdir).frame["status"]) == {"ok"}
    # Two runs: the memory bandwidth and wall time, plus each run's boot_s and kernel_boot_s.
    assert len(load_results(cdir).frame) == 8


def test_mini_campaign_into_a_report(
    snpapp: SnpappRunner, guest_artifacts: Path, tmp_path: Path
) -> None:
    code, cdir, output = run_campaign(
        snpapp, spec_file(tmp_path, reps=2), tmp_path / "c", guest_artifacts
    )
    assert code == 0, output
    assert cdir is not None
    frame = load_results(cdir).frame
    assert len(frame) == 16
    assert set(frame["status"]) == {"ok"}
    assert Counter(frame["metric"]) == {
        "ram_bw_mib_s": 4,
        "ram_wall_s": 4,
        "boot_s": 4,
        "kernel_boot_s": 4,
    }
    assert set(frame[frame["metric"] == "boot_s"]["workload"]) == {"boot-512mib"}
    assert (frame[frame["metric"] == "ram_bw_mib_s"]["value"] > 100).all()
    assert set(frame["scenario"]) == {"baseline", "snp-layout"}
    info = json.loads((cdir / "campaign.json").read_text(encoding="utf-8"))
    assert info["emulated"] is True
    assert info["label"] == "local emulated profile — not an SNP measurement"
    assert (info["baseline"], info["seed"]) == ("baseline", 5)
    env = json.loads((cdir / "environment.json").read_text(encoding="utf-8"))
    assert env["qemu"]["version"].startswith("QEMU emulator version")
    assert len(env["guest"]["manifest_digest"]) == 64
    assert env["firmware"]["path"] == OVMF
    assert env["guest"]["build_info"]["sysbench"].startswith("1.0.20")
    assert env["guest"]["build_info"]["kernel_release"].endswith("-amd64")
    assert env["snp"]["usable"] is False
    assert sorted(p.name for p in (cdir / "logs").iterdir()) == sorted(
        f"{r['run_id']}.a1.log" for r in attempts_of(cdir)
    )
    assert all(r["evidence"] == [] for r in attempts_of(cdir))
    code, out, err = snpapp("campaign", "status", str(cdir))
    assert code == 0
    assert "state: finished" in out
    assert "runs: 4/4 committed (ok 4)" in out
    code, _out, err = snpapp("report", str(cdir), "--out", str(tmp_path / "report"))
    assert code == 0, err
    pdf = tmp_path / "report" / "report.pdf"
    assert "not an SNP measurement" in spaced(" ".join(pdf_pages(pdf, layout=False)))


def test_boot_timeouts_are_retried_recorded_and_the_campaign_goes_on(
    snpapp: SnpappRunner, guest_artifacts: Path, tmp_path: Path
) -> None:
    spec = spec_file(tmp_path, timeouts="boot_s = 2", attempts=2)
    code, cdir, output = run_campaign(snpapp, spec, tmp_path / "c", guest_artifacts)
    # Every run ran (none stopped the campaign), but a campaign that measured nothing fails.
    assert code == 14, output
    assert "finished, but none of its 2 runs succeeded" in output
    assert cdir is not None
    attempts = attempts_of(cdir)
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "error"), (2, "error")] * 2
    assert all(
        str(a["reason"]).endswith("boot timeout: the workload did not start in time")
        for a in attempts
    )
    assert all(
        (cdir / str(a["log"])).read_text(encoding="utf-8").startswith("# qemu-system")
        for a in attempts
    )
    frame = load_results(cdir).frame
    assert list(frame["status"]) == ["failed", "failed"]
    assert frame["value"].isna().all()
    assert no_qemu_left(cdir)


def test_a_hung_workload_hits_the_guest_watchdog_and_max_failures_stops(
    snpapp: SnpappRunner, guest_artifacts: Path, tmp_path: Path
) -> None:
    spec = spec_file(
        tmp_path,
        attempts=1,
        timeouts="boot_s = 120\nworkload_s = 2",
        # sysbench cpu runs 10 s unless told otherwise: past the 2 s watchdog.
        workloads="[workloads.sysbench-cpu]\n",
    )
    code, cdir, output = run_campaign(
        snpapp, spec, tmp_path / "c", guest_artifacts, "--max-failures", "1"
    )
    assert code == 14, output
    assert "campaign aborted: 1 run(s) failed (--max-failures 1)" in output
    assert cdir is not None
    (attempt,) = attempts_of(cdir)
    assert "watchdog: the workload ran past the guest's timeout" in str(attempt["reason"])
    assert "===SNP-END" in (cdir / str(attempt["log"])).read_text(encoding="utf-8")
    assert len(load_results(cdir).frame) == 1


def test_output_that_cannot_be_parsed_is_recorded_with_its_log(
    snpapp: SnpappRunner, guest_artifacts: Path, tmp_path: Path
) -> None:
    # A memory run of 1 KiB in 1 MiB blocks does no work: "0.00 MiB/sec" is not a measurement.
    spec = spec_file(
        tmp_path, attempts=1, workloads='[workloads.sysbench-memory]\ntotal_size = "1K"\n'
    )
    code, cdir, output = run_campaign(snpapp, spec, tmp_path / "c", guest_artifacts)
    assert code == 14, output
    assert "finished, but none of its 2 runs succeeded" in output
    assert cdir is not None
    attempts = attempts_of(cdir)
    assert len(attempts) == 2
    for attempt in attempts:
        assert "which is not a measurement" in str(attempt["reason"])
        log = (cdir / str(attempt["log"])).read_text(encoding="utf-8")
        assert "0.00 MiB transferred (0.00 MiB/sec)" in log
    assert list(load_results(cdir).frame["status"]) == ["failed", "failed"]


def test_kill_9_then_resume_runs_every_planned_run_exactly_once(
    snpapp: SnpappRunner, guest_artifacts: Path, tmp_path: Path
) -> None:
    spec = spec_file(tmp_path, reps=2)
    root = tmp_path / "c"
    argv = [
        sys.executable,
        "-m",
        "snpappliance",
        "campaign",
        "--spec",
        str(spec),
        "--campaigns",
        str(root),
        "--artifacts",
        str(guest_artifacts),
    ]
    with subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as child:
        wait_for(lambda: child.poll() is not None or qemu_running(root, "r0002-"),
                 "the second run's boot", 240, 0.2)  # fmt: skip
        assert child.poll() is None, "the campaign ended before it could be killed"
        code, out, err = snpapp("campaign", "status", "--campaigns", str(root))
        assert code == 0
        assert f"state: running (pid {child.pid})" in out
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    (cdir,) = root.iterdir()
    code, out, err = snpapp("campaign", "status", str(cdir))
    assert code == 0
    assert "state: incomplete" in out
    code, _out, err = snpapp("campaign", "--resume", str(cdir), "--artifacts", str(guest_artifacts))
    assert code == 0, err
    assert "left running by the interrupted runner" in " ".join(err.split())
    plan = plan_from_json((cdir / "plan.json").read_text(encoding="utf-8"), "plan.json")
    frame = load_results(cdir).frame
    assert Counter(frame["run_id"]) == {run.run_id: 4 for run in plan}
    assert set(frame["status"]) == {"ok"}
    committed = [
        r["run_id"] for r in store.read_records(cdir / "attempts.jsonl") if r["record"] == "run"
    ]
    assert committed == [run.run_id for run in plan]
    assert no_qemu_left(cdir)
    assert not (cdir / "guest.pid").exists()


def test_ctrl_c_kills_the_guest_and_says_how_to_resume(
    guest_artifacts: Path, tmp_path: Path
) -> None:
    root = tmp_path / "c"
    argv = [
        sys.executable,
        "-m",
        "snpappliance",
        "campaign",
        "--spec",
        str(spec_file(tmp_path)),
        "--campaigns",
        str(root),
        "--artifacts",
        str(guest_artifacts),
    ]
    with subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        wait_for(lambda: qemu_running(root, "r0001-"), "the first boot", 120, 0.2)
        child.send_signal(signal.SIGINT)
        _out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    (cdir,) = root.iterdir()
    # The console wraps long lines, even inside a path.
    assert f"resumewith:snpappcampaign--resume{cdir}" in "".join(err.split())
    assert no_qemu_left(cdir)
    assert runner_pid(CampaignDir(cdir)) is None
    assert store.committed_runs(store.read_records(cdir / "attempts.jsonl")) == {}
