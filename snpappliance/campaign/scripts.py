"""What the guest runs for one workload: its shell script and its packages (pure text).

Every script runs between the guest's BEGIN and END markers (the minimal guest's
/init, or the cloud guest's SSH session) and prints what the host parses:

- sysbench: its report, then :data:`WALL_MARKER` and GNU time's ``%e`` line;
- fio: ``fio --output-format=json`` of every job, on the virtio-blk disk whose
  serial is :data:`~.iodevices.FIO_SERIAL` (never the root disk);
- iperf3: ``iperf3 -J`` of the guest's client against the host's server, after
  configuring the NIC with :data:`~.iodevices.GUEST_MAC` when nobody else did
  (the minimal guest has no DHCP client running);
- a boot-sweep run: nothing (its metrics are the boot's own).

Scripts are POSIX sh that busybox runs; the cloud guest runs them as its user,
so programs that need root go through ``sudo -n`` there.
"""

from __future__ import annotations

import shlex

from snpappliance.campaign.iodevices import FIO_SERIAL, GUEST_MAC, guest_network
from snpappliance.campaign.ptsguest import PTS_PACKAGES, pts_script
from snpappliance.campaign.spec import (
    BootSweep,
    CampaignSpec,
    FioWorkload,
    Iperf3Workload,
    IperfDirection,
    IperfProtocol,
    PtsSmoke,
    SysbenchCpu,
    SysbenchMemory,
    Workload,
)

#: Separates the workload's output from GNU time's ``%e`` line in the guest output.
WALL_MARKER = "---SNP-WALL---"
#: Root where it is needed: nothing for the minimal guest (root), sudo in the cloud guest.
_AS_ROOT = 'ROOT=; [ "$(id -u)" = 0 ] || ROOT="sudo -n"\n'


def sysbench_command(workload: SysbenchCpu | SysbenchMemory, vcpus: int) -> list[str]:
    """The sysbench command line inside the guest."""
    if isinstance(workload, SysbenchCpu):
        argv = ["sysbench", "cpu", f"--threads={vcpus}", f"--cpu-max-prime={workload.max_prime}"]
        if workload.time_s is not None:
            argv.append(f"--time={workload.time_s}")
        return [*argv, "run"]
    return [
        "sysbench",
        "memory",
        f"--memory-block-size={workload.block_size}",
        f"--memory-total-size={workload.total_size}",
        "run",
    ]


def fio_command(fio: FioWorkload, device: str) -> list[str]:
    """fio with every job in turn (``stonewall``) on ``device``, reporting JSON."""
    argv = [
        "fio",
        "--output-format=json",
        "--group_reporting",
        "--time_based",
        f"--filename={device}",
    ]
    for i, job in enumerate(fio.jobs):
        argv += [
            f"--name={job.name}",
            f"--rw={job.rw.value}",
            f"--bs={job.bs}",
            f"--iodepth={job.iodepth}",
            f"--numjobs={job.numjobs}",
            f"--size={job.size}",
            f"--runtime={job.runtime_s}",
            f"--direct={int(job.direct)}",
            f"--ioengine={job.ioengine}",
        ]
        if i:
            argv.append("--stonewall")
    return argv


def _fio_script(fio: FioWorkload) -> str:
    command = shlex.join(fio_command(fio, "DEVICE")).replace(
        "--filename=DEVICE", '"--filename=$dev"'
    )
    return (
        _AS_ROOT + "dev=\n"
        "for b in /sys/block/vd*; do\n"
        f'  [ "$(cat "$b/serial" 2>/dev/null)" = {FIO_SERIAL} ] && dev=/dev/${{b##*/}}\n'
        "done\n"
        f'[ -n "$dev" ] || {{ echo "snpapp: no virtio disk with serial {FIO_SERIAL}"; exit 3; }}\n'
        f"$ROOT {command}\n"
    )


def iperf3_command(iperf: Iperf3Workload, server: str) -> list[str]:
    """The guest's iperf3 client against the host's server at ``server``."""
    argv = ["iperf3", "-c", server, "-p", str(iperf.port), "-J", "-t", str(iperf.duration_s)]
    argv += ["-P", str(iperf.streams)]
    if iperf.protocol is IperfProtocol.UDP:
        argv.append("-u")
    if iperf.bitrate is not None:
        argv += ["-b", iperf.bitrate]
    if iperf.length is not None:
        argv += ["-l", iperf.length]
    if iperf.direction is IperfDirection.HOST_TO_GUEST:
        argv.append("-R")
    return argv


def _iperf3_script(iperf: Iperf3Workload) -> str:
    net = guest_network(iperf)
    setup = (
        "nic=\n"
        "for n in /sys/class/net/*; do\n"
        f'  [ "$(cat "$n/address")" = {GUEST_MAC} ] && nic=${{n##*/}}\n'
        "done\n"
        'if [ -n "$nic" ] && ! ip -4 addr show dev "$nic" | grep -q inet; then\n'
        "  ip link set lo up\n"
        '  ip link set "$nic" up\n'
        f'  ip addr add {net.guest_cidr} dev "$nic"\n'
        f'  ip route add default via {net.gateway} dev "$nic" 2>/dev/null\n'
        "fi\n"
    )
    return setup + shlex.join(iperf3_command(iperf, net.server)) + "\n"


def workload_script(workload: Workload, vcpus: int) -> str:
    """The guest shell script of one run of ``workload`` (see the module docstring)."""
    if isinstance(workload, PtsSmoke):
        return pts_script(workload)
    if isinstance(workload, FioWorkload):
        return _fio_script(workload)
    if isinstance(workload, Iperf3Workload):
        return _iperf3_script(workload)
    if isinstance(workload, BootSweep):
        return "exit 0\n"
    command = shlex.join(sysbench_command(workload, vcpus))
    return (
        f"/usr/bin/time -f %e -o /tmp/snp-wall {command}\n"
        "rc=$?\n"
        f"echo {WALL_MARKER}\n"
        "cat /tmp/snp-wall\n"
        "exit $rc\n"
    )


def guest_packages(spec: CampaignSpec) -> tuple[str, ...]:
    """The packages the cloud guest's seed installs beside sysbench and time for ``spec``."""
    packages: list[str] = []
    for workload in spec.workloads:
        if isinstance(workload, PtsSmoke):
            packages += PTS_PACKAGES
        elif isinstance(workload, FioWorkload):
            packages.append("fio")
        elif isinstance(workload, Iperf3Workload):
            packages.append("iperf3")
    return tuple(packages)
