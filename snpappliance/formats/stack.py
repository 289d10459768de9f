"""Stacks: coherent sets of pinned component sources, patches and toolchains.

A stack is a TOML lock file, ``stacks/<name>.toml``. It pins every source by a
full 40-hex commit SHA (with the tag or branch it came from) or by a Debian
source package version plus the SHA-256 of its ``.dsc``; every patch by its
SHA-256; and every toolchain (base image snapshot date, compiler packages,
Rust, bindgen). :func:`load_stack` validates a lock once into frozen
dataclasses and names any unknown key or bad value.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from snpappliance.errors import ConfigError
from snpappliance.resources import data_dir

DEFAULT_STACK = "genoa-2025"
SHA1_RE = re.compile(r"^[0-9a-f]{40}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
SNAPSHOT_RE = re.compile(r"^\d{8}T\d{6}Z$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
PATCH_RE = re.compile(r"^\d{4}-[A-Za-z0-9._-]+\.patch$")


class SourceKind(StrEnum):
    """Where a component's source tree comes from."""

    GIT = "git"
    DEBIAN = "debian"
    NONE = "none"


@dataclass(frozen=True)
class GitSource:
    url: str
    ref: str
    commit: str
    submodules: bool = False

    kind = SourceKind.GIT

    @property
    def pin(self) -> str:
        return self.commit


@dataclass(frozen=True)
class DebianSource:
    """A Debian source package: ``dsc`` is its path below the mirror root."""

    package: str
    version: str
    dsc: str
    dsc_sha256: str
    suite: str

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


@dataclass(frozen=True)
class PatchPin:
    file: str
    sha256: str


@dataclass(frozen=True)
class Component:
    name: str
    recipe: str
    source: Source
    command: str
    depends: tuple[str, ...] = ()
    patches: tuple[PatchPin, ...] = ()
    packages: Mapping[str, str] = field(default_factory=dict)
    build_args: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class BasePin:
    """The Debian release the toolchain images are bootstrapped from."""

    release: str
    snapshot: str
    variant: str = "minbase"

    @property
    def snapshot_mirror(self) -> str:
        return f"http://snapshot.debian.org/archive/debian/{self.snapshot}/"


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
            raise ConfigError(
                f"stack {self.name} has no component {name!r}",
                hint=f"its components are: {', '.join(self.components)}",
            ) from None

    def patch_dir(self, component: str) -> Path:
        return self.patches_root / self.name / component

    def dockerfile_dir(self, component: Component) -> Path:
        return self.dockerfiles_root / component.recipe


# ---------------------------------------------------------------- validation


class _Table:
    """A TOML table that tracks which keys were read, to name unknown ones."""

    def __init__(self, data: Mapping[str, Any], where: str, origin: Path) -> None:
        self.data = data
        self.where = where
        self.origin = origin
        self.seen: set[str] = set()

    def error(self, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(
            f"{self.origin}: {self.where}: {message}",
            hint=hint or "fix the stack lock file (see stacks/genoa-2025.toml for the format)",
        )

    def text(self, key: str, default: str | None = None, pattern: re.Pattern[str] | None = None,
            what: str = "") -> str:  # fmt: skip
        self.seen.add(key)
        value = self.data.get(key, default)
        if value is None:
            raise self.error(f"missing required key {key!r}")
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{key} must be a non-empty string, got {value!r}")
        if pattern is not None and not pattern.match(value):
            raise self.error(f"{key} = {value!r} is not {what or pattern.pattern}")
        return value

    def opt_str(self, key: str) -> str | None:
        self.seen.add(key)
        return self.text(key) if key in self.data else None

    def flag(self, key: str, default: bool) -> bool:
        self.seen.add(key)
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"{key} must be true or false, got {value!r}")
        return value

    def table(self, key: str, required: bool = True) -> _Table:
        self.seen.add(key)
        value = self.data.get(key)
        if value is None and not required:
            value = {}
        if not isinstance(value, dict):
            raise self.error(
                f"missing table [{key}]" if value is None else f"{key} must be a table"
            )
        return _Table(value, f"{self.where}.{key}" if self.where else key, self.origin)

    def str_map(self, key: str) -> dict[str, str]:
        sub = self.table(key, required=False)
        for k, v in sub.data.items():
            if not isinstance(v, str) or not v.strip():
                raise sub.error(f"{k} must be a non-empty version string, got {v!r}")
        return dict(sub.data)

    def str_list(self, key: str) -> tuple[str, ...]:
        self.seen.add(key)
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{key} must be a list of strings, got {value!r}")
        return tuple(value)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise self.error(
                f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
            )


def _source(table: _Table) -> Source:
    kind = table.text("kind")
    if kind == SourceKind.GIT:
        src: Source = GitSource(
            url=table.text("url"),
            ref=table.text("ref"),
            commit=table.text("commit", pattern=SHA1_RE, what="a full 40-hex commit SHA"),
            submodules=table.flag("submodules", False),
        )
    elif kind == SourceKind.DEBIAN:
        src = DebianSource(
            package=table.text("package"),
            version=table.text("version"),
            dsc=table.text("dsc"),
            dsc_sha256=table.text("dsc_sha256", pattern=SHA256_RE, what="a 64-hex SHA-256"),
            suite=table.text("suite"),
        )
    elif kind == SourceKind.NONE:
        src = NoSource()
    else:
        raise table.error(f"kind = {kind!r} is not one of {', '.join(k.value for k in SourceKind)}")
    table.finish()
    return src


def _patches(table: _Table) -> tuple[PatchPin, ...]:
    table.seen.add("patches")
    raw = table.data.get("patches", [])
    if not isinstance(raw, list):
        raise table.error("patches must be an array of tables ([[components.X.patches]])")
    pins = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise table.error(f"patches[{i}] must be a table")
        sub = _Table(entry, f"{table.where}.patches[{i}]", table.origin)
        pins.append(
            PatchPin(
                file=sub.text("file", pattern=PATCH_RE, what="named NNNN-name.patch"),
                sha256=sub.text("sha256", pattern=SHA256_RE, what="a 64-hex SHA-256"),
            )
        )
        sub.finish()
    return tuple(pins)


def _component(name: str, table: _Table) -> Component:
    if not NAME_RE.match(name):
        raise table.error(f"component name {name!r} must be lower-case letters, digits, . _ -")
    comp = Component(
        name=name,
        recipe=table.text("recipe", default=name),
        source=_source(table.table("source")),
        command=table.text("command"),
        depends=table.str_list("depends"),
        patches=_patches(table),
        packages=table.str_map("packages"),
        build_args=table.str_map("build_args"),
        description=table.text("description", default=name),
    )
    table.finish()
    return comp


def _check_depends(stack: _Table, components: Mapping[str, Component]) -> None:
    for comp in components.values():
        for dep in comp.depends:
            if dep not in components:
                raise stack.error(f"component {comp.name} depends on unknown component {dep!r}")
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise stack.error(f"dependency cycle through component {name!r}")
        visiting.add(name)
        for dep in components[name].depends:
            visit(dep)
        visiting.discard(name)
        done.add(name)

    for name in components:
        visit(name)


def parse_stack(data: Mapping[str, Any], path: Path) -> Stack:
    """Validate the parsed TOML of a stack lock into a :class:`Stack`."""
    top = _Table(data, "", path)
    head = top.table("stack")
    name = head.text("name", pattern=NAME_RE, what="a lower-case name")
    description = head.text("description", default=name)
    patches = head.opt_str("patches")
    dockerfiles = head.opt_str("dockerfiles")
    head.finish()
    base_t = top.table("base")
    base = BasePin(
        release=base_t.text("release"),
        snapshot=base_t.text("snapshot", pattern=SNAPSHOT_RE, what="a YYYYMMDDTHHMMSSZ date"),
        variant=base_t.text("variant", default="minbase"),
    )
    base_t.finish()
    comps_t = top.table("components")
    components: dict[str, Component] = {}
    for comp_name in list(comps_t.data):
        components[comp_name] = _component(comp_name, comps_t.table(comp_name))
    comps_t.finish()
    if not components:
        raise top.error("a stack needs at least one component")
    _check_depends(top, components)
    top.finish()
    return Stack(
        name=name,
        description=description,
        base=base,
        components=components,
        path=path,
        patches_root=(path.parent / patches).resolve() if patches else data_dir("patches"),
        dockerfiles_root=(
            (path.parent / dockerfiles).resolve() if dockerfiles else data_dir("Dockerfiles")
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
        raise ConfigError(
            f"unknown stack {name_or_path!r}",
            hint=f"choose one of {', '.join(shipped)} (see `snpapp stacks`) or give a .toml path",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read stack lock {path}: {exc}") from exc
    return parse_stack(data, path.resolve())


def all_stacks() -> list[Stack]:
    return [load_stack(os.fspath(p)) for p in stack_files().values()]
