"""``release.json``: the roles inside one deployed release, shared by ``deploy`` and ``doctor``.

The directory layout itself (``<prefix>/releases/<stack>-<hash>/``, ``current``,
``previous``) is described once, in :mod:`snpappliance.release_layout`.
``release.json`` names the roles doctor and the campaign need: the QEMU binary,
the unified OVMF.fd, the SVSM files, the host kernel and the benchmark guest.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from snpappliance.errors import InputError
from snpappliance.release_layout import RELEASE_JSON

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
    #: The benchmark guest's directory (None: the stack's guest was not built).
    guest: str | None = None
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
                guest=raw.get("guest"),
                format_version=int(raw.get("format_version", FORMAT_VERSION)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(
                f"{RELEASE_JSON} is not a valid snpapp release description: {exc}",
                hint="deploy the release again with `snpapp deploy --force`",
            ) from exc
