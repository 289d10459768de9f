"""One host interface for running commands and moving files, locally or over SSH.

The campaign runner, ``deploy`` and ``doctor`` talk to a :class:`Host` and never
care which transport is behind it. Arguments are always passed as argv lists;
implementations that go through a shell quote every one of them.
"""

from snpappliance.hosts.base import Host
from snpappliance.hosts.local import LocalHost

__all__ = ["Host", "LocalHost"]
