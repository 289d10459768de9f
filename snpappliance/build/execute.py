"""Carrying out a :class:`BuildPlan`: base image, then components in dependency order.

Up to ``plan.jobs`` components build at once; a component starts when all its
dependencies are built (the SVSM IGVM embeds OVMF), and is skipped when one of
them failed. Ctrl-C stops and removes every container the build started.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from snpappliance.build.base import ensure_base
from snpappliance.build.component import BuildContext, BuildResult, Status, build_component
from snpappliance.build.docker_engine import Engine, ThrottledProgress
from snpappliance.errors import InterruptedByUser
from snpappliance.log import console, step

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.build.plan import BuildPlan, ComponentPlan


def base_log_path(plan: BuildPlan) -> Path:
    return plan.artifacts_root / plan.stack / "base.build.log"


def prepare_base(plan: BuildPlan, engine: Engine) -> str:
    """The base image id, bootstrapping it when the engine does not have it."""
    existing = engine.image_id(plan.base.tag)
    if existing is not None:
        return existing
    with step(f"base image {plan.base.tag} (debootstrap {plan.base.release} "
              f"from {plan.base.mirror or plan.base.tag})"):  # fmt: skip
        return ensure_base(plan.base, engine, work_root=plan.cache_root / "work",
                           log_file=base_log_path(plan))  # fmt: skip


def _say(message: str) -> None:
    console.print(f"  [dim]{escape(message)}[/dim]", markup=True, highlight=False)


def heartbeat() -> ThrottledProgress:
    """Repeat the latest build output line every 20 s, with the elapsed time."""
    return ThrottledProgress(lambda line, t: _say(f"[{t:5.0f} s] {line[:110]}"))


def execute(plan: BuildPlan, engine: Engine, *, debian_mirror: str) -> list[BuildResult]:
    """Build every component of ``plan``; return one result per component, in plan order."""
    base_id = prepare_base(plan, engine)
    ctx = BuildContext(
        stack=plan.stack, engine=engine, base=plan.base, base_id=base_id,
        cache_root=plan.cache_root, debian_mirror=debian_mirror,
        jobs_per_build=max(1, (os.cpu_count() or 1) // plan.jobs),
        announce=_say, output=heartbeat(),
    )  # fmt: skip
    pool = ThreadPoolExecutor(max_workers=plan.jobs, thread_name_prefix="snpapp-build")
    try:
        # The CLI edge turns SIGTERM and SIGHUP into KeyboardInterrupt as well.
        results = _schedule(plan, ctx, pool)
    except KeyboardInterrupt:
        removed = engine.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        msg = f"build interrupted; stopped and removed {removed} build container(s)"
        raise InterruptedByUser(
            msg,
            hint="run the same command again: finished components are kept and not rebuilt",
        ) from None
    pool.shutdown(wait=True)
    return [results[c.name] for c in plan.components]


def _skip_or_submit(comp: ComponentPlan, ctx: BuildContext, pool: ThreadPoolExecutor,
                    results: dict[str, BuildResult]) -> Future[BuildResult] | None:  # fmt: skip
    failed = [d for d in comp.depends if d in results and not results[d].ok]
    if failed:
        results[comp.name] = BuildResult(comp.name, Status.SKIPPED, comp.out_dir)
        return None
    deps = {d: results[d].manifest for d in comp.depends}
    manifests = {d: m for d, m in deps.items() if m is not None}
    console.print(f"[bold]▸[/bold] {comp.name} …", markup=True)
    return pool.submit(build_component, comp, ctx, manifests)


def _schedule(plan: BuildPlan, ctx: BuildContext,
              pool: ThreadPoolExecutor) -> dict[str, BuildResult]:  # fmt: skip
    results: dict[str, BuildResult] = {}
    pending = list(plan.components)
    running: dict[Future[BuildResult], str] = {}
    while pending or running:
        for comp in list(pending):
            ready = all(d in results for d in comp.depends)
            if ready and len(running) < plan.jobs:
                pending.remove(comp)
                future = _skip_or_submit(comp, ctx, pool, results)
                if future is not None:
                    running[future] = comp.name
        if not running:
            continue
        done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
        for future in done:
            result = future.result()
            results[running.pop(future)] = result
            _announce(result)
    return results


def _announce(result: BuildResult) -> None:
    mark = "[green]✓[/green]" if result.ok else "[red]✗[/red]"
    console.print(f"  {mark} {result.component}: {result.status} "
                  f"[dim]({result.duration_s:.1f} s)[/dim]", markup=True)  # fmt: skip


def summary_table(stack: str, results: list[BuildResult]) -> Table:
    table = Table(title=f"snpapp build — stack {stack}", title_justify="left")
    for column in ("component", "status", "time", "files", "size"):
        table.add_column(column, justify="right" if column in ("time", "files", "size") else "left")
    table.add_column("location", overflow="fold")
    for r in results:
        files = r.manifest.files if r.manifest else ()
        size = sum(f.size for f in files)
        where = r.out_dir if r.ok else (r.log_path or r.out_dir)
        style = {"failed": "red", "skipped": "yellow"}.get(r.status, "")
        table.add_row(
            r.component, f"[{style}]{r.status}[/{style}]" if style else str(r.status),
            f"{r.duration_s:.1f} s", str(len(files)) if files else "-",
            f"{size / 1e6:.1f} MB" if files else "-", escape(str(where)),
        )  # fmt: skip
    return table
