"""``snpapp doctor --collect OUT.tar.gz``: a host's doctor facts in one bundle to send along.

The bundle holds exactly the text a live ``snpapp doctor`` reads (the gather
script's sections and the release QEMU's ``--version``), headed by the host's
name, so ``snpapp doctor --from OUT.tar.gz`` reaches the same verdict.
"""

from __future__ import annotations

import io
import tarfile
import time
from typing import TYPE_CHECKING

from snpappliance.doctor.facts import MARK, gather_text
from snpappliance.fsutil import atomic_write_bytes

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.hosts.base import Host

MEMBER = "snpapp-doctor.txt"


def bundle_bytes(host_name: str, text: str) -> bytes:
    """A gzip'd tar with one member: the host's name as a section, then ``text`` (pure)."""
    body = f"{MARK}collected_from\n{host_name}\n{text}".encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo(MEMBER)
        info.size = len(body)
        info.mtime = int(time.time())
        info.mode = 0o600
        tar.addfile(info, io.BytesIO(body))
    return out.getvalue()


def collect(host: Host, prefix: str, out: Path) -> Path:
    """Gather ``host``'s facts and write them to the bundle ``out`` (atomically, mode 0600)."""
    atomic_write_bytes(out, bundle_bytes(host.name, gather_text(host, prefix)), mode=0o600)
    return out
