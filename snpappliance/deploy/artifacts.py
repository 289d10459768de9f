"""The built artefacts of a stack, read and verified on this machine before anything moves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from snpappliance.errors import DeployError, InputError
from snpappliance.formats.manifest import MANIFEST_FILE, Manifest, verify


@dataclass(frozen=True)
class LocalComponent:
    """One built component directory (``artifacts/<stack>/<name>/``) and its manifest."""

    name: str
    directory: Path
    manifest: Manifest


def safe_relative_path(path: str) -> bool:
    """True for a plain relative path: no ``..``, no absolute path, no control characters."""
    pure = PurePosixPath(path)
    return (
        bool(path)
        and not pure.is_absolute()
        and ".." not in pure.parts
        and "\\" not in path
        and all(ch.isprintable() for ch in path)
    )


def load_components(artifacts_root: Path, stack: str) -> tuple[LocalComponent, ...]:
    """Every component of ``stack`` that has a ``manifest.json``, checked against it.

    Raises :class:`DeployError` when there is nothing to deploy, when a file does
    not match its manifest (size or SHA-256), or when a manifest names a path
    that could escape the release directory.
    """
    stack_dir = artifacts_root / stack
    if not stack_dir.is_dir():
        msg = f"no artefacts for stack {stack} under {artifacts_root}"
        raise DeployError(
            msg,
            hint=f"build them first: `snpapp build all --stack {stack}`",
        )
    found = []
    for directory in sorted(p for p in stack_dir.iterdir() if (p / MANIFEST_FILE).is_file()):
        try:
            manifest = Manifest.load(directory)
        except InputError as exc:
            raise DeployError(exc.message, hint=exc.hint) from exc
        _check_component(directory, manifest)
        found.append(LocalComponent(directory.name, directory, manifest))
    if not found:
        msg = f"{stack_dir} has no built component (no {MANIFEST_FILE} anywhere)"
        raise DeployError(
            msg,
            hint=f"build them first: `snpapp build all --stack {stack}`",
        )
    return tuple(found)


def _check_component(directory: Path, manifest: Manifest) -> None:
    unsafe = [f.path for f in manifest.files if not safe_relative_path(f.path)]
    if unsafe:
        msg = f"{directory / MANIFEST_FILE} names unsafe paths: {', '.join(map(repr, unsafe))}"
        raise DeployError(
            msg,
            hint="rebuild the component; manifests only list files inside their directory",
        )
    problems = verify(directory, manifest)
    if problems:
        msg = f"refusing to deploy {directory}: its files do not match {MANIFEST_FILE}"
        raise DeployError(
            msg,
            detail="\n".join(problems[:10]),
            hint=f"rebuild it (`snpapp build {directory.name}`); something changed the artefacts",
        )
