"""QEMU command lines: pure functions, no I/O.

The SNP-on line follows AMDESE/AMDSEV ``launch-qemu.sh`` and QEMU's
``amd-memory-encryption.rst``::

    -machine q35,confidential-guest-support=sev0,memory-backend=ram1
    -object memory-backend-memfd,id=ram1,size=<M>M,share=true,prealloc=false
    -object sev-snp-guest,id=sev0,policy=0x30000,cbitpos=<C>,reduced-phys-bits=1
    -bios OVMF.fd

SNP off (``snp-layout``) is the same virtual hardware without the sev-snp-guest
object and without ``confidential-guest-support``. ``plain`` is q35 with plain
RAM and QEMU's default firmware.

A pinned boot (:class:`Pinned`) starts QEMU stopped (``-S``) with a QMP socket,
names its threads (``-name <run>,debug-threads=on``: ``CPU 0/KVM`` in /proc) and
binds guest RAM to the plan's NUMA node: the memfd backend gets
``host-nodes=N,policy=bind``, and ``plain`` gets an explicit RAM backend that
carries it. The unpinned line is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from snpappliance.campaign.pinning import PinningPlan, memory_binding
from snpappliance.campaign.spec import Accel, ScenarioKind

#: The fw_cfg name the guest's /init reads its workload script from.
FW_CFG_NAME = "opt/snp/cmd"
#: The fw_cfg name of the attestation step /init runs before the BEGIN marker.
FW_CFG_ATTEST = "opt/snp/attest"
#: Options of every virtio device snpapp adds: modern-only with VIRTIO_F_ACCESS_PLATFORM,
#: which an SEV-SNP guest's virtio drivers need (their DMA bounces through swiotlb);
#: the SNP-off scenarios keep the same virtual hardware.
VIRTIO_OPTIONS = "disable-legacy=on,iommu_platform=on"
#: Longest unix socket path (sun_path holds 108 bytes with the terminating NUL).
MAX_SOCKET_PATH = 107


@dataclass(frozen=True)
class Pinned:
    """A pinned boot: the campaign's plan and where QEMU listens for QMP on the host."""

    plan: PinningPlan
    qmp_socket: str


@dataclass(frozen=True)
class BootConfig:
    """Everything one guest boot needs, as paths on the host that runs QEMU."""

    qemu: str
    accel: Accel
    kind: ScenarioKind
    vcpus: int
    memory_mib: int
    kernel: str
    initrd: str
    workload_file: str
    run_id: str
    watchdog_s: int
    cpu: str | None = None
    firmware: str | None = None
    snp_policy: int = 0x30000
    cbitpos: int | None = None
    reduced_phys_bits: int = 1
    #: Devices of the run's workload (fio's disk, iperf3's NIC), appended as given.
    devices: tuple[str, ...] = ()
    #: Set for a pinned boot: QEMU starts stopped and is pinned, then continued, over QMP.
    pinned: Pinned | None = None
    #: The guest's attestation step (minimal guest: run by /init before the BEGIN marker).
    attest_file: str | None = None


def option_value(value: str) -> str:
    """``value`` inside a QEMU ``key=value,...`` option list: a comma is doubled.

    Every path that enters ``-drive``, ``-fw_cfg``, ``-object`` or ``-chardev`` goes
    through here, so a directory named ``a,b`` cannot split the option.
    """
    return value.replace(",", ",,")


def kernel_cmdline(run_id: str, watchdog_s: int) -> str:
    """The guest kernel command line: serial console, quiet, no reboot on panic, watchdog."""
    return f"console=ttyS0 quiet panic=-1 snp.id={run_id} snp.timeout={watchdog_s}"


def _binding(cfg: BootConfig) -> str:
    """``,host-nodes=N,policy=bind`` for a pinned boot's memory backend, else nothing."""
    return "" if cfg.pinned is None else f",{memory_binding(cfg.pinned.plan)}"


def _machine(cfg: BootConfig) -> list[str]:
    size = f"{cfg.memory_mib}M"
    if cfg.kind is ScenarioKind.PLAIN:
        if cfg.pinned is None:
            return ["-machine", "q35", "-m", size]
        backend = f"memory-backend-ram,id=ram1,size={size}{_binding(cfg)}"
        return ["-machine", "q35,memory-backend=ram1", "-m", size, "-object", backend]
    machine = "q35,memory-backend=ram1"
    if cfg.kind is ScenarioKind.SNP:
        machine = "q35,confidential-guest-support=sev0,memory-backend=ram1"
    argv = [
        "-machine",
        machine,
        "-m",
        size,
        "-object",
        f"memory-backend-memfd,id=ram1,size={size},share=true,prealloc=false{_binding(cfg)}",
    ]
    if cfg.kind is ScenarioKind.SNP:
        if cfg.cbitpos is None:
            msg = "an snp boot needs the C-bit position"
            raise ValueError(msg)
        argv += [
            "-object",
            f"sev-snp-guest,id=sev0,policy={cfg.snp_policy:#x},cbitpos={cfg.cbitpos},"
            f"reduced-phys-bits={cfg.reduced_phys_bits}",
        ]
    if cfg.firmware is None:
        msg = f"a {cfg.kind.value} boot needs OVMF (-bios)"
        raise ValueError(msg)
    return [*argv, "-bios", cfg.firmware]


def _pinned(cfg: BootConfig) -> list[str]:
    """Stopped at start, named threads, QMP on the host's socket (a pinned boot only)."""
    if cfg.pinned is None:
        return []
    socket = cfg.pinned.qmp_socket
    if len(socket.encode()) > MAX_SOCKET_PATH:
        msg = f"QMP socket path {socket} is longer than {MAX_SOCKET_PATH} bytes"
        raise ValueError(msg)
    return [
        "-name",
        f"{option_value(cfg.run_id)},debug-threads=on",
        "-S",
        "-qmp",
        f"unix:{option_value(socket)},server=on,wait=off",
    ]


def machine_argv(cfg: BootConfig) -> list[str]:
    """The virtual machine of a scenario, without what it boots (shared by every guest kind)."""
    argv = [cfg.qemu, "-accel", cfg.accel.value]
    if cfg.cpu:
        argv += ["-cpu", cfg.cpu]
    argv += _machine(cfg)
    return [
        *argv,
        "-smp",
        str(cfg.vcpus),
        "-nodefaults",
        "-display",
        "none",
        "-no-reboot",
        "-serial",
        "stdio",
        *_pinned(cfg),
        *cfg.devices,
    ]


def qemu_argv(cfg: BootConfig) -> tuple[str, ...]:
    """The full QEMU command line for one fresh boot of the minimal guest."""
    argv = machine_argv(cfg)
    argv += [
        "-kernel",
        cfg.kernel,
        "-initrd",
        cfg.initrd,
        "-append",
        kernel_cmdline(cfg.run_id, cfg.watchdog_s),
        "-fw_cfg",
        f"name={FW_CFG_NAME},file={option_value(cfg.workload_file)}",
    ]
    if cfg.attest_file is not None:
        argv += ["-fw_cfg", f"name={FW_CFG_ATTEST},file={option_value(cfg.attest_file)}"]
    return tuple(argv)
