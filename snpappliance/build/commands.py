"""``snpapp build``: pinned toolchain images and checksummed artefacts.

The plain functions other parts of snpapp (and their tests) call:

* :func:`build_components` builds components of a stack and returns one
  :class:`BuildResult` per component (raising :class:`BuildError` after the
  summary if any failed);
* :func:`build_base` makes sure the stack's base image exists;
* :func:`artifacts_dir` is where a component's artefacts and manifest live;
* :func:`choose_mirror` says which Debian mirror a build uses, and why.

The Debian mirror a build used is remembered next to the stack's artefacts
(``ARTIFACTS/<stack>/debian-mirror``): a later build of the same stack without
``--mirror`` or ``$SNPAPP_DEBIAN_MIRROR`` uses it again, so it computes the same
base image and reuses what was built (``make demo`` exports a mirror; the same
``snpapp build guest`` typed by hand afterwards must not ask another one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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
from snpappliance.formats.stack import Stack, load_stack
from snpappliance.fsutil import atomic_write_text
from snpappliance.log import console, out

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
    "choose_mirror",
    "describe_build",
    "describe_plan",
    "mirror_file",
    "plan_build",
    "remember_mirror",
]

#: The file, in ``ARTIFACTS/<stack>/``, that holds the Debian mirror its last build used.
MIRROR_FILE = "debian-mirror"


@dataclass(frozen=True)
class MirrorChoice:
    """The Debian mirror a build uses (None: the stack's pinned snapshot) and why."""

    url: str | None
    why: str

    def describe(self, stack: Stack) -> str:
        return f"Debian mirror: {self.url or stack.base.snapshot_mirror} ({self.why})"


def mirror_file(artifacts_root: Path, stack: Stack) -> Path:
    """Where the mirror of ``stack``'s last build under ``artifacts_root`` is remembered."""
    return artifacts_root / stack.name / MIRROR_FILE


def choose_mirror(mirror: str | None, *, remembered: Path | None = None) -> MirrorChoice:
    """``--mirror``, else ``$SNPAPP_DEBIAN_MIRROR`` (set but empty: the pinned snapshot),
    else the mirror remembered in ``remembered``, else the stack's pinned snapshot."""
    if mirror:
        return MirrorChoice(mirror, "--mirror")
    if MIRROR_ENV in os.environ:
        env = os.environ[MIRROR_ENV]
        return MirrorChoice(env or None, f"${MIRROR_ENV}" if env else f"${MIRROR_ENV} is empty")
    if remembered is not None and remembered.is_file():
        url = remembered.read_text(encoding="utf-8").strip()
        if url:
            return MirrorChoice(
                url, f"the last build's, remembered in {remembered}; --mirror URL to change it"
            )
    return MirrorChoice(None, "the stack's pinned snapshot.debian.org date")


def remember_mirror(artifacts_root: Path, stack: Stack, choice: MirrorChoice) -> None:
    """Record the mirror a successful build of ``stack`` used, for the next build by hand."""
    path = mirror_file(artifacts_root, stack)
    url = choice.url or stack.base.snapshot_mirror
    if not path.is_file() or path.read_text(encoding="utf-8").strip() != url:
        atomic_write_text(path, url + "\n")


def _options(artifacts_root: Path, choice: MirrorChoice, jobs: int,
             sources: Mapping[str, Path] | None, base_image: str | None,
             cache_root: Path | None) -> BuildOptions:  # fmt: skip
    return BuildOptions(
        artifacts_root=artifacts_root,
        cache_root=cache_root or default_cache_root(),
        jobs=jobs,
        mirror=choice.url,
        base_image=base_image,
        sources=dict(sources or {}),
    )


def describe_build(
    stack: str,
    components: Sequence[str],
    *,
    artifacts_root: Path,
    mirror: str | None,
    jobs: int = 1,
    sources: Mapping[str, Path] | None = None,
    base_image: str | None = None,
) -> list[str]:
    """``--dry-run``: the Debian mirror and why, then the plan's images, sources and commands."""
    loaded = load_stack(stack)
    choice = choose_mirror(mirror, remembered=mirror_file(artifacts_root, loaded))
    options = _options(artifacts_root, choice, jobs, sources, base_image, None)
    return [choice.describe(loaded), *describe_plan(plan_build(loaded, components, options))]


def build_base(
    stack: str = DEFAULT_STACK,
    *,
    artifacts_root: Path = ARTIFACTS_DIR,
    mirror: str | None = None,
    cache_root: Path | None = None,
) -> str:
    """Make sure the base image of ``stack`` exists (debootstrap + import); return its tag."""
    loaded = load_stack(stack)
    choice = choose_mirror(mirror, remembered=mirror_file(artifacts_root, loaded))
    console.print(choice.describe(loaded), markup=False, highlight=False, soft_wrap=True)
    options = _options(artifacts_root, choice, 1, None, None, cache_root)
    plan = plan_build(loaded, [], options)
    engine = Engine.connect()
    try:
        prepare_base(plan, engine)
    finally:
        engine.close()
    remember_mirror(artifacts_root, loaded, choice)
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
    """Build ``components`` (or ``["all"]``) of ``stack`` into ``artifacts_root/stack/``.

    The summary goes to stdout: a table on a terminal, one line per component otherwise.
    """
    loaded = load_stack(stack)
    choice = choose_mirror(mirror, remembered=mirror_file(artifacts_root, loaded))
    console.print(choice.describe(loaded), markup=False, highlight=False, soft_wrap=True)
    options = _options(artifacts_root, choice, jobs, sources, base_image, cache_root)
    plan = plan_build(loaded, components, options)
    debian_mirror = plan.base.mirror or (options.mirror or loaded.base.snapshot_mirror)
    engine = Engine.connect()
    try:
        results = execute(plan, engine, debian_mirror=debian_mirror)
    finally:
        engine.close()
    show_summary(plan.stack, results)
    failures = [r for r in results if r.status == Status.FAILED]
    if failures:
        first = failures[0]
        if first.error is not None:
            raise first.error
        msg = f"building {first.component} failed"
        raise BuildError(msg, detail=f"log: {first.log_path}")
    remember_mirror(artifacts_root, loaded, choice)
    return results


def show_summary(stack: str, results: Sequence[BuildResult]) -> None:
    """The build summary on stdout: the table on a terminal, else one whole line per component.

    Piped or logged, a table would fold its paths mid-name at 80 columns.
    """
    if out.is_terminal:
        out.print(summary_table(stack, list(results)))
        return
    for r in results:
        files = r.manifest.files if r.manifest else ()
        size = f"{len(files)} files, {sum(f.size for f in files) / 1e6:.1f} MB" if files else "-"
        where = r.out_dir if r.ok else (r.log_path or r.out_dir)
        out.print(
            f"{stack}/{r.component}: {r.status} in {r.duration_s:.1f} s, {size}: {where}",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
