"""Built-in campaign profiles: spec files shipped inside the package.

``local`` (the default) runs the minimal guest under QEMU TCG anywhere;
``genoa`` is the case study's SNP off/on design for an EPYC Genoa host. A
profile file holds values only, below a comment block that describes it;
``snpapp campaign init`` adds every key's help from the spec's field table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from snpappliance.errors import ConfigError
from snpappliance.resources import package_file

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_PROFILE = "local"


def profile_names() -> list[str]:
    """Names of the built-in profiles."""
    return sorted(p.stem for p in package_file("campaign", "profiles").glob("*.toml"))


def profile_path(name: str) -> Path:
    """The spec file of built-in profile ``name``."""
    if name not in profile_names():
        msg = f"there is no built-in profile {name!r}"
        raise ConfigError(
            msg,
            hint=f"choose one of {', '.join(profile_names())}, or pass your own with --spec FILE",
        )
    return package_file("campaign", "profiles", f"{name}.toml")


def profile_header(path: Path) -> list[str]:
    """The comment block that opens a profile file (what the profile is for)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    return header
