"""No-op `snpapp build all` time, and proof that a changed patch rebuilds only its component.

Uses the small fixture components of the build tests (a local git repository,
a patch, a toolchain image from the bootstrapped base; see
tests/integration/build_fixtures.py) against the real Docker engine:

1. a cold `snpapp build all --jobs 2` of the fixture stack;
2. `snpapp build all` again, nothing changed, timed REPEAT times as a child
   process (`python -m snpappliance`, wall clock including interpreter start)
   and once in-process (`build_components`, the build machinery alone);
   target: under 5 s;
3. alpha's patch is changed and `snpapp build all` runs again: alpha and the
   component built from it (bundle) are rebuilt, beta stays up to date.

Needs a Docker engine and the base image (`snpapp build base`; bootstrapped
here when missing, from SNPAPP_DEBIAN_MIRROR or deb.debian.org).

    python3 benchmarks/build_bench.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from snpappliance import proc  # noqa: E402
from snpappliance.build.commands import Status, build_components  # noqa: E402
from tests.integration.build_fixtures import greeting_patch, make_fixture_stack  # noqa: E402

MIRROR = os.environ.get("SNPAPP_DEBIAN_MIRROR", "http://deb.debian.org/debian")
TARGET_S = 5.0


def _cli(stack: Path, root: Path) -> float:
    argv = [sys.executable, "-m", "snpappliance", "build", "all", "--stack", str(stack),
            "--artifacts", str(root / "artifacts"), "--mirror", MIRROR]  # fmt: skip
    env = {"SNPAPP_CACHE": str(root / "cache"), "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    result = proc.run(argv, env=env)
    elapsed = time.perf_counter() - start
    if "up to date" not in result.stdout + result.stderr:
        msg = f"expected a no-op build, got:\n{result.stderr}"
        raise SystemExit(msg)
    return elapsed


def _statuses(stack: Path, root: Path) -> dict[str, Status]:
    results = build_components(str(stack), ["all"], artifacts_root=root / "artifacts",
                               mirror=MIRROR, jobs=2, cache_root=root / "cache")  # fmt: skip
    return {r.component: r.status for r in results}


def _show(statuses: dict[str, Status]) -> str:
    return ", ".join(f"{name} {status}" for name, status in statuses.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="no-op CLI runs to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="snpapp-build-bench-") as tmp:
        root = Path(tmp)
        stack = make_fixture_stack(root / "stack")
        start = time.perf_counter()
        cold = _statuses(stack.path, root)
        cold_s = time.perf_counter() - start
        print(f"cold build: {cold_s:.1f} s ({_show(cold)})")
        start = time.perf_counter()
        noop = _statuses(stack.path, root)
        inproc_s = time.perf_counter() - start
        assert set(noop.values()) == {Status.CACHED}, noop
        cli = [_cli(stack.path, root) for _ in range(args.repeat)]
        print(f"no-op build, in-process build_components(): {inproc_s:.2f} s")
        print(f"no-op `snpapp build all` (child process, {args.repeat} runs): "
              f"median {statistics.median(cli):.2f} s, min {min(cli):.2f} s, "
              f"max {max(cli):.2f} s; target < {TARGET_S:g} s: "
              f"{'met' if statistics.median(cli) < TARGET_S else 'NOT met'}")  # fmt: skip
        stack.write_patch(greeting_patch("hello", "hello, changed patch"))
        start = time.perf_counter()
        after = _statuses(stack.path, root)
        print(f"after changing alpha's patch ({time.perf_counter() - start:.1f} s): {_show(after)}")
        rebuilt = sorted(name for name, status in after.items() if status == Status.BUILT)
        print(f"rebuilt: {', '.join(rebuilt)}; untouched: "
              f"{', '.join(n for n, s in after.items() if s == Status.CACHED)}")  # fmt: skip
        return 0 if rebuilt == ["alpha", "bundle"] else 1


if __name__ == "__main__":
    sys.exit(main())
