"""The build plan: what ``snpapp build`` would do, computed without Docker.

:func:`plan_build` is a pure function of the stack lock, the requested
components and the options (it reads only the repository's Dockerfiles and
patches to hash them). Image tags are content-addressed: the hash of the
Dockerfile directory, the build arguments and the labels (which carry the
pins), so an unchanged toolchain is never rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from snpappliance.errors import ConfigError, UsageError
from snpappliance.formats.manifest import ARTIFACTS_DIR, component_dir
from snpappliance.formats.names import ALL_COMPONENTS
from snpappliance.formats.stack import Component, GitSource, Source, Stack

#: Packages debootstrap adds to the minbase variant.
BASE_INCLUDE = ("ca-certificates",)
ALL = ALL_COMPONENTS


def default_cache_root() -> Path:
    """``$SNPAPP_CACHE`` or ``~/.cache/snpapp``: sources live outside any build context."""
    env = os.environ.get("SNPAPP_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "snpapp"


@dataclass(frozen=True)
class BuildOptions:
    artifacts_root: Path = ARTIFACTS_DIR
    cache_root: Path = field(default_factory=default_cache_root)
    jobs: int = 1
    #: Debian mirror for debootstrap and Debian sources; None: the stack's snapshot.
    mirror: str | None = None
    #: A registry base image pinned by digest, instead of the bootstrapped base.
    base_image: str | None = None
    #: Local source trees by component name (``--source COMPONENT=DIR``).
    sources: Mapping[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Docker bind mounts need absolute paths; a relative one would be taken for
        # a named volume. Anchor every path at the current directory once, here.
        object.__setattr__(self, "artifacts_root", self.artifacts_root.absolute())
        object.__setattr__(self, "cache_root", self.cache_root.absolute())
        object.__setattr__(self, "sources", {k: v.absolute() for k, v in self.sources.items()})


@dataclass(frozen=True)
class BasePlan:
    tag: str
    release: str
    variant: str
    mirror: str
    snapshot: str
    #: True when the mirror is the pinned snapshot (a bit-reproducible bootstrap).
    reproducible: bool
    #: Set when the base comes from a registry instead of debootstrap.
    registry_image: str | None = None

    @property
    def include(self) -> tuple[str, ...]:
        return BASE_INCLUDE

    @property
    def labels(self) -> dict[str, str]:
        return {
            "org.opencontainers.image.title": f"snpapp base: Debian {self.release} "
            f"({self.variant})",
            "org.snpapp.base.release": self.release,
            "org.snpapp.base.variant": self.variant,
            "org.snpapp.base.mirror": self.mirror,
            "org.snpapp.base.snapshot": self.snapshot,
            "org.snpapp.base.reproducible": "true" if self.reproducible else "false",
        }


@dataclass(frozen=True)
class ImagePlan:
    tag: str
    context: Path
    build_args: Mapping[str, str]
    labels: Mapping[str, str]


@dataclass(frozen=True)
class PatchFile:
    path: Path
    sha256: str


@dataclass(frozen=True)
class ComponentPlan:
    name: str
    description: str
    image: ImagePlan
    source: Source
    local_source: Path | None
    patches: tuple[PatchFile, ...]
    command: str
    depends: tuple[str, ...]
    out_dir: Path
    #: What identifies this build, apart from a local tree and the dependencies' manifests.
    key_material: Mapping[str, str]

    @property
    def log_path(self) -> Path:
        return self.out_dir / "build.log"

    @property
    def argv(self) -> tuple[str, ...]:
        return ("bash", "-eo", "pipefail", "-xc", self.command)


@dataclass(frozen=True)
class BuildPlan:
    stack: str
    base: BasePlan
    components: tuple[ComponentPlan, ...]
    jobs: int
    artifacts_root: Path
    cache_root: Path

    def component(self, name: str) -> ComponentPlan:
        return next(c for c in self.components if c.name == name)


def artifacts_dir(stack: str, component: str, root: Path) -> Path:
    """Where ``snpapp build`` publishes ``component`` of ``stack``."""
    return component_dir(root, stack, component)


def _digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()


def _tree_files(directory: Path) -> list[list[str]]:
    if not (directory / "Dockerfile").is_file():
        msg = f"no Dockerfile in {directory}"
        raise ConfigError(
            msg,
            hint="each component's recipe names a directory under Dockerfiles/ with a Dockerfile",
        )
    return [
        [p.relative_to(directory).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest()]
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    ]


def plan_base(stack: Stack, options: BuildOptions) -> BasePlan:
    snapshot_url = stack.base.snapshot_mirror
    if options.base_image is not None:
        if "@sha256:" not in options.base_image:
            msg = f"--base-image {options.base_image} is not pinned by digest"
            raise UsageError(
                msg,
                hint="give it as NAME@sha256:<64 hex>, e.g. debian:bookworm@sha256:…",
            )
        return BasePlan(
            tag=options.base_image, release=stack.base.release, variant="registry",
            mirror="", snapshot="", reproducible=True, registry_image=options.base_image,
        )  # fmt: skip
    mirror = (options.mirror or snapshot_url).rstrip("/") + "/"
    material = [stack.base.release, stack.base.variant, mirror, list(BASE_INCLUDE)]
    return BasePlan(
        tag=f"snpapp-base:{stack.base.release}-{_digest(material)[:16]}",
        release=stack.base.release,
        variant=stack.base.variant,
        mirror=mirror,
        snapshot=stack.base.snapshot,
        reproducible=mirror == snapshot_url,
    )


def _patch_files(stack: Stack, comp: Component) -> tuple[PatchFile, ...]:
    directory = stack.patch_dir(comp.name)
    return tuple(PatchFile(directory / p.file, p.sha256) for p in comp.patches)


def _image_plan(stack: Stack, comp: Component, base: BasePlan) -> ImagePlan:
    context = stack.dockerfile_dir(comp)
    packages = " ".join(f"{name}={version}" for name, version in sorted(comp.packages.items()))
    build_args = {"BASE_IMAGE": base.tag, "PACKAGES": packages, **comp.build_args}
    labels = {
        "org.opencontainers.image.title": f"snpapp {comp.recipe} toolchain",
        "org.opencontainers.image.base.name": base.tag,
        "org.snpapp.stack": stack.name,
        "org.snpapp.component": comp.name,
        "org.snpapp.source": comp.source.pin,
        "org.snpapp.packages": packages,
        "org.snpapp.build-args": json.dumps(dict(comp.build_args), sort_keys=True),
        "org.snpapp.base.mirror": base.mirror or base.tag,
        "org.snpapp.base.reproducible": "true" if base.reproducible else "false",
    }
    content = _digest([_tree_files(context), build_args, labels])
    return ImagePlan(
        tag=f"snpapp-{comp.recipe}:{stack.name}-{content[:16]}",
        context=context,
        build_args=build_args,
        labels=labels,
    )


def _closure(stack: Stack, requested: Sequence[str]) -> list[str]:
    """Requested components plus their dependencies, dependencies first, in stack order."""
    wanted: set[str] = set()

    def add(name: str) -> None:
        if name not in wanted:
            wanted.add(name)
            for dep in stack.component(name).depends:
                add(dep)

    for name in requested:
        if name == ALL:
            wanted.update(stack.components)
        else:
            add(name)
    ordered: list[str] = []
    while len(ordered) < len(wanted):
        for name in stack.components:
            deps_done = all(d in ordered for d in stack.components[name].depends)
            if name in wanted and name not in ordered and deps_done:
                ordered.append(name)
    return ordered


def _component_plan(
    stack: Stack, comp: Component, base: BasePlan, options: BuildOptions
) -> ComponentPlan:
    image = _image_plan(stack, comp, base)
    patches = _patch_files(stack, comp)
    local = options.sources.get(comp.name)
    key = {
        "stack": stack.name,
        "component": comp.name,
        "image": image.tag,
        "source": "local" if local else comp.source.pin,
        "patches": ",".join(f"{p.path.name}:{p.sha256}" for p in patches),
        "command": hashlib.sha256(comp.command.encode("utf-8")).hexdigest(),
    }
    return ComponentPlan(
        name=comp.name,
        description=comp.description,
        image=image,
        source=comp.source,
        local_source=local.resolve() if local else None,
        patches=patches,
        command=comp.command,
        depends=comp.depends,
        out_dir=artifacts_dir(stack.name, comp.name, options.artifacts_root),
        key_material=key,
    )


def plan_build(stack: Stack, components: Sequence[str], options: BuildOptions) -> BuildPlan:
    """Plan building ``components`` (or ``all``) of ``stack``, dependencies included."""
    if options.jobs < 1:
        msg = f"--jobs must be at least 1, got {options.jobs}"
        raise UsageError(msg)
    unknown_sources = sorted(set(options.sources) - set(stack.components))
    if unknown_sources:
        msg = f"--source names unknown component {unknown_sources[0]!r}"
        raise UsageError(
            msg,
            hint=f"components of stack {stack.name}: {', '.join(stack.components)}",
        )
    base = plan_base(stack, options)
    names = _closure(stack, components or [ALL])
    return BuildPlan(
        stack=stack.name,
        base=base,
        components=tuple(_component_plan(stack, stack.components[n], base, options) for n in names),
        jobs=options.jobs,
        artifacts_root=options.artifacts_root,
        cache_root=options.cache_root,
    )


def describe_plan(plan: BuildPlan) -> list[str]:
    """The plan as text lines (``snpapp build --dry-run``)."""
    base = plan.base
    lines = [f"stack {plan.stack}: {len(plan.components)} component(s), --jobs {plan.jobs}"]
    if base.registry_image:
        lines.append(f"base image: {base.tag} (registry)")
    else:
        note = "pinned snapshot" if base.reproducible else "NOT a snapshot: not bit-reproducible"
        lines.append(f"base image: {base.tag} (debootstrap {base.release} from {base.mirror}; "
                     f"{note})")  # fmt: skip
    for comp in plan.components:
        lines.append(f"{comp.name}: {comp.description}")
        lines.append(f"  image:   {comp.image.tag} (from {comp.image.context})")
        lines.append(f"  source:  {_describe_source(comp)}")
        for patch in comp.patches:
            lines.append(f"  patch:   {patch.path} sha256:{patch.sha256}")
        if comp.depends:
            lines.append(f"  needs:   {', '.join(comp.depends)}")
        lines.append(f"  output:  {comp.out_dir}")
        for command_line in comp.command.strip().splitlines():
            lines.append(f"  $ {command_line}")
    return lines


def _describe_source(comp: ComponentPlan) -> str:
    if comp.local_source is not None:
        return f"local tree {comp.local_source}"
    src = comp.source
    if isinstance(src, GitSource):
        return f"git {src.url} {src.ref} @ {src.commit}"
    return src.pin
