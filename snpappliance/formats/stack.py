"""Stacks: coherent sets of pinned component sources, patches and toolchains.

A stack is a TOML lock file, ``stacks/<name>.toml``. It pins every source by a
full 40-hex commit SHA (with the tag or branch it came from) or by a Debian
source package version plus the SHA-256 of its ``.dsc``; every patch by its
SHA-256; and every toolchain (base image snapshot date, compiler packages,
Rust, bindgen). :func:`load_stack` validates a lock once into frozen
dataclasses through the one TOML reader (:mod:`snpappliance.toml`): each key's
check is declared on its dataclass field, and any unknown key or bad value is
named with its TOML path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from snpappliance.errors import ConfigError
from snpappliance.resources import data_dir
from snpappliance.toml import Table, about, read_fields, read_toml

SHA1_RE = re.compile(r"^[0-9a-f]{40}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
SNAPSHOT_RE = re.compile(r"^\d{8}T\d{6}Z$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
PATCH_RE = re.compile(r"^\d{4}-[A-Za-z0-9._-]+\.patch$")


class SourceKind(StrEnum):
    """Where a component's source tree comes from."""

    GIT = "git"
    DEBIAN = "debian"
    NONE = "none"


def _matches(pattern: re.Pattern[str], what: str) -> Callable[[str], str | None]:
    return lambda value: None if pattern.match(value) else f"must be {what}"


_SHA1 = _matches(SHA1_RE, "a full 40-hex commit SHA")
_SHA256 = _matches(SHA256_RE, "a 64-hex SHA-256")


@dataclass(frozen=True)
class GitSource:
    url: str = field(metadata=about("Repository to clone."))
    ref: str = field(metadata=about("The tag or branch the commit came from."))
    commit: str = field(metadata=about("The pinned commit.", check=_SHA1))
    submodules: bool = field(default=False, metadata=about("Whether submodules are cloned."))

    kind = SourceKind.GIT

    @property
    def pin(self) -> str:
        return self.commit


@dataclass(frozen=True)
class DebianSource:
    """A Debian source package: ``dsc`` is its path below the mirror root."""

    package: str = field(metadata=about("Source package name."))
    version: str = field(metadata=about("Source package version."))
    dsc: str = field(metadata=about("Path of the .dsc below the mirror root."))
    dsc_sha256: str = field(metadata=about("SHA-256 of the .dsc.", check=_SHA256))
    suite: str = field(metadata=about("Debian suite the package comes from."))

    kind = SourceKind.DEBIAN

    @property
    def pin(self) -> str:
        return f"{self.package}={self.version} sha256:{self.dsc_sha256}"


@dataclass(frozen=True)
class NoSource:
    """The toolchain image itself produces the artefact (the benchmark guest)."""

    kind = SourceKind.NONE

    @property
    def pin(self) -> str:
        return "none"


Source = GitSource | DebianSource | NoSource
_SOURCES: dict[str, type[Source]] = {
    SourceKind.GIT: GitSource,
    SourceKind.DEBIAN: DebianSource,
    SourceKind.NONE: NoSource,
}


@dataclass(frozen=True)
class PatchPin:
    file: str = field(
        metadata=about("Patch file name.", check=_matches(PATCH_RE, "named NNNN-name.patch"))
    )
    sha256: str = field(metadata=about("SHA-256 of the patch.", check=_SHA256))


@dataclass(frozen=True)
class Component:
    name: str
    recipe: str = field(metadata=about("Dockerfiles/<recipe> builds it (default: its name)."))
    source: Source
    command: str = field(metadata=about("The build command run in the toolchain image."))
    depends: tuple[str, ...] = field(
        default=(), metadata=about("Components whose artefacts this build needs.")
    )
    patches: tuple[PatchPin, ...] = ()
    packages: Mapping[str, str] = field(
        default_factory=dict, metadata=about("Toolchain packages pinned to versions.")
    )
    build_args: Mapping[str, str] = field(
        default_factory=dict, metadata=about("Docker build arguments.")
    )
    description: str = field(default="", metadata=about("What the component is."))


@dataclass(frozen=True)
class BasePin:
    """The Debian release the toolchain images are bootstrapped from."""

    release: str = field(metadata=about("Debian release."))
    snapshot: str = field(
        metadata=about(
            "snapshot.debian.org date.", check=_matches(SNAPSHOT_RE, "a YYYYMMDDTHHMMSSZ date")
        )
    )
    variant: str = field(default="minbase", metadata=about("debootstrap variant."))

    @property
    def snapshot_mirror(self) -> str:
        return f"http://snapshot.debian.org/archive/debian/{self.snapshot}/"


@dataclass(frozen=True)
class _Head:
    """The [stack] table."""

    name: str = field(
        metadata=about("The stack's name.", check=_matches(NAME_RE, "a lower-case name"))
    )
    description: str = field(default="", metadata=about("What the stack is for."))
    patches: str | None = field(
        default=None, metadata=about("Patch directory, relative to the lock file.")
    )
    dockerfiles: str | None = field(
        default=None, metadata=about("Dockerfiles directory, relative to the lock file.")
    )


@dataclass(frozen=True)
class Stack:
    name: str
    description: str
    base: BasePin
    components: Mapping[str, Component]
    path: Path
    patches_root: Path
    dockerfiles_root: Path

    def component(self, name: str) -> Component:
        try:
            return self.components[name]
        except KeyError:
            msg = f"stack {self.name} has no component {name!r}"
            raise ConfigError(
                msg,
                hint=f"its components are: {', '.join(self.components)}",
            ) from None

    def patch_dir(self, component: str) -> Path:
        return self.patches_root / self.name / component

    def dockerfile_dir(self, component: Component) -> Path:
        return self.dockerfiles_root / component.recipe


# ---------------------------------------------------------------- validation

HINT = "fix the stack lock file (see stacks/genoa-2025.toml for the format)"


def _section(table: Table, cls: type[Any], defaults: Mapping[str, Any] | None = None) -> Any:
    value = cls(**read_fields(table, cls, defaults))
    table.finish()
    return value


def _source(table: Table) -> Source:
    kind = table.get("kind")
    if kind not in _SOURCES:
        table.bad("kind", kind, f"one of {', '.join(repr(k.value) for k in SourceKind)}")
    source: Source = _section(table, _SOURCES[kind])
    return source


def _component(name: str, table: Table) -> Component:
    if not NAME_RE.match(name):
        table.fail("", "must be named with lower-case letters, digits, '.', '_' or '-'")
    comp = Component(
        name=name,
        source=_source(table.table("source")),
        patches=tuple(
            _section(t, PatchPin) for t in table.array_of_tables("patches", required=False)
        ),
        **read_fields(table, Component, {"recipe": name, "description": name}),
    )
    table.finish()
    return comp


def _check_depends(stack: Table, components: Mapping[str, Component]) -> None:
    for comp in components.values():
        for dep in comp.depends:
            if dep not in components:
                stack.fail(
                    f"components.{comp.name}.depends",
                    f"component {comp.name} depends on unknown component {dep!r}",
                )
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            stack.fail(f"components.{name}.depends", f"dependency cycle through component {name!r}")
        visiting.add(name)
        for dep in components[name].depends:
            visit(dep)
        visiting.discard(name)
        done.add(name)

    for name in components:
        visit(name)


def parse_stack(data: Mapping[str, Any], path: Path) -> Stack:
    """Validate the parsed TOML of a stack lock into a :class:`Stack`."""
    top = Table(data, str(path), "", hint=HINT)
    head_t = top.table("stack")
    head = _Head(**read_fields(head_t, _Head))
    head_t.finish()
    base = _section(top.table("base"), BasePin)
    comps_t = top.table("components")
    components = {name: _component(name, t) for name, t in comps_t.tables()}
    comps_t.finish()
    if not components:
        comps_t.fail("", "a stack needs at least one component")
    _check_depends(top, components)
    top.finish()
    return Stack(
        name=head.name,
        description=head.description or head.name,
        base=base,
        components=components,
        path=path,
        patches_root=(path.parent / head.patches).resolve()
        if head.patches
        else data_dir("patches"),
        dockerfiles_root=(
            (path.parent / head.dockerfiles).resolve()
            if head.dockerfiles
            else data_dir("Dockerfiles")
        ),
    )


def stack_files() -> dict[str, Path]:
    """The shipped stack locks by name."""
    return {p.stem: p for p in sorted(data_dir("stacks").glob("*.toml"))}


def load_stack(name_or_path: str) -> Stack:
    """Load a shipped stack by name, or a stack lock file by path."""
    shipped = stack_files()
    path = shipped.get(name_or_path) or Path(name_or_path)
    if not path.is_file():
        msg = f"unknown stack {name_or_path!r}"
        raise ConfigError(
            msg,
            hint=f"choose one of {', '.join(shipped)} (see `snpapp stacks`) or give a .toml path",
        )
    return parse_stack(read_toml(path, hint=HINT), path.resolve())


def all_stacks() -> list[Stack]:
    return [load_stack(os.fspath(p)) for p in stack_files().values()]
