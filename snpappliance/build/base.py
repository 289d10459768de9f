"""``snpapp build base``: Debian bootstrapped with debootstrap and imported into Docker.

No registry is needed: debootstrap (``--variant=minbase``) installs the
stack's Debian release from the pinned snapshot.debian.org date (or from the
mirror given with ``--mirror`` / ``SNPAPP_DEBIAN_MIRROR``) into a temporary
directory, which is imported as ``snpapp-base:<release>-<hash>``. The image's
labels record the mirror and whether it was the pinned snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import docker.errors
import requests.exceptions

from snpappliance import proc
from snpappliance.errors import BuildError, DockerError, SourceError

if TYPE_CHECKING:
    from snpappliance.build.docker_engine import Engine
    from snpappliance.build.plan import BasePlan

MIRROR_ENV = "SNPAPP_DEBIAN_MIRROR"
SNAPSHOT_APT_CONF = 'Acquire::Check-Valid-Until "false";\n'


def offline_options(url: str) -> str:
    return (
        f"{url} cannot be reached from here. Offline options: a reachable Debian mirror "
        f"with --mirror URL or {MIRROR_ENV}=URL (e.g. http://deb.debian.org/debian or a "
        "local apt cache; the labels and manifests then record that the base is not "
        "bit-reproducible), or a registry base pinned by digest with --base-image"
    )


def check_mirror(mirror: str, release: str, timeout_s: float = 20.0) -> None:
    """Raise :class:`SourceError` unless ``mirror`` serves ``dists/<release>/Release``."""
    url = f"{mirror.rstrip('/')}/dists/{release}/Release"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout_s):
            return
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        msg = f"the Debian mirror {mirror} is unreachable ({reason})"
        raise SourceError(
            msg,
            hint=offline_options(url),
        ) from exc


def ensure_base(base: BasePlan, engine: Engine, *, work_root: Path, log_file: Path) -> str:
    """The id of the base image, bootstrapping and importing it if the engine lacks it."""
    existing = engine.image_id(base.tag)
    if existing is not None:
        return existing
    if base.registry_image is not None:
        return _pull(base.registry_image, engine)
    return bootstrap(base, engine, work_root=work_root, log_file=log_file)


def _pull(ref: str, engine: Engine) -> str:
    try:
        image = engine.client.images.pull(ref)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        msg = f"cannot pull base image {ref}: {exc}"
        raise DockerError(
            msg,
            hint="no registry reachable? build a local base with `snpapp build base` "
            "and drop --base-image",
        ) from exc
    return str(image.id)


def bootstrap(base: BasePlan, engine: Engine, *, work_root: Path, log_file: Path) -> str:
    """debootstrap ``base`` into a temporary directory and import it into Docker."""
    debootstrap = proc.which(
        "debootstrap", hint="install debootstrap (apt-get install debootstrap) to build the base"
    )
    if os.geteuid() != 0:
        msg = "debootstrap needs root to create the base image's file system"
        raise BuildError(
            msg,
            hint="run `snpapp build base` as root (e.g. sudo), or use --base-image",
        )
    check_mirror(base.mirror, base.release)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    work_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="base-", dir=work_root))
    try:
        rootfs = scratch / "rootfs"
        proc.run(
            [debootstrap, f"--variant={base.variant}", f"--include={','.join(base.include)}",
             base.release, rootfs, base.mirror],
            log_file=log_file,
            hint=f"see {log_file}; is {base.mirror} a Debian mirror serving {base.release}?",
        )  # fmt: skip
        _tidy_rootfs(rootfs, snapshot=base.reproducible)
        tarball = scratch / "rootfs.tar"
        proc.run(
            ["tar", "-C", rootfs, "--numeric-owner", "--sort=name", "-cf", tarball, "."],
            log_file=log_file,
        )
        changes = [f"LABEL {k}={json.dumps(v)}" for k, v in sorted(base.labels.items())]
        changes += ['CMD ["/bin/bash"]', "ENV LANG=C.UTF-8", "ENV DEBIAN_FRONTEND=noninteractive"]
        return engine.import_rootfs(tarball, base.tag, changes=changes)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _tidy_rootfs(rootfs: Path, *, snapshot: bool) -> None:
    """Drop downloaded packages and indices; let apt accept an old snapshot's Release."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*"):
        for path in rootfs.glob(pattern):
            path.unlink()
    if snapshot:
        (rootfs / "etc/apt/apt.conf.d/99snpapp-snapshot").write_text(SNAPSHOT_APT_CONF)
