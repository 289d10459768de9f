"""Building one component: toolchain image, source, patches, container run, artefacts.

The artefact directory is assembled in a staging directory and published
atomically (:func:`snpappliance.fsutil.staged_dir`), with ``manifest.json``
and ``build.log``. A component whose manifest records the same build key
(image tag, source pin or local tree digest, patch hashes, command,
dependencies' manifests) and whose files still match is not built again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance.build import patches, sources
from snpappliance.build.docker_engine import Engine, Mount, Progress
from snpappliance.build.plan import BasePlan, ComponentPlan
from snpappliance.errors import BuildError, InputError, SnpappError
from snpappliance.formats.manifest import MANIFEST_FILE, Manifest, describe_files, verify
from snpappliance.formats.stack import DebianSource, GitSource
from snpappliance.fsutil import staged_dir

if TYPE_CHECKING:
    from collections.abc import Mapping

LOG_FILE = "build.log"
META_DIR = ".snpapp-meta"
#: Runs before the component's command: records the toolchain the build used.
TOOLCHAIN_PROBE = f"""\
mkdir -p /build/{META_DIR}
dpkg-query -W -f='${{Package}}=${{Version}}\\n' > /build/{META_DIR}/packages 2>/dev/null || true
for t in gcc rustc cargo bindgen; do
  command -v "$t" >/dev/null && echo "$t=$("$t" --version 2>/dev/null | head -n1)"
done > /build/{META_DIR}/tools || true
set -eo pipefail -x
"""


class Status(StrEnum):
    BUILT = "built"
    CACHED = "up to date"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class BuildResult:
    component: str
    status: Status
    out_dir: Path
    duration_s: float = 0.0
    manifest: Manifest | None = None
    error: SnpappError | None = None
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status in (Status.BUILT, Status.CACHED)


@dataclass(frozen=True)
class BuildContext:
    stack: str
    engine: Engine
    base: BasePlan
    base_id: str
    cache_root: Path
    debian_mirror: str
    jobs_per_build: int
    #: Phase changes ("fetching …", "running …"), shown at once.
    announce: Progress
    #: Build output lines, shown as a throttled heartbeat.
    output: Progress


def build_key(comp: ComponentPlan, local_digest: str | None, deps: Mapping[str, Manifest]) -> str:
    material = {
        **comp.key_material,
        "local_tree": local_digest or "",
        "deps": {name: m.digest for name, m in sorted(deps.items())},
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def cached_manifest(out_dir: Path, key: str) -> Manifest | None:
    """The manifest of a complete, intact build with ``key`` in ``out_dir``, else None."""
    if not (out_dir / MANIFEST_FILE).is_file():
        return None
    try:
        manifest = Manifest.load(out_dir)
    except InputError:
        return None
    if manifest.source.get("build_key") != key or verify(out_dir, manifest):
        return None
    return manifest


def build_component(
    comp: ComponentPlan, ctx: BuildContext, deps: Mapping[str, Manifest]
) -> BuildResult:
    """Build ``comp`` unless an identical build is already published."""
    start = time.monotonic()
    local_digest = sources.local_tree_digest(comp.local_source) if comp.local_source else None
    key = build_key(comp, local_digest, deps)
    cached = cached_manifest(comp.out_dir, key)
    if cached is not None:
        return BuildResult(comp.name, Status.CACHED, comp.out_dir, time.monotonic() - start,
                           cached, log_path=comp.log_path)  # fmt: skip
    live_log = _live_log_path(comp)
    try:
        manifest = _build(comp, ctx, key, local_digest, live_log)
    except SnpappError as exc:
        return BuildResult(comp.name, Status.FAILED, comp.out_dir, time.monotonic() - start,
                           error=exc, log_path=live_log)  # fmt: skip
    return BuildResult(comp.name, Status.BUILT, comp.out_dir, time.monotonic() - start,
                       manifest, log_path=comp.log_path)  # fmt: skip


def _live_log_path(comp: ComponentPlan) -> Path:
    """Where the log is written while building (and kept after a failure).

    ``<component>/build.log``, unless that directory holds a complete earlier
    build, which a failed attempt must not touch: then ``<component>.last-attempt.log``.
    """
    if (comp.out_dir / MANIFEST_FILE).is_file():
        return comp.out_dir.parent / f"{comp.name}.last-attempt.log"
    return comp.log_path


def _work_dirs(ctx: BuildContext, comp: ComponentPlan) -> tuple[Path, Path]:
    work = ctx.cache_root / "work" / ctx.stack / comp.name
    scratch = work / "build"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    return work / "src", scratch


def _build(comp: ComponentPlan, ctx: BuildContext, key: str, local_digest: str | None,
           log_file: Path) -> Manifest:  # fmt: skip
    started = datetime.now(UTC).isoformat(timespec="seconds")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text(f"# snpapp build {ctx.stack}/{comp.name} started {started}\n")
    with staged_dir(comp.out_dir) as stage:
        tree, scratch = _work_dirs(ctx, comp)
        src_tree = _prepare_source(comp, ctx, tree, log_file)
        image_id = _ensure_image(comp, ctx, log_file)
        _run(comp, ctx, src_tree, scratch, stage, log_file)
        manifest = _manifest(comp, ctx, stage, scratch, image_id, key, local_digest, started)
        shutil.copyfile(log_file, stage / LOG_FILE)
        _make_readable(stage)
    if log_file != comp.log_path:
        log_file.unlink(missing_ok=True)
    # Object files can take gigabytes; the source copy stays so the next rsync is quick.
    shutil.rmtree(scratch, ignore_errors=True)
    return manifest


def _make_readable(stage: Path) -> None:
    """Artefacts are for others to deploy and verify: world-readable, like an install tree."""
    stage.chmod(0o755)
    for path in stage.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o444)


def _ensure_image(comp: ComponentPlan, ctx: BuildContext, log_file: Path) -> str:
    existing = ctx.engine.image_id(comp.image.tag)
    if existing is not None:
        return existing
    ctx.announce(f"{comp.name}: building toolchain image {comp.image.tag}")
    return ctx.engine.build_image(
        comp.image.context,
        comp.image.tag,
        build_args=comp.image.build_args,
        labels=comp.image.labels,
        log_file=log_file,
        progress=lambda line: ctx.output(f"{comp.name}: {line}"),
    )


def _prepare_source(comp: ComponentPlan, ctx: BuildContext, tree: Path,
                    log_file: Path) -> Path | None:  # fmt: skip
    src = comp.source
    if comp.local_source is not None:
        pristine = comp.local_source
    elif isinstance(src, GitSource):
        ctx.announce(f"{comp.name}: fetching {src.url} @ {src.commit[:12]}")
        pristine = sources.fetch_git(src, comp.name, ctx.cache_root, log_file)
    elif isinstance(src, DebianSource):
        ctx.announce(f"{comp.name}: fetching Debian source {src.package} {src.version}")
        pristine = sources.fetch_debian(src, comp.name, ctx.debian_mirror, ctx.cache_root,
                                        log_file)  # fmt: skip
    else:
        return None
    sources.work_copy(pristine, tree, log_file)
    patches.apply_patches(tree, comp.patches, log_file)
    return tree


def _run(comp: ComponentPlan, ctx: BuildContext, src_tree: Path | None, scratch: Path,
         stage: Path, log_file: Path) -> None:  # fmt: skip
    mounts = [Mount(scratch, "/build"), Mount(stage, "/out")]
    if src_tree is not None:
        mounts.append(Mount(src_tree, "/src"))
    mounts += [Mount(comp.out_dir.parent / dep, f"/deps/{dep}", read_only=True)
               for dep in comp.depends]  # fmt: skip
    env = {"SRC": "/src", "OUT": "/out", "BUILD": "/build", "DEPS": "/deps",
           "JOBS": str(ctx.jobs_per_build), "HOME": "/build"}  # fmt: skip
    epoch = sources.source_date_epoch(src_tree) if src_tree is not None else None
    if epoch:
        env["SOURCE_DATE_EPOCH"] = epoch
    ctx.announce(f"{comp.name}: running the build in {comp.image.tag}")
    result = ctx.engine.run(
        comp.image.tag,
        ["bash", "-c", TOOLCHAIN_PROBE + comp.command],
        log_file=log_file,
        mounts=mounts,
        env=env,
        name_prefix=f"snpapp-{ctx.stack}-{comp.name}",
        workdir="/src" if src_tree is not None else "/",
        user=None if os.geteuid() == 0 else f"{os.getuid()}:{os.getgid()}",
        progress=lambda line: ctx.output(f"{comp.name}: {line}"),
    )
    if result.exit_code != 0:
        msg = (
            f"building {comp.name} failed: the build command exited with status {result.exit_code}"
        )
        raise BuildError(
            msg,
            detail=f"{result.output_tail}\nfull log: {log_file}",
            hint="read the log; rerun with SNPAPP_KEEP_CONTAINER=1 to keep the container",
        )


def _toolchain(ctx: BuildContext, comp: ComponentPlan, scratch: Path) -> dict[str, str]:
    toolchain = {
        "image": comp.image.tag,
        "base_image": ctx.base.tag,
        "base_image_id": ctx.base_id,
        "base_mirror": ctx.base.mirror or ctx.base.tag,
        "base_reproducible": "true" if ctx.base.reproducible else "false",
        "pinned_packages": comp.image.build_args.get("PACKAGES", ""),
    }
    for name in ("tools", "packages"):
        path = scratch / META_DIR / name
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                pkg, sep, version = line.partition("=")
                if sep:
                    toolchain[pkg if name == "tools" else f"deb:{pkg}"] = version
    return toolchain


def _source_record(comp: ComponentPlan, key: str, local_digest: str | None) -> dict[str, str]:
    record = {"build_key": key, "kind": str(comp.source.kind)}
    src = comp.source
    if comp.local_source is not None:
        record.update(kind="local", path=os.fspath(comp.local_source), tree=local_digest or "")
    elif isinstance(src, GitSource):
        record.update(url=src.url, ref=src.ref, commit=src.commit)
    elif isinstance(src, DebianSource):
        record.update(package=src.package, version=src.version, dsc=src.dsc,
                      dsc_sha256=src.dsc_sha256)  # fmt: skip
    return record


def _manifest(comp: ComponentPlan, ctx: BuildContext, stage: Path, scratch: Path, image_id: str,
              key: str, local_digest: str | None, started: str) -> Manifest:  # fmt: skip
    names = sorted(
        p.relative_to(stage).as_posix()
        for p in stage.rglob("*")
        if p.is_file() and p.name not in (LOG_FILE, MANIFEST_FILE)
    )
    if not names:
        msg = f"building {comp.name} produced no files in /out"
        raise BuildError(
            msg,
            detail=f"full log: {_live_log_path(comp)}",
            hint="the component's command in the stack lock must copy its artefacts to $OUT",
        )
    manifest = Manifest(
        stack=ctx.stack,
        component=comp.name,
        files=describe_files(stage, names),
        image_id=image_id,
        source=_source_record(comp, key, local_digest),
        patches=tuple({"file": p.path.name, "sha256": p.sha256} for p in comp.patches),
        toolchain=_toolchain(ctx, comp, scratch),
        build_started=started,
        build_finished=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    manifest.save(stage)
    return manifest
