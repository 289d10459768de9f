"""What snpapp adds around fio and iperf3: harness overhead of an I/O run, real TCG boots.

A local campaign (the local profile's two scenarios, REPS repetitions) runs one
fio job and one iperf3 test of RUNTIME seconds each, in-process. For every run:

- in the guest: BEGIN→END marker time (host clock) minus the tool's own runtime
  (fio's ``job_runtime``, iperf3's ``end.sum_sent.seconds``): finding the disk
  or configuring the NIC, starting the tool, printing its JSON;
- on the host: creating the run's preallocated fio image, or starting the
  iperf3 server and waiting until it listens, and the clean-up after the boot
  (timed around :func:`snpappliance.campaign.iosetup.run_devices` itself).

Both are reported as fractions of the tool's runtime (target: under 3 %), with
the median over runs. The guest's boot is not overhead (it is a metric). Boot
metric resolution: ``boot_s`` is read on the host's monotonic clock when the
BEGIN line arrives (sub-millisecond, plus the console's line latency);
``kernel_boot_s`` is the guest's /proc/uptime (10 ms). These are local
emulated numbers — not SNP measurements.

    python3 benchmarks/io_harness_bench.py --reps 2 --runtime 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from snpappliance.campaign.commands import make_host  # noqa: E402
from snpappliance.campaign.console import parse_console  # noqa: E402
from snpappliance.campaign.iosetup import run_devices  # noqa: E402
from snpappliance.campaign.profiles import profile_path  # noqa: E402
from snpappliance.campaign.runner import create_campaign, execute_campaign  # noqa: E402
from snpappliance.campaign.spec import (  # noqa: E402
    EMULATED_LABEL,
    CampaignSpec,
    FioJob,
    FioRw,
    FioWorkload,
    Iperf3Workload,
    load_spec,
)
from snpappliance.campaign.store import read_records  # noqa: E402

TARGET = 0.03


def io_spec(reps: int, runtime_s: int) -> CampaignSpec:
    job = FioJob("randread-4k", FioRw.RANDREAD, iodepth=8, size="64M", runtime_s=runtime_s)
    workloads = (
        FioWorkload(jobs=(job,), disk_size="128M"),
        Iperf3Workload(duration_s=runtime_s, port=5298),
    )
    return replace(load_spec(profile_path("local")), repetitions=reps, seed=1, workloads=workloads)


def tool_runtime_s(workload: str, payload: str) -> float:
    """The tool's own runtime from its JSON report."""
    document = json.loads(payload[payload.index("{") : payload.rindex("}") + 1])
    if workload == "fio":
        return sum(float(job["job_runtime"]) for job in document["jobs"]) / 1000
    return float(document["end"]["sum_sent"]["seconds"])


def guest_side(cdir: Path) -> dict[str, list[float]]:
    """Per workload: (BEGIN→END − tool runtime) / tool runtime of every ok attempt."""
    fractions: dict[str, list[float]] = {}
    for record in read_records(cdir / "attempts.jsonl"):
        if record["record"] != "attempt" or record["status"] != "ok":
            continue
        workload = "fio" if "-fio-" in str(record["run_id"]) else "iperf3"
        payload = parse_console((cdir / str(record["log"])).read_text(encoding="utf-8")).payload
        runtime = tool_runtime_s(workload, payload)
        spent = float(record["t_end"]) - float(record["t_begin"])
        fractions.setdefault(workload, []).append((spent - runtime) / runtime)
    return fractions


def host_side(spec: CampaignSpec, work: Path, runtime_s: int, times: int) -> dict[str, list[float]]:
    """Per workload: set-up + clean-up of the host side of one run / the tool's runtime."""
    host = make_host("local")
    fractions: dict[str, list[float]] = {}
    for workload in ("fio", "iperf3"):
        for i in range(times):
            start = time.monotonic()
            with run_devices(host, spec, workload, str(work), f"bench{i}"):
                pass
            fractions.setdefault(workload, []).append((time.monotonic() - start) / runtime_s)
    return fractions


def summary(values: list[float]) -> dict[str, object]:
    return {
        "median_fraction": round(statistics.median(values), 4),
        "max_fraction": round(max(values), 4),
        "runs": len(values),
        "under_target": statistics.median(values) < TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--runtime", type=int, default=10, help="fio/iperf3 seconds per run")
    parser.add_argument("--artifacts", type=Path, default=REPO / "artifacts")
    args = parser.parse_args()
    spec = io_spec(args.reps, args.runtime)
    with tempfile.TemporaryDirectory(prefix="snpapp-io-bench-", dir=REPO) as tmp:
        root = Path(tmp)
        host = make_host("local")
        cdir, prepared = create_campaign(spec, host, root=root, artifacts_root=args.artifacts)
        execute_campaign(cdir, spec, host, prepared)
        guest = guest_side(cdir.path)
        hosted = host_side(spec, root, args.runtime, times=2 * args.reps)
    result = {
        "label": EMULATED_LABEL,
        "tool_runtime_s": args.runtime,
        "in_guest": {w: summary(v) for w, v in guest.items()},
        "on_host": {w: summary(v) for w, v in hosted.items()},
        "total_median_fraction": {
            w: round(statistics.median(guest[w]) + statistics.median(hosted[w]), 4) for w in guest
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
