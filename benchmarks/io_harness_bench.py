"""What snpapp adds around fio and iperf3: the harness overhead of an I/O run, real TCG boots.

A local campaign (the local profile's two scenarios, REPS repetitions) runs one
fio job and one iperf3 test of RUNTIME seconds each, in-process. Then the same
QEMU command lines (taken from the campaign's raw logs, same devices) are booted
by hand, REPS times each, with a bare script: just the tool as one would type it
(fio on /dev/vda; iperf3 after three `ip` commands, against a server started on
this machine). What snpapp adds:

- in the guest: the median BEGIN→END time (the guest's own uptime at the two
  markers) of the campaign's runs minus that of the by-hand boots: the
  attestation step, finding the disk or the NIC, the script around the tool;
- on the host: creating the run's preallocated fio image, or starting the iperf3
  server and waiting until it listens, and the clean-up after the boot (timed
  around :func:`snpappliance.campaign.iosetup.run_devices` itself).

Both are fractions of the tool's runtime (target: under 3 % together). The
tool's own start-up under TCG counts for neither. Boot metric resolution:
``boot_s`` is the host's monotonic clock when the BEGIN line arrives
(sub-millisecond, plus the console's line latency); ``kernel_boot_s`` is the
guest's /proc/uptime (10 ms). These are local emulated numbers — not SNP
measurements.

    python3 benchmarks/io_harness_bench.py --reps 2 --runtime 10
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from snpappliance import proc  # noqa: E402
from snpappliance.campaign.commands import make_host  # noqa: E402
from snpappliance.campaign.iodevices import disk_create_argv  # noqa: E402
from snpappliance.campaign.iosetup import run_devices  # noqa: E402
from snpappliance.campaign.profiles import profile_path  # noqa: E402
from snpappliance.campaign.runner import create_campaign, execute_campaign  # noqa: E402
from snpappliance.campaign.scripts import fio_command, iperf3_command  # noqa: E402
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
PORT = 5298
_MARK = re.compile(r"===SNP-(BEGIN|END) id=\S+ .*uptime=([0-9.]+)===")


def io_spec(reps: int, runtime_s: int) -> CampaignSpec:
    job = FioJob("randread-4k", FioRw.RANDREAD, iodepth=8, size="64M", runtime_s=runtime_s)
    workloads = (
        FioWorkload(jobs=(job,), disk_size="128M"),
        Iperf3Workload(duration_s=runtime_s, port=PORT),
    )
    return replace(load_spec(profile_path("local")), repetitions=reps, seed=1, workloads=workloads)


def in_guest_s(console: str) -> float:
    """BEGIN→END on the guest's own clock."""
    marks = {m.group(1): m.group(2) for m in _MARK.finditer(console)}
    return float(marks["END"]) - float(marks["BEGIN"])


def campaign_runs(cdir: Path) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Per workload: BEGIN→END of every ok attempt, and one logged QEMU line per scenario."""
    spans: dict[str, list[float]] = {}
    lines: dict[str, list[str]] = {}
    for record in read_records(cdir / "attempts.jsonl"):
        if record["record"] != "attempt" or record["status"] != "ok":
            continue
        workload = "fio" if "-fio-" in str(record["run_id"]) else "iperf3"
        text = (cdir / str(record["log"])).read_text(encoding="utf-8")
        spans.setdefault(workload, []).append(in_guest_s(text))
        lines.setdefault(workload, shlex.split(text.splitlines()[0].removeprefix("# ")))
    return spans, lines


def bare_script(spec: CampaignSpec, workload: str) -> str:
    """The tool as one would run it by hand in the guest."""
    chosen = spec.workload(workload)
    if isinstance(chosen, FioWorkload):
        return shlex.join(fio_command(chosen, "/dev/vda")) + "\n"
    assert isinstance(chosen, Iperf3Workload)
    return (
        "ip link set eth0 up\nip addr add 10.0.2.15/24 dev eth0\n"
        "ip route add default via 10.0.2.2\n"
        + shlex.join(iperf3_command(chosen, "10.0.2.2"))
        + "\n"
    )


def by_hand_argv(logged: list[str], script: Path, disk: Path) -> list[str]:
    """The campaign's QEMU line with the bare script and a fresh disk of its own."""
    argv = []
    for arg in logged:
        if arg.startswith("name=opt/snp/cmd,file="):
            arg = f"name=opt/snp/cmd,file={script}"
        elif arg.startswith("file=") and ",id=fio0," in arg:
            arg = f"file={disk}," + arg.split(",", 1)[1]
        argv.append(arg)
    return argv


def by_hand(
    spec: CampaignSpec, lines: dict[str, list[str]], work: Path, reps: int
) -> dict[str, list[float]]:
    """BEGIN→END of the bare tool in the same virtual machine, ``reps`` boots per workload."""
    host = make_host("local")
    spans: dict[str, list[float]] = {}
    fio = spec.workload("fio")
    assert isinstance(fio, FioWorkload)
    for rep in range(reps):
        for workload, logged in lines.items():
            script = work / f"bare-{workload}.sh"
            script.write_text(bare_script(spec, workload), encoding="utf-8")
            disk = work / "bare-fio.raw"
            proc.run(disk_create_argv("qemu-img", fio, str(disk)))
            argv = by_hand_argv(logged, script, disk)
            # iperf3 needs its server on the host, as it would by hand.
            server = (
                run_devices(host, spec, workload, str(work), f"bare{rep}")
                if workload == "iperf3"
                else contextlib.nullcontext()
            )
            with server:
                console = proc.run(argv, timeout=600).stdout
            spans.setdefault(workload, []).append(in_guest_s(console))
    return spans


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--runtime", type=int, default=10, help="fio/iperf3 seconds per run")
    parser.add_argument("--artifacts", type=Path, default=REPO / "artifacts")
    args = parser.parse_args()
    spec = io_spec(args.reps, args.runtime)
    with tempfile.TemporaryDirectory(prefix="snpapp-io-bench-") as tmp:
        root = Path(tmp)
        host = make_host("local")
        cdir, prepared = create_campaign(spec, host, root=root, artifacts_root=args.artifacts)
        execute_campaign(cdir, spec, host, prepared)
        via, lines = campaign_runs(cdir.path)
        bare = by_hand(spec, lines, root, args.reps)
        hosted = host_side(spec, root, args.runtime, times=2 * args.reps)
    result: dict[str, object] = {"label": EMULATED_LABEL, "tool_runtime_s": args.runtime}
    for workload in ("fio", "iperf3"):
        guest = (
            statistics.median(via[workload]) - statistics.median(bare[workload])
        ) / args.runtime
        on_host = statistics.median(hosted[workload])
        result[workload] = {
            "snpapp_begin_to_end_s": via[workload],
            "by_hand_begin_to_end_s": bare[workload],
            "in_guest_fraction": round(guest, 4),
            "on_host_fraction": round(on_host, 4),
            "total_fraction": round(guest + on_host, 4),
            "under_target": guest + on_host < TARGET,
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
