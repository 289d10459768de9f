"""Built artefacts: where they live, and ``manifest.json``, what a component directory
contains and how it was made (the build → deploy hand-off).

``snpapp build`` writes one per component (``artifacts/<stack>/<component>/``);
``deploy`` verifies every file against it after transfer and the campaign
records the manifests' hashes in ``environment.json``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from snpappliance.errors import InputError
from snpappliance.fsutil import atomic_write_text, sha256_file

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1
#: Where built artefacts go unless ``--artifacts`` names another root.
ARTIFACTS_DIR = Path("artifacts")


def component_dir(root: Path, stack: str, component: str) -> Path:
    """Where ``snpapp build`` publishes ``component`` of ``stack``: ``root/stack/component``."""
    return root / stack / component


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    stack: str
    component: str
    files: tuple[FileEntry, ...]
    image_id: str = ""
    source: Mapping[str, Any] = field(default_factory=dict)
    patches: tuple[Mapping[str, str], ...] = ()
    toolchain: Mapping[str, str] = field(default_factory=dict)
    build_started: str = ""
    build_finished: str = ""
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        data["files"] = [asdict(f) for f in self.files]
        data["patches"] = [dict(p) for p in self.patches]
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON: one value that names this exact build."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def save(self, directory: Path) -> Path:
        path = directory / MANIFEST_FILE
        atomic_write_text(path, self.to_json())
        return path

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                stack=raw["stack"],
                component=raw["component"],
                files=tuple(FileEntry(**f) for f in raw["files"]),
                image_id=raw.get("image_id", ""),
                source=raw.get("source", {}),
                patches=tuple(raw.get("patches", ())),
                toolchain=raw.get("toolchain", {}),
                build_started=raw.get("build_started", ""),
                build_finished=raw.get("build_finished", ""),
                format_version=int(raw.get("format_version", FORMAT_VERSION)),
            )
        except FileNotFoundError as exc:
            msg = f"{directory} has no {MANIFEST_FILE}: it is not a complete build"
            raise InputError(
                msg,
                hint="build it with `snpapp build <component>`",
            ) from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            msg = f"{path} is not a valid snpapp manifest: {exc}"
            raise InputError(msg) from exc


def describe_files(directory: Path, names: Sequence[str] | None = None) -> tuple[FileEntry, ...]:
    """File entries (size, SHA-256) for ``names``, or every regular file below ``directory``."""
    if names is None:
        paths = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)
    else:
        paths = [directory / n for n in names]
    return tuple(
        FileEntry(path=p.relative_to(directory).as_posix(), size=p.stat().st_size,
                  sha256=sha256_file(p))
        for p in paths
    )  # fmt: skip


def verify(directory: Path, manifest: Manifest) -> list[str]:
    """Problems found checking ``directory`` against ``manifest`` (empty: all good)."""
    problems = []
    for entry in manifest.files:
        path = directory / entry.path
        if not path.is_file():
            problems.append(f"{entry.path}: missing")
        elif path.stat().st_size != entry.size:
            problems.append(f"{entry.path}: size {path.stat().st_size}, expected {entry.size}")
        elif sha256_file(path) != entry.sha256:
            problems.append(f"{entry.path}: SHA-256 mismatch")
    return problems
