"""Wall time and peak memory of `snpapp report` on synthetic results, against the README's targets.

The results are SYNTHETIC: generated here with a seeded numpy RNG (normal
noise around fixed medians, a few planted outliers and failed runs), so the
numbers measure the report pipeline only, never SEV-SNP. Case a is a campaign
directory (its results.csv beside the campaign.toml and environment.json of
tests/fixtures/report-environment, so the stack table and the environment
appendix are laid out too); the others are results files. Each case runs
`python -m snpappliance report SOURCE --out DIR` in a child process, cold (a
fresh interpreter, imports included); CPU time and peak RSS come from
resource.getrusage(RUSAGE_CHILDREN) around it (the figure workers included).
On a shared machine wall time exceeds CPU time / CPUs by the load of
everything else running: the load average is printed with each case.

    python3 benchmarks/report_bench.py                      # cases a and b
    python3 benchmarks/report_bench.py --case a             # 80 rows: target 4 s
    python3 benchmarks/report_bench.py --case c --case d    # 500 000 and 5 000 000 rows
    python3 benchmarks/report_bench.py --case a --runs 5    # median and best of five

With --runs N each case is rendered N times from the same input; the wall time
shown is the median, with the fastest beside it (a shared machine's noise only
ever adds time).

Cases c and d load the machine for minutes: run them on their own, once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from snpappliance import proc
from snpappliance.formats.results import COLUMNS

SEED = 20250713
#: The recorded environment and spec of a real local campaign (case a's campaign directory).
ENVIRONMENT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "report-environment"
#: A finished step on the report's console: "  ✓ computing statistics (42.0 s)".
STEP_LINE = re.compile(r"✓ (.+?) \((\d+(?:\.\d+)?) s\)")
METRICS = (
    ("cpu_perf", "events/s", 13677.0, 6.0),
    ("ram_bw_mib_s", "MiB/s", 6735.0, 60.0),
    ("wall_s", "s", 10.0, 0.05),
    ("lat_us", "us", 85.0, 2.0),
    ("io_mib_s", "MiB/s", 2100.0, 40.0),
)


@dataclass(frozen=True)
class Case:
    name: str
    scenarios: int
    metrics: int
    runs: int
    target_s: float
    rss_target_mib: float = 1024.0
    #: Run only when asked for by name (--case).
    large: bool = False
    #: Render a campaign directory (results.csv, campaign.json, campaign.toml,
    #: environment.json) rather than a bare results file.
    campaign: bool = False


CASES = (
    Case("a", 2, 2, 20, 4.0, campaign=True),
    Case("b", 10, 5, 2000, 45.0),
    Case("c", 10, 5, 10_000, 90.0, 2048.0, large=True),
    Case("d", 10, 5, 100_000, 180.0, 2048.0, large=True),
)


def synthetic_results(case: Case, path: Path) -> int:
    """Write a seeded synthetic results CSV for ``case``; return its row count."""
    rng = np.random.default_rng(SEED)
    frames = []
    for s in range(case.scenarios):
        scenario = "sev_off" if s == 0 else f"sev_on_{s}"
        for name, unit, median, sd in METRICS[: case.metrics]:
            values = median * (1.0 - 0.002 * s) + rng.normal(0.0, sd, case.runs)
            values[rng.integers(0, case.runs)] = median * 0.9  # one planted outlier per arm
            status = np.where(rng.random(case.runs) < 0.01, "guest_error", "ok")
            frames.append(
                pd.DataFrame(
                    {
                        "scenario": scenario,
                        "workload": "synthetic",
                        "metric": name,
                        "value": np.round(values, 3),
                        "unit": unit,
                        "rep": np.arange(1, case.runs + 1),
                        "host": "synthetic",
                        "run_id": [f"{scenario}-{name}-{i}" for i in range(case.runs)],
                        "attempt": 1,
                        "status": status,
                        "started_at": "",
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True)[list(COLUMNS)]
    table.to_csv(path, index=False)
    return len(table)


@dataclass(frozen=True)
class Measured:
    rows: int
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    #: (step title, seconds) as the report printed them.
    steps: tuple[tuple[str, float], ...] = ()


def campaign_dir(case: Case, workdir: Path) -> tuple[Path, int]:
    """A campaign directory of ``case``'s synthetic results and a real recorded environment."""
    directory = workdir / f"campaign_{case.name}"
    directory.mkdir()
    rows = synthetic_results(case, directory / "results.csv")
    for name in ("campaign.toml", "environment.json"):
        shutil.copy(ENVIRONMENT / name, directory / name)
    info = {"campaign_id": directory.name, "baseline": "sev_off", "emulated": False}
    (directory / "campaign.json").write_text(json.dumps(info), encoding="utf-8")
    return directory, rows


def prepare(case: Case, workdir: Path) -> tuple[Path, int]:
    """``case``'s input (a campaign directory or a results file) and its row count."""
    if case.campaign:
        return campaign_dir(case, workdir)
    source = workdir / f"results_{case.name}.csv"
    return source, synthetic_results(case, source)


def render(source: Path, rows: int, out: Path) -> Measured:
    """Rows, wall time, CPU time (user + system) and peak RSS of one report process."""
    argv = [sys.executable, "-m", "snpappliance", "report", str(source), "--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    # A wide console, so that no step line (they name the input path) is wrapped.
    done = proc.run(argv, timeout=3600, env={"COLUMNS": "400"})
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: cases run smallest first.
    steps = tuple(
        (title.split(" from ")[0].split(" (")[0], float(seconds))
        for title, seconds in STEP_LINE.findall(done.stdout + done.stderr)
    )
    return Measured(rows, wall, cpu, after.ru_maxrss / 1024.0, steps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[c.name for c in CASES], action="append")
    parser.add_argument("--runs", type=int, default=1, help="renders per case (default 1)")
    args = parser.parse_args()
    wanted = set(args.case or [c.name for c in CASES if not c.large])
    runs = max(1, args.runs)
    print(f"synthetic data (seeded RNG), not measurements; {runs} run(s) per case")
    print(f"CPUs available: {len(os.sched_getaffinity(0))}")
    print(
        f"{'case':<5}{'shape':<28}{'rows':>9}{'wall s':>9}{'best':>7}{'target':>8}{'CPU s':>8}"
        f"{'peak RSS MiB':>14}  ok"
    )
    failed = False
    with tempfile.TemporaryDirectory(prefix="snpapp-report-bench-") as tmp:
        for case in (c for c in CASES if c.name in wanted):
            load = os.getloadavg()[0]
            source, rows = prepare(case, Path(tmp))
            found = [render(source, rows, Path(tmp) / f"report_{case.name}") for _ in range(runs)]
            m = sorted(found, key=lambda r: r.wall_s)[(runs - 1) // 2]  # the (lower) median
            best = min(r.wall_s for r in found)
            ok = m.wall_s <= case.target_s and m.peak_rss_mib < case.rss_target_mib
            failed |= not ok
            shape = f"{case.scenarios} sc × {case.metrics} m × {case.runs} runs"
            print(
                f"{case.name:<5}{shape:<28}{m.rows:>9}{m.wall_s:>9.1f}{best:>7.1f}"
                f"{case.target_s:>8.0f}{m.cpu_s:>8.1f}{m.peak_rss_mib:>14.0f}  "
                f"{'yes' if ok else 'NO'}",
                flush=True,
            )
            print("     steps: " + "; ".join(f"{t} {s:.1f} s" for t, s in m.steps), flush=True)
            print(f"     load average (1 min) before the case: {load:.2f}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
