"""Campaign harness overhead and fidelity, measured with real QEMU TCG boots.

1. Overhead: a campaign of the local profile (sysbench-cpu only, REPS
   repetitions per scenario) runs in-process; its wall time minus the sum over
   attempts of (guest boot + workload time: QEMU start until the guest's END
   marker) is what snpapp itself costs. Target: under 3 % of the campaign's
   wall time. QEMU's power-off after the END marker is counted as overhead.
2. Fidelity: the same guest and the same QEMU command line (checked against
   the one in the campaign's raw logs) are started by hand, REPS times per
   scenario, half before and half after the campaign so that slow drift of a
   shared machine hits both sides alike; the median sysbench score through
   snpapp divided by the median by hand should be 1.00 within the noise.
   Reported with a 95 % percentile bootstrap CI of the ratio of medians.

Needs the guest built by `snpapp build guest` (artifacts/debian-bookworm/guest,
or --artifacts ROOT) and qemu-system-x86_64 + ovmf. These are local emulated
numbers — not SNP measurements.

    python3 benchmarks/campaign_bench.py --reps 5
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from snpappliance import proc  # noqa: E402
from snpappliance.campaign.commands import make_host  # noqa: E402
from snpappliance.campaign.console import parse_console  # noqa: E402
from snpappliance.campaign.guests.minimal import MinimalGuest  # noqa: E402
from snpappliance.campaign.profiles import profile_path  # noqa: E402
from snpappliance.campaign.qemu import qemu_argv  # noqa: E402
from snpappliance.campaign.runner import create_campaign, execute_campaign  # noqa: E402
from snpappliance.campaign.scripts import workload_script  # noqa: E402
from snpappliance.campaign.spec import (  # noqa: E402
    EMULATED_LABEL,
    CampaignSpec,
    SysbenchCpu,
    load_spec,
)
from snpappliance.campaign.store import read_records  # noqa: E402
from snpappliance.report.load import load_results  # noqa: E402
from snpappliance.workloads.parsers import parse_sysbench  # noqa: E402
from tests.factories import GENOA_SNP_BOOT  # noqa: E402

if TYPE_CHECKING:
    from snpappliance.campaign.prepare import Prepared

TARGET_OVERHEAD = 0.03
BOOTSTRAP = 5000


def local_spec(reps: int) -> CampaignSpec:
    spec = load_spec(profile_path("local"))
    return replace(spec, repetitions=reps, seed=1, workloads=(SysbenchCpu(20000, 5),))


def hand_command_lines(spec: CampaignSpec, prepared: Prepared, work: Path) -> dict[str, list[str]]:
    """The QEMU command line per scenario, as one would type it for one boot."""
    script = work / "by-hand.sh"
    script.write_text(workload_script(spec.workloads[0], spec.guest.vcpus), encoding="utf-8")
    guest = prepared.guest
    if not isinstance(guest, MinimalGuest):
        msg = "the benchmark boots the minimal guest by hand; the spec names another"
        raise SystemExit(msg)
    lines = {}
    for scenario in spec.scenarios:
        cfg = replace(
            GENOA_SNP_BOOT,
            qemu=spec.qemu.binary,
            accel=spec.qemu.accel,
            kind=scenario.kind,
            vcpus=spec.guest.vcpus,
            memory_mib=spec.guest.memory_mib,
            kernel=guest.kernel,
            initrd=guest.initrd,
            workload_file=str(script),
            run_id="by-hand",
            watchdog_s=int(spec.timeouts.workload_s),
            cpu=spec.guest.cpu,
            firmware=prepared.firmware,
            cbitpos=prepared.cbitpos,
        )
        lines[scenario.name] = list(qemu_argv(cfg))
    return lines


def same_command(hand: list[str], logged: list[str]) -> bool:
    """Equal but for the guest id and the workload file's path."""

    def strip(argv: list[str]) -> list[str]:
        return [a.split("snp.id=")[0] if "snp.id=" in a else a.split(",file=")[0] for a in argv]

    return strip(hand) == strip(logged)


def logged_command_lines(cdir: Path) -> dict[str, list[str]]:
    """One QEMU command line per scenario, from the first line of its raw logs."""
    lines: dict[str, list[str]] = {}
    for log in sorted((cdir / "logs").glob("*.a1.log")):
        scenario = "snp-layout" if "-snp-layout-" in log.name else "baseline"
        first = log.read_text(encoding="utf-8").splitlines()[0]
        lines.setdefault(scenario, shlex.split(first.removeprefix("# ")))
    return lines


def by_hand(argv: list[str], tag: str) -> float:
    result = proc.run(argv, timeout=300)
    guest = parse_console(result.stdout)
    if guest.rc != 0:
        msg = f"by-hand boot {tag} did not finish: {proc.tail(result.stdout)}"
        raise SystemExit(msg)
    text, _ = guest.sections()
    return parse_sysbench(text, source=tag).measurement.value


def hand_series(lines: dict[str, list[str]], reps: int, hand: dict[str, list[float]]) -> None:
    for rep in range(reps):
        for scenario, argv in lines.items():
            hand.setdefault(scenario, []).append(by_hand(argv, f"{scenario}-{rep}"))


def overhead(cdir: Path, wall_s: float) -> dict[str, float]:
    attempts = [r for r in read_records(cdir / "attempts.jsonl") if r["record"] == "attempt"]
    guest_s = sum(float(a["t_end"]) for a in attempts)
    shutdown_s = sum(float(a["t_exit"]) - float(a["t_end"]) for a in attempts)
    return {
        "campaign_wall_s": round(wall_s, 2),
        "sum_boot_plus_workload_s": round(guest_s, 2),
        "sum_qemu_poweroff_s": round(shutdown_s, 2),
        "overhead_s": round(wall_s - guest_s, 2),
        "overhead_fraction": round((wall_s - guest_s) / wall_s, 4),
        "attempts": len(attempts),
    }


def ratio_ci(a: list[float], b: list[float], seed: int = 0) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)
    xa, xb = np.asarray(a), np.asarray(b)
    ra = np.median(rng.choice(xa, (BOOTSTRAP, len(xa))), axis=1)
    rb = np.median(rng.choice(xb, (BOOTSTRAP, len(xb))), axis=1)
    ratios = ra / rb
    point = float(np.median(xa) / np.median(xb))
    return point, float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))


def fidelity(cdir: Path, hand: dict[str, list[float]]) -> dict[str, dict[str, object]]:
    ok = load_results(cdir).ok
    scores = ok[ok["metric"] == "cpu_perf"]
    report: dict[str, dict[str, object]] = {}
    for scenario, values in hand.items():
        via = [float(v) for v in scores[scores["scenario"] == scenario]["value"]]
        point, low, high = ratio_ci(via, values)
        report[scenario] = {
            "snpapp_events_per_s": via,
            "by_hand_events_per_s": values,
            "median_snpapp": statistics.median(via),
            "median_by_hand": statistics.median(values),
            "ratio_of_medians": round(point, 4),
            "ratio_ci95": [round(low, 4), round(high, 4)],
        }
    return report


def measure(reps: int, artifacts: Path, root: Path) -> dict[str, object]:
    """By-hand boots before and after the campaign (so slow drift hits both sides alike)."""
    spec = local_spec(reps)
    host = make_host("local")
    start = time.monotonic()
    cdir, prepared = create_campaign(spec, host, root=root, artifacts_root=artifacts)
    setup_s = time.monotonic() - start
    lines = hand_command_lines(spec, prepared, root)
    hand: dict[str, list[float]] = {}
    hand_series(lines, reps // 2, hand)
    start = time.monotonic()
    execute_campaign(cdir, spec, host, prepared)
    wall = setup_s + time.monotonic() - start
    hand_series(lines, reps - reps // 2, hand)
    logged = logged_command_lines(cdir.path)
    return {
        "label": EMULATED_LABEL,
        "reps_per_scenario": reps,
        "by_hand_command_equals_campaign_command": all(
            same_command(lines[s], logged[s]) for s in lines
        ),
        "overhead": overhead(cdir.path, wall),
        "fidelity": fidelity(cdir.path, hand),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--artifacts", type=Path, default=REPO / "artifacts")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="snpapp-campaign-bench-") as tmp:
        result = measure(args.reps, args.artifacts, Path(tmp))
    cost = result["overhead"]
    assert isinstance(cost, dict)
    fraction = float(cost["overhead_fraction"])
    verdict = "OK" if fraction < TARGET_OVERHEAD else "ABOVE TARGET"
    print(json.dumps(result, indent=2))
    print(f"harness overhead {fraction:.2%} of campaign wall time ({verdict}, target < 3 %)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
