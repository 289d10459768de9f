"""Does pinning make cpu_perf less noisy? The coefficient of variation with and without it.

Local profile, sysbench-cpu only, one vCPU, both scenarios (baseline and
snp-layout), under QEMU TCG: the same spec with ``[guest] pin = "off"`` and
``pin = "auto"`` (the vCPU thread on one host CPU, QEMU's other threads on
another, guest RAM bound to the node). The two arms alternate, one 1-repetition
campaign of each at a time, so slow drift of a shared machine hits both alike.
Per arm and scenario: the CV (sample standard deviation / mean) of cpu_perf;
then the ratio CV(auto) / CV(off), per scenario and of the mean over scenarios,
with a 95 % percentile bootstrap CI (resampling runs within arm and scenario).
Below 1 means pinning made the measurement steadier.

Needs the guest built by `snpapp build guest` (artifacts/debian-bookworm/guest,
or --artifacts ROOT), qemu-system-x86_64 + ovmf, and 2 CPUs for one pinned vCPU.
These are local emulated numbers — not SNP measurements.

    python3 benchmarks/noise_pinning.py --reps 4
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

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from snpappliance.campaign.commands import make_host  # noqa: E402
from snpappliance.campaign.profiles import profile_path  # noqa: E402
from snpappliance.campaign.runner import create_campaign, execute_campaign  # noqa: E402
from snpappliance.campaign.spec import (  # noqa: E402
    EMULATED_LABEL,
    CampaignSpec,
    SysbenchCpu,
    load_spec,
)
from snpappliance.report.load import load_results  # noqa: E402

ARMS = ("off", "auto")
BOOTSTRAP = 5000


def arm_spec(pin: str, seed: int) -> CampaignSpec:
    spec = load_spec(profile_path("local"))
    guest = replace(spec.guest, vcpus=1, pin=pin)
    return replace(
        spec, name=f"noise-{pin}", repetitions=1, seed=seed, guest=guest,
        workloads=(SysbenchCpu(20000, 5),),
    )  # fmt: skip


def cv(values: list[float]) -> float:
    return statistics.stdev(values) / statistics.mean(values)


def one_campaign(pin: str, seed: int, artifacts: Path, root: Path) -> dict[str, list[float]]:
    """cpu_perf per scenario of one 1-repetition campaign of arm ``pin``."""
    spec = arm_spec(pin, seed)
    host = make_host("local")
    cdir, prepared = create_campaign(spec, host, root=root, artifacts_root=artifacts)
    execute_campaign(cdir, spec, host, prepared)
    ok = load_results(cdir.path).ok
    scores = ok[ok["metric"] == "cpu_perf"]
    return {
        str(s): [float(v) for v in scores[scores["scenario"] == s]["value"]]
        for s in sorted(set(scores["scenario"]))
    }


def plan_of(root: Path) -> object:
    """The pinning plan the first `auto` campaign recorded in environment.json."""
    env = next(root.glob("*noise-auto*/environment.json"))
    return json.loads(env.read_text(encoding="utf-8"))["pinning"]


def bootstrap_ratio(
    values: dict[str, dict[str, list[float]]], scenarios: list[str], seed: int = 0
) -> tuple[float, float]:
    """95 % CI of mean-over-scenarios CV(auto) / CV(off), resampling within each cell."""
    rng = np.random.default_rng(seed)

    def cvs(arm: str) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
        per: list[np.ndarray[tuple[int], np.dtype[np.float64]]] = []
        for scenario in scenarios:
            x = np.asarray(values[arm][scenario])
            sample = rng.choice(x, (BOOTSTRAP, len(x)))
            per.append(sample.std(axis=1, ddof=1) / sample.mean(axis=1))
        return np.asarray(np.mean(per, axis=0), dtype=np.float64)

    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = cvs("auto") / cvs("off")
    # A resample of identical values has CV 0: its ratio is undefined and left out.
    ratios = ratios[np.isfinite(ratios)]
    return float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))


def measure(reps: int, artifacts: Path, root: Path) -> dict[str, object]:
    values: dict[str, dict[str, list[float]]] = {arm: {} for arm in ARMS}
    start = time.monotonic()
    for rep in range(reps):
        # Alternate which arm goes first, so neither always follows the other.
        for arm in ARMS if rep % 2 == 0 else ARMS[::-1]:
            for scenario, scores in one_campaign(arm, rep + 1, artifacts, root).items():
                values[arm].setdefault(scenario, []).extend(scores)
    scenarios = sorted(values["off"])
    cvs = {arm: {s: round(cv(values[arm][s]), 5) for s in scenarios} for arm in ARMS}
    for arm in ARMS:
        cvs[arm]["mean"] = round(statistics.mean(cvs[arm][s] for s in scenarios), 5)
    low, high = bootstrap_ratio(values, scenarios)
    return {
        "label": EMULATED_LABEL,
        "workload": "sysbench-cpu max_prime=20000 time_s=5, vcpus=1, accel=tcg",
        "runs_per_arm_and_scenario": {a: {s: len(values[a][s]) for s in scenarios} for a in ARMS},
        "pinning_plan": plan_of(root),
        "cv": cvs,
        "ratio_auto_over_off": {
            **{s: round(cvs["auto"][s] / cvs["off"][s], 3) for s in scenarios},
            "mean": round(cvs["auto"]["mean"] / cvs["off"]["mean"], 3),
            "mean_ci95": [round(low, 3), round(high, 3)],
        },
        "median_cpu_perf": {
            a: {s: statistics.median(values[a][s]) for s in scenarios} for a in ARMS
        },
        "cpu_perf": values,
        "wall_s": round(time.monotonic() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4, help="runs per arm and scenario (>= 2)")
    parser.add_argument("--artifacts", type=Path, default=REPO / "artifacts")
    args = parser.parse_args()
    if args.reps < 2:
        parser.error("a coefficient of variation needs --reps 2 or more")
    with tempfile.TemporaryDirectory(prefix="noise-", dir="/tmp") as tmp:
        print(json.dumps(measure(args.reps, args.artifacts, Path(tmp)), indent=2))


if __name__ == "__main__":
    main()
