"""Ctrl-C during `snpapp report`: one line saying what stopped, nothing published, exit 130."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pathlib import Path


def big_results(path: Path) -> Path:
    rng = np.random.default_rng(1)
    lines = ["scenario,metric,value"]
    for scenario in ("off", "on"):
        lines += [f"{scenario},cpu_perf,{v:.3f}" for v in rng.normal(100, 5, 60_000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ctrl_c_while_computing_statistics(tmp_path: Path) -> None:
    results = big_results(tmp_path / "r.csv")
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "snpappliance", "report", str(results), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stderr is not None
    seen = []
    for line in child.stderr:  # poll the progress lines until the statistics start
        seen.append(line)
        if "computing statistics" in line:
            break
    child.send_signal(signal.SIGINT)
    stdout, rest = child.communicate(timeout=120)
    err = "".join(seen) + rest
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err
    assert err.count("interrupted") == 1, err
    squashed = " ".join(err.split())  # the console wraps long lines
    assert "computing statistics stopped; no report was published" in squashed
    assert stdout == ""
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))
