"""Patches: ``patches/<stack>/<component>/NNNN-*.patch``, verified and applied in order.

Each patch's SHA-256 must match the stack lock. Patches are applied with
``patch -p1 --fuzz=0`` to a clean copy of the source; every patch is first
tried with ``--dry-run``, so a patch that does not apply fails the build
naming the patch and the file before anything is changed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from snpappliance import proc
from snpappliance.errors import PatchError
from snpappliance.fsutil import sha256_file

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from snpappliance.build.plan import PatchFile

PATCH_ARGS = ("patch", "-p1", "--forward", "--batch", "--fuzz=0")
_FILE_LINE = re.compile(r"^(?:checking|patching) file '?([^'\n]+)'?$")
_MISSING_FILE = re.compile(r"^\|(?:\+\+\+|---) (?:[ab]/)?(\S+)")
_FAILED = ("FAILED", "Reversed (or previously applied)", "No file to patch", "malformed patch")


def verify_patches(patches: Sequence[PatchFile]) -> None:
    """Every patch exists and has the SHA-256 the stack lock pins."""
    for patch in patches:
        if not patch.path.is_file():
            msg = f"patch {patch.path} is missing"
            raise PatchError(
                msg,
                hint="restore it, or remove its entry from the stack lock",
            )
        actual = sha256_file(patch.path)
        if actual != patch.sha256:
            msg = (
                f"patch {patch.path.name} has SHA-256 {actual}, the stack lock pins {patch.sha256}"
            )
            raise PatchError(
                msg,
                hint=f'if the change is intended, record sha256 = "{actual}" for it in the stack',
            )


def failing_files(output: str) -> list[str]:
    """The files a ``patch --dry-run`` output reports as not patchable."""
    failing: list[str] = []
    current: str | None = None
    for line in output.splitlines():
        named = _FILE_LINE.match(line) or _MISSING_FILE.match(line)
        if named:
            current = named.group(1)
        elif current and any(marker in line for marker in _FAILED) and current not in failing:
            failing.append(current)
    return failing


def apply_patches(tree: Path, patches: Sequence[PatchFile], log_file: Path) -> None:
    """Apply ``patches`` in order to ``tree`` (a clean copy of the source)."""
    verify_patches(patches)
    for patch in patches:
        trial = proc.run([*PATCH_ARGS, "--dry-run", "-i", patch.path], cwd=tree,
                         log_file=log_file, check=False)  # fmt: skip
        if not trial.ok:
            output = trial.stdout + trial.stderr
            files = failing_files(output) or ["(unknown file)"]
            msg = f"patch {patch.path.name} does not apply to {', '.join(files)}"
            raise PatchError(
                msg,
                detail=f"{proc.tail(output, 8)}\npatch: {patch.path}\nfull log: {log_file}",
                hint="rebase the patch onto the pinned source (and record its new SHA-256), "
                "or check that the stack pins the source the patch was written for",
            )
        proc.run([*PATCH_ARGS, "-i", patch.path], cwd=tree, log_file=log_file)
