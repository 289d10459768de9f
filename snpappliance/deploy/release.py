"""What a deployed release looks like on a host, shared by ``deploy`` and ``doctor``.

A release lives in ``<prefix>/releases/<stack>-<hash>/``: one directory per
built component (with its ``manifest.json``), ``SHA256SUMS`` over every file
and ``release.json`` naming the roles doctor and the campaign need (the QEMU
binary, the unified OVMF.fd, the SVSM files, the host kernel). ``<prefix>/current``
points at the release in use and ``<prefix>/previous`` at the one before it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from snpappliance.errors import InputError

DEFAULT_PREFIX = "/opt/snpapp"
RELEASES_DIR = "releases"
CURRENT_LINK = "current"
PREVIOUS_LINK = "previous"
RELEASE_JSON = "release.json"
SUMS_FILE = "SHA256SUMS"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ReleaseInfo:
    """``release.json``: the roles inside one release (paths relative to the release)."""

    name: str
    stack: str
    components: dict[str, str]
    kernel_release: str | None
    kernel_packages: tuple[str, ...]
    qemu: str | None
    ovmf: str | None
    svsm: tuple[str, ...]
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        data["kernel_packages"] = list(self.kernel_packages)
        data["svsm"] = list(self.svsm)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ReleaseInfo:
        try:
            raw: dict[str, Any] = json.loads(text)
            return cls(
                name=str(raw["name"]),
                stack=str(raw["stack"]),
                components={str(k): str(v) for k, v in raw["components"].items()},
                kernel_release=raw.get("kernel_release"),
                kernel_packages=tuple(raw.get("kernel_packages", ())),
                qemu=raw.get("qemu"),
                ovmf=raw.get("ovmf"),
                svsm=tuple(raw.get("svsm", ())),
                format_version=int(raw.get("format_version", FORMAT_VERSION)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(
                f"{RELEASE_JSON} is not a valid snpapp release description: {exc}",
                hint="deploy the release again with `snpapp deploy --force`",
            ) from exc


def releases_dir(prefix: str) -> str:
    return f"{prefix.rstrip('/')}/{RELEASES_DIR}"


def release_dir(prefix: str, name: str) -> str:
    return f"{releases_dir(prefix)}/{name}"


def link_path(prefix: str, link: str) -> str:
    return f"{prefix.rstrip('/')}/{link}"
