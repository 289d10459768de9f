"""``snpapp build``: pinned toolchain images and checksummed artefacts.

The plain functions other parts of snpapp (and their tests) call:

* :func:`build_components` builds components of a stack and returns one
  :class:`BuildResult` per component (raising :class:`BuildError` after the
  summary if any failed);
* :func:`build_base` makes sure the stack's base image exists;
* :func:`artifacts_dir` is where a component's artefacts and manifest live.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from snpappliance.build.base import MIRROR_ENV
from snpappliance.build.component import BuildResult, Status
from snpappliance.build.docker_engine import Engine
from snpappliance.build.execute import execute, prepare_base, summary_table
from snpappliance.build.plan import (
    BuildOptions,
    BuildPlan,
    artifacts_dir,
    default_cache_root,
    describe_plan,
    plan_build,
)
from snpappliance.errors import BuildError
from snpappliance.formats.manifest import ARTIFACTS_DIR
from snpappliance.formats.names import DEFAULT_STACK
from snpappliance.formats.stack import load_stack
from snpappliance.log import console

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = [
    "DEFAULT_STACK",
    "BuildOptions",
    "BuildPlan",
    "BuildResult",
    "Status",
    "artifacts_dir",
    "build_base",
    "build_components",
    "describe_plan",
    "plan_build",
    "resolve_mirror",
]


def resolve_mirror(mirror: str | None) -> str | None:
    """``--mirror``, else ``$SNPAPP_DEBIAN_MIRROR``, else None (the stack's pinned snapshot)."""
    return mirror or os.environ.get(MIRROR_ENV) or None


def _options(artifacts_root: Path, mirror: str | None, jobs: int,
             sources: Mapping[str, Path] | None, base_image: str | None,
             cache_root: Path | None) -> BuildOptions:  # fmt: skip
    return BuildOptions(
        artifacts_root=artifacts_root,
        cache_root=cache_root or default_cache_root(),
        jobs=jobs,
        mirror=resolve_mirror(mirror),
        base_image=base_image,
        sources=dict(sources or {}),
    )


def build_base(
    stack: str = DEFAULT_STACK,
    *,
    artifacts_root: Path = ARTIFACTS_DIR,
    mirror: str | None = None,
    cache_root: Path | None = None,
) -> str:
    """Make sure the base image of ``stack`` exists (debootstrap + import); return its tag."""
    options = _options(artifacts_root, mirror, 1, None, None, cache_root)
    plan = plan_build(load_stack(stack), [], options)
    engine = Engine.connect()
    try:
        prepare_base(plan, engine)
    finally:
        engine.close()
    return plan.base.tag


def build_components(
    stack: str,
    components: Sequence[str],
    *,
    artifacts_root: Path,
    mirror: str | None,
    jobs: int = 1,
    sources: Mapping[str, Path] | None = None,
    base_image: str | None = None,
    cache_root: Path | None = None,
) -> list[BuildResult]:
    """Build ``components`` (or ``["all"]``) of ``stack`` into ``artifacts_root/stack/``."""
    options = _options(artifacts_root, mirror, jobs, sources, base_image, cache_root)
    plan = plan_build(load_stack(stack), components, options)
    debian_mirror = plan.base.mirror or (options.mirror or load_stack(stack).base.snapshot_mirror)
    engine = Engine.connect()
    try:
        results = execute(plan, engine, debian_mirror=debian_mirror)
    finally:
        engine.close()
    console.print(summary_table(plan.stack, results))
    failures = [r for r in results if r.status == Status.FAILED]
    if failures:
        first = failures[0]
        if first.error is not None:
            raise first.error
        msg = f"building {first.component} failed"
        raise BuildError(msg, detail=f"log: {first.log_path}")
    return results
