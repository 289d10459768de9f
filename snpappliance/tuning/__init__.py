"""Noise control: what a host's CPU, memory and kernel settings are, and ``snpapp host tune``.

:mod:`.files` reads a set of sysfs/procfs files from a host in one command
(under any root directory); :mod:`.state` turns them into the flat, JSON-ready
:data:`~.state.HostState` recorded per campaign and compares two of them;
:mod:`.topology` and :mod:`.cpulist` give the CPUs, SMT siblings and NUMA nodes
the pinning plan needs; :mod:`.settings` describes the recommended settings as
data, :mod:`.plan` turns a host's current values into writes (and advice),
:mod:`.execute` applies them and restores the saved previous values.
"""
