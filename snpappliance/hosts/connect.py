"""A host by name: ``local`` is this machine, any other name an SSH destination."""

from __future__ import annotations

from typing import TYPE_CHECKING

from snpappliance.hosts.local import LocalHost

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.hosts.base import Host

#: The name that means "this machine" wherever a host is expected.
LOCAL = "local"


def connect(name: str, *, ssh_config: Path | None = None, bwlimit_kib: int | None = None) -> Host:
    """The host called ``name``: this machine for ``local``, else an SSH destination.

    ``ssh_config`` (or ``$SNPAPP_SSH_CONFIG``) selects another ssh client config;
    ``bwlimit_kib`` caps uploads and downloads (KiB/s) over SSH.
    """
    if name == LOCAL:
        return LocalHost()
    from snpappliance.hosts.ssh import SshHost  # tenacity and the ssh client only when needed

    return SshHost.connect(name, ssh_config=ssh_config, bwlimit_kib=bwlimit_kib)
