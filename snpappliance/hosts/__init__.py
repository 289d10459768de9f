"""One host interface for running commands and moving files, locally or over SSH.

The campaign runner, ``deploy`` and ``doctor`` talk to a :class:`Host` and never
care which transport is behind it. Arguments are always passed as argv lists;
implementations that go through a shell quote every one of them.
"""

from pathlib import Path

from snpappliance.hosts.base import Host
from snpappliance.hosts.local import LocalHost
from snpappliance.hosts.ssh import SshHost

__all__ = ["Host", "LocalHost", "SshHost", "connect"]

#: The name that means "this machine" wherever a host is expected.
LOCAL = "local"


def connect(name: str, *, ssh_config: Path | None = None, bwlimit_kib: int | None = None) -> Host:
    """The host called ``name``: this machine for ``local``, else an SSH destination.

    ``ssh_config`` (or ``$SNPAPP_SSH_CONFIG``) selects another ssh client config;
    ``bwlimit_kib`` caps uploads and downloads (KiB/s) over SSH.
    """
    if name == LOCAL:
        return LocalHost()
    return SshHost.connect(name, ssh_config=ssh_config, bwlimit_kib=bwlimit_kib)
