"""A real local campaign with fio, iperf3 and a boot sweep, into results and a report.

The guest built by `snpapp build guest` boots under QEMU TCG; fio runs on the
run's own virtio-blk disk, iperf3's client in the guest talks to a real iperf3
server that the campaign starts on this machine, and every run records its boot.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from tests.conftest import require_program
from tests.integration.test_campaign_runs import attempts_of, no_qemu_left, run_campaign, spec_file

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SnpappRunner

pytestmark = [pytest.mark.integration, pytest.mark.qemu, pytest.mark.docker, pytest.mark.slow]

WORKLOADS = """
[workloads.fio]
disk_size = "64M"
[[workloads.fio.jobs]]
name = "randread-4k"
rw = "randread"
iodepth = 4
size = "32M"
runtime_s = 2
[[workloads.fio.jobs]]
name = "seqwrite-128k"
rw = "write"
bs = "128k"
size = "32M"
runtime_s = 2
ioengine = "psync"
[workloads.iperf3]
duration_s = 2
port = 5299
[workloads.boot]
memory_mib = [768]
"""

FIO_METRICS = {
    "randread-4k": {
        "fio_read_bw_kib_s",
        "fio_read_iops",
        "fio_read_lat_mean_us",
        "fio_read_clat_p99_us",
    },
    "seqwrite-128k": {
        "fio_write_bw_kib_s",
        "fio_write_iops",
        "fio_write_lat_mean_us",
        "fio_write_clat_p99_us",
    },
}


def test_fio_iperf3_and_boot_runs_end_to_end(
    snpapp: SnpappRunner, guest_artifacts: Path, tmp_path: Path
) -> None:
    require_program("iperf3")
    require_program("qemu-img")
    spec = spec_file(tmp_path, workloads=WORKLOADS)
    code, cdir, output = run_campaign(snpapp, spec, tmp_path / "c", guest_artifacts)
    assert code == 0, output
    assert cdir is not None
    with (cdir / "results.csv").open(encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    assert {r["status"] for r in records} == {"ok"}
    by_workload: dict[str, set[str]] = {}
    for r in records:
        by_workload.setdefault(r["workload"], set()).add(r["metric"])
    for job, metrics in FIO_METRICS.items():
        assert by_workload[job] == metrics
    assert {"iperf3_sender_mbit_s", "iperf3_receiver_mbit_s"} <= by_workload["iperf3-tcp"]
    # Every run's boot lands under its memory size: three runs at 512 MiB per scenario,
    # and the sweep's one at 768 MiB.
    assert by_workload["boot-512mib"] == {"boot_s", "kernel_boot_s"}
    boots = Counter((r["workload"], r["scenario"]) for r in records if r["metric"] == "boot_s")
    assert boots == {
        ("boot-512mib", "baseline"): 2,
        ("boot-512mib", "snp-layout"): 2,
        ("boot-768mib", "baseline"): 1,
        ("boot-768mib", "snp-layout"): 1,
    }
    for r in records:
        if r["metric"] in ("boot_s", "kernel_boot_s"):
            assert 0 < float(r["value"]) < 120
        if r["metric"].endswith(("_iops", "_mbit_s", "_kib_s")):
            assert float(r["value"]) > 0
    # Every run's attestation step ran in the guest, found no SEV-SNP interface (the
    # guest's snp-guest-report tool got no /dev/sev-guest) and was recorded as such.
    for attempt in attempts_of(cdir):
        record = attempt["attestation"]
        assert isinstance(record, dict)
        assert (record["status"], record["guest_status"]) == ("no-snp", "no-interface")
        assert len(str(record["nonce"])) == 128
    info = json.loads((cdir / "campaign.json").read_text(encoding="utf-8"))
    assert info["attestation"]["expected_measurement"] is None
    # The raw JSON of the tools is kept with each run's console log.
    logs = {str(a["run_id"]): (cdir / str(a["log"])).read_text() for a in attempts_of(cdir)}
    fio_log = next(text for run, text in logs.items() if "-fio-" in run)
    assert '"jobname" : "randread-4k"' in fio_log
    iperf_log = next(text for run, text in logs.items() if "-iperf3-" in run)
    assert '"sum_received"' in iperf_log
    # ... and as the tool's own JSON document beside it, which `snpapp import` reads.
    kept = {str(a["run_id"]): cdir / str(a["tool_json"]) for a in attempts_of(cdir)
            if "tool_json" in a}  # fmt: skip
    assert {run.split("-")[-2] for run in kept} == {"fio", "iperf3"}
    for run, path in kept.items():
        assert path.name.endswith((".fio.json", ".iperf3.json")), path
        document = json.loads(path.read_text(encoding="utf-8"))
        assert ("jobs" if "-fio-" in run else "end") in document, run
    imported = tmp_path / "imported.csv"
    code, _out, err = snpapp("import", *map(str, kept.values()), "--scenario", "x",
                             "--out", str(imported))  # fmt: skip
    assert code == 0, err
    with imported.open(encoding="utf-8", newline="") as fh:
        assert {r["workload"] for r in csv.DictReader(fh)} >= {"randread-4k", "iperf3-tcp"}
    # Nothing is left behind: no QEMU, no fio image, no iperf3 server.
    assert no_qemu_left(cdir)
    assert not list(cdir.rglob("*-fio.raw"))
    assert proc.run(["pgrep", "-f", "iperf3 -s -1 .* -p 5299"], check=False).returncode == 1
    env = json.loads((cdir / "environment.json").read_text(encoding="utf-8"))
    # Table 1's facts: the full manifest of every built component, BIOS when readable.
    assert env["stack"]["components"]["guest"]["component"] == "guest"
    assert isinstance(env["host"]["bios"], dict)
    assert env["guest"]["build_info"]["fio"].startswith("fio-3.")
    assert env["guest"]["build_info"]["iperf3"].startswith("3.")
    code, _out, err = snpapp("report", str(cdir), "--out", str(tmp_path / "report"))
    assert code == 0, err
    with (tmp_path / "report" / "stats" / "comparisons.csv").open(encoding="utf-8") as fh:
        compared = {(r["workload"], r["metric"]) for r in csv.DictReader(fh)}
    assert ("randread-4k", "fio_read_iops") in compared
    assert ("seqwrite-128k", "fio_write_bw_kib_s") in compared
    assert ("iperf3-tcp", "iperf3_receiver_mbit_s") in compared
    assert ("boot-768mib", "boot_s") in compared
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "randread-4k" in html
