"""The campaign spec described once, as data: every field's type, default, help and checks.

Each frozen dataclass below is one TOML table of a spec file; each field that
carries ``metadata=about(...)`` is one key of it. The loader
(:mod:`.specload`), the frozen dump and the commented template
(:mod:`.specdump`) are all derived from these declarations and from
:data:`SECTIONS`, which places the tables in the file. Help texts say what a
value does and its unit; bounds and choices are added from the rule wherever
the help is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from snpappliance.campaign.pinning import check_pin
from snpappliance.formats.names import NAME_RULE, is_valid_name
from snpappliance.toml import about

#: How every result of a local emulated profile is labelled.
EMULATED_LABEL = "local emulated profile — not an SNP measurement"
DEFAULT_REPETITIONS = 20
DEFAULT_SNP_POLICY = 0x30000
MAX_REPETITIONS = 10_000
#: Most runs one campaign may plan (all hosts together): ~three weeks of 20 s boots.
MAX_RUNS = 100_000
#: Longest timeout of any kind, in seconds (one day).
MAX_TIMEOUT_S = 86_400.0
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SIZE = re.compile(r"^[1-9][0-9]{0,5}[KMGT]?$")


def _name(value: str) -> str | None:
    return None if is_valid_name(value) else f"must be {NAME_RULE}"


def _absolute(value: str) -> str | None:
    parts = value.split("/")
    ok = value.startswith("/") and ".." not in parts and value.isprintable()
    return None if ok else "must be an absolute path without '..'"


def _url(value: str) -> str | None:
    ok = value.startswith(("https://", "http://")) and value.isprintable() and " " not in value
    return None if ok else "must be an http(s) URL"


def _sha256(value: str) -> str | None:
    return None if _SHA256.match(value) else "must be 64 lower-case hex digits"


def _size(value: str) -> str | None:
    return None if _SIZE.match(value) else "must be a size such as '1M' or '10G'"


def _printable(value: str) -> str | None:
    return None if value.isprintable() else "must be one line of printable text"


_BLOCK = re.compile(r"^[1-9][0-9]{0,8}[kKmM]?$")
_BITRATE = re.compile(r"^[1-9][0-9]{0,5}(\.[0-9]{1,3})?[KMG]?$")
_OCTET = r"(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])"
_IPV4 = re.compile(rf"^({_OCTET}\.){{3}}{_OCTET}$")


def _block_size(value: str) -> str | None:
    return None if _BLOCK.match(value) else "must be a size such as '4k' or '1M'"


def _bitrate(value: str) -> str | None:
    return None if _BITRATE.match(value) else "must be a bitrate such as '500M' or '1G'"


def _ipv4(value: str) -> str | None:
    return None if _IPV4.match(value) else "must be an IPv4 address such as '192.168.100.1'"


def _ipv4_cidr(value: str) -> str | None:
    address, _, prefix = value.partition("/")
    ok = _IPV4.match(address) and prefix.isdigit() and 1 <= int(prefix) <= 32
    return None if ok else "must be an IPv4 address with prefix such as '192.168.100.2/24'"


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(map(repr, choices))}"

    return check


SIZE_FACTORS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def size_bytes(size: str) -> int:
    """A checked size ('256M', '1G', '4k') in bytes."""
    unit = size[-1].upper() if size[-1].isalpha() else ""
    return int(size[: -1 if unit else None]) * SIZE_FACTORS[unit]


class Order(StrEnum):
    """Run order: seeded random blocks that alternate scenarios, or one scenario after another."""

    INTERLEAVED = "interleaved"
    SEQUENTIAL = "sequential"


class ScenarioKind(StrEnum):
    """The virtual hardware of a scenario.

    ``plain``: q35 with plain RAM and QEMU's default firmware. ``snp-layout``:
    the SNP memory layout without encryption (q35, memfd memory backend, OVMF via
    -bios): the SNP-off baseline on a real host and the local mirror of it.
    ``snp``: ``snp-layout`` plus the sev-snp-guest object (needs an SNP host).
    """

    PLAIN = "plain"
    SNP_LAYOUT = "snp-layout"
    SNP = "snp"

    @property
    def needs_firmware(self) -> bool:
        return self is not ScenarioKind.PLAIN

    @property
    def expects_snp(self) -> bool:
        """Whether the guest must report active SEV-SNP memory encryption."""
        return self is ScenarioKind.SNP


class Accel(StrEnum):
    TCG = "tcg"
    KVM = "kvm"


class GuestKind(StrEnum):
    """``minimal``: the benchmark guest of `snpapp build guest` (kernel + initramfs, serial
    console). ``cloud``: a cloud image (Ubuntu 24.04 by default) with a cloud-init seed,
    reached over SSH."""

    MINIMAL = "minimal"
    CLOUD = "cloud"


#: The cloud guest's default image: Ubuntu 24.04 LTS (noble), as in the case study. The
#: ``release/`` link follows Ubuntu's newest build, so snpapp pins no checksum for it.
UBUNTU_NOBLE_URL = (
    "https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-amd64.img"
)
DEFAULT_DISK_GIB = 20


class WorkloadKind(StrEnum):
    SYSBENCH_CPU = "sysbench-cpu"
    SYSBENCH_MEMORY = "sysbench-memory"
    FIO = "fio"
    IPERF3 = "iperf3"
    BOOT = "boot"
    PTS = "pts"


PTS_TESTS = ("compress-7zip", "openssl", "c-ray")


@dataclass(frozen=True)
class Scenario:
    name: str = field(
        metadata=about("Names the scenario in run ids, results and the report.", check=_name)
    )
    kind: ScenarioKind = field(
        metadata=about(
            "The virtual hardware. plain: q35 with plain RAM and QEMU's default firmware. "
            "snp-layout: the SNP memory layout without encryption (q35, memfd memory "
            "backend, OVMF via -bios), the SNP-off baseline. snp: snp-layout plus the "
            "sev-snp-guest object (needs a SEV-SNP host and accel = 'kvm')."
        )
    )
    baseline: bool = field(
        default=False,
        metadata=about("true on exactly one scenario: the one every other is compared with."),
    )


@dataclass(frozen=True)
class SysbenchCpu:
    """``sysbench cpu --threads=<vCPUs> --cpu-max-prime=N [--time=T] run``."""

    max_prime: int = field(
        default=20000,
        metadata=about("sysbench --cpu-max-prime.", minimum=1, maximum=100_000_000),
    )
    #: sysbench's --time (seconds); None keeps sysbench's default of 10 s.
    time_s: int | None = field(
        default=None,
        metadata=about(
            "sysbench --time in seconds (default: sysbench's 10 s); below timeouts.workload_s.",
            minimum=1,
            maximum=int(MAX_TIMEOUT_S),
            example=5,
        ),
    )

    @property
    def name(self) -> str:
        return WorkloadKind.SYSBENCH_CPU.value


@dataclass(frozen=True)
class SysbenchMemory:
    """``sysbench memory --memory-block-size=B --memory-total-size=T run``."""

    block_size: str = field(
        default="1M",
        metadata=about("sysbench --memory-block-size (bytes; K, M, G or T suffix).", check=_size),
    )
    total_size: str = field(
        default="10G",
        metadata=about("sysbench --memory-total-size (bytes; K, M, G or T suffix).", check=_size),
    )

    @property
    def name(self) -> str:
        return WorkloadKind.SYSBENCH_MEMORY.value


@dataclass(frozen=True)
class PtsSmoke:
    """Phoronix Test Suite macro smoke tests (reported, never in the statistics).

    Cloud guest only: one smoke run per scenario (and host), placed in the plan right
    after that scenario's last sysbench run; its results go to ``smoke.csv``.
    """

    tests: tuple[str, ...] = field(
        default=PTS_TESTS,
        metadata=about("Phoronix Test Suite tests to run.", choices=PTS_TESTS),
    )
    iterations: int = field(
        default=5, metadata=about("Iterations of every test.", minimum=1, maximum=100)
    )
    #: Guest-side watchdog of the smoke run (installing and running every test).
    timeout_s: int = field(
        default=7200,
        metadata=about(
            "Guest-side watchdog of the smoke run (install + every test), seconds.",
            minimum=60,
            maximum=int(MAX_TIMEOUT_S),
        ),
    )

    @property
    def name(self) -> str:
        return WorkloadKind.PTS.value


class FioRw(StrEnum):
    READ = "read"
    WRITE = "write"
    RANDREAD = "randread"
    RANDWRITE = "randwrite"
    RANDRW = "randrw"

    @property
    def reads(self) -> bool:
        return self in (FioRw.READ, FioRw.RANDREAD, FioRw.RANDRW)


class DiskFormat(StrEnum):
    RAW = "raw"
    QCOW2 = "qcow2"


class Preallocation(StrEnum):
    FULL = "full"
    FALLOC = "falloc"


class DiskCache(StrEnum):
    """QEMU's -drive cache mode; ``none`` (O_DIRECT on the host) keeps the host's page
    cache out of the guest's numbers but needs a file system with O_DIRECT (not tmpfs)."""

    NONE = "none"
    DIRECTSYNC = "directsync"
    WRITEBACK = "writeback"


FIO_ENGINES = ("libaio", "io_uring", "psync", "sync")


@dataclass(frozen=True)
class FioJob:
    """One fio job: a row of metrics per direction it does I/O in, named after the job."""

    name: str = field(
        metadata=about(
            "Names the job: the `workload` of its rows in results.csv and the report.",
            check=_name,
        )
    )
    rw: FioRw = field(metadata=about("fio --rw: the I/O pattern."))
    bs: str = field(
        default="4k",
        metadata=about("fio --bs: block size (bytes; k, M suffix).", check=_block_size),
    )
    iodepth: int = field(
        default=1, metadata=about("fio --iodepth: I/Os in flight.", minimum=1, maximum=4096)
    )
    numjobs: int = field(
        default=1,
        metadata=about(
            "fio --numjobs: parallel processes, reported together (group_reporting).",
            minimum=1,
            maximum=256,
        ),
    )
    size: str = field(
        default="256M",
        metadata=about(
            "fio --size: the region of the disk the job uses (bytes; K, M, G or T suffix); "
            "at most the disk's size.",
            check=_size,
        ),
    )
    runtime_s: int = field(
        default=10,
        metadata=about(
            "fio --runtime with --time_based: seconds the job runs (wrapping around size).",
            minimum=1,
            maximum=int(MAX_TIMEOUT_S),
        ),
    )
    direct: bool = field(
        default=True,
        metadata=about("fio --direct: bypass the guest's page cache (O_DIRECT)."),
    )
    ioengine: str = field(
        default="libaio",
        metadata=about("fio --ioengine.", check=_one_of(FIO_ENGINES)),
    )


@dataclass(frozen=True)
class FioWorkload:
    """fio on a dedicated virtio-blk disk: a fresh, preallocated image per run, never the
    guest's root disk. Every job runs in the same boot, one after the other (stonewall);
    fio's JSON is kept beside the run's console log, as logs/<run>.a<attempt>.fio.json."""

    jobs: tuple[FioJob, ...]
    disk_size: str = field(
        default="1G",
        metadata=about("Size of each run's disk image (bytes; K, M, G or T suffix).", check=_size),
    )
    disk_format: DiskFormat = field(
        default=DiskFormat.RAW,
        metadata=about("Format of the image, created by qemu-img."),
    )
    preallocation: Preallocation = field(
        default=Preallocation.FULL,
        metadata=about(
            "qemu-img's preallocation: full writes every block before the boot, so reads "
            "reach the storage (takes disk_size / write speed per run, before QEMU starts); "
            "falloc only reserves the blocks (instant, but reads of blocks the job never "
            "wrote may not reach the storage)."
        ),
    )
    disk_dir: str | None = field(
        default=None,
        metadata=about(
            "Directory on the host for the per-run images (default: the campaign's work "
            "directory); put it on the storage you mean to measure, not on tmpfs.",
            check=_absolute,
            example="/var/lib/snpapp/fio",
        ),
    )
    cache: DiskCache = field(
        default=DiskCache.NONE,
        metadata=about("QEMU -drive cache mode of the disk."),
    )

    @property
    def name(self) -> str:
        return WorkloadKind.FIO.value


class IperfProtocol(StrEnum):
    TCP = "tcp"
    UDP = "udp"


class IperfDirection(StrEnum):
    """Who sends: the guest (iperf3's client) or the host (iperf3 -R)."""

    GUEST_TO_HOST = "guest-to-host"
    HOST_TO_GUEST = "host-to-guest"


class NetworkKind(StrEnum):
    """``user``: QEMU's user-mode network (no set-up; the host is 10.0.2.2 to the guest,
    and slirp itself limits throughput). ``bridge``: a tap on a host bridge through
    qemu-bridge-helper (what a real host's measurements should use)."""

    USER = "user"
    BRIDGE = "bridge"


@dataclass(frozen=True)
class Iperf3Workload:
    """iperf3 over a virtio-net device: the server on the host, the client in the guest;
    its -J JSON is kept beside the run's console log, as logs/<run>.a<attempt>.iperf3.json."""

    protocol: IperfProtocol = field(
        default=IperfProtocol.TCP, metadata=about("iperf3's protocol (-u for udp).")
    )
    streams: int = field(
        default=1, metadata=about("iperf3 -P: parallel streams.", minimum=1, maximum=128)
    )
    duration_s: int = field(
        default=10,
        metadata=about("iperf3 -t: seconds of traffic.", minimum=1, maximum=int(MAX_TIMEOUT_S)),
    )
    length: str | None = field(
        default=None,
        metadata=about(
            "iperf3 -l: buffer (TCP) or datagram (UDP) length (default: iperf3's).",
            check=_block_size,
            example="128K",
        ),
    )
    bitrate: str | None = field(
        default=None,
        metadata=about(
            "iperf3 -b: target bitrate, bits/s with K, M or G suffix (default: iperf3's, "
            "1M for UDP, unlimited for TCP).",
            check=_bitrate,
            example="1G",
        ),
    )
    direction: IperfDirection = field(
        default=IperfDirection.GUEST_TO_HOST, metadata=about("Who sends the traffic.")
    )
    port: int = field(
        default=5201,
        metadata=about(
            "TCP/UDP port of the host's iperf3 server (one fresh server per run).",
            minimum=1024,
            maximum=65535,
        ),
    )
    network: NetworkKind = field(
        default=NetworkKind.USER, metadata=about("How the guest's virtio-net is connected.")
    )
    bridge: str | None = field(
        default=None,
        metadata=about(
            "The host bridge (network = 'bridge'; allowed in /etc/qemu/bridge.conf).",
            check=_name,
            example="br0",
        ),
    )
    host_address: str | None = field(
        default=None,
        metadata=about(
            "The host's IPv4 address on the bridge, where its iperf3 server listens "
            "(network = 'bridge').",
            check=_ipv4,
            example="192.168.100.1",
        ),
    )
    guest_address: str | None = field(
        default=None,
        metadata=about(
            "The guest's IPv4 address/prefix on the bridge (network = 'bridge').",
            check=_ipv4_cidr,
            example="192.168.100.2/24",
        ),
    )

    @property
    def name(self) -> str:
        return WorkloadKind.IPERF3.value


@dataclass(frozen=True)
class BootSweep:
    """Boots that run nothing: ``boot_s`` and ``kernel_boot_s`` at each guest memory size.

    Every run records both metrics anyway (as workload ``boot-<memory>mib``); this
    table adds runs at other memory sizes, since SEV-SNP validates every guest page
    and its boot time grows with memory.
    """

    memory_mib: tuple[int, ...] = field(
        default=(),
        metadata=about(
            "Guest memory sizes to boot, MiB; one workload boot-<size>mib each.",
            minimum=128,
            maximum=4_194_304,
            example=[2048, 8192, 32768],
        ),
    )

    @property
    def name(self) -> str:
        return WorkloadKind.BOOT.value


def boot_workload(memory_mib: int) -> str:
    """The workload name of the boot metrics of a guest with ``memory_mib``."""
    return f"boot-{memory_mib}mib"


Workload = SysbenchCpu | SysbenchMemory | FioWorkload | Iperf3Workload | BootSweep | PtsSmoke

#: The workload of each [workloads.<kind>] table, with what it runs.
WORKLOADS: dict[WorkloadKind, tuple[type[Workload], str]] = {
    WorkloadKind.SYSBENCH_CPU: (
        SysbenchCpu,
        "sysbench cpu with one thread per vCPU, timed by /usr/bin/time -f %e.",
    ),
    WorkloadKind.SYSBENCH_MEMORY: (SysbenchMemory, "sysbench memory, timed the same way."),
    WorkloadKind.FIO: (
        FioWorkload,
        "fio on a dedicated virtio-blk disk (a fresh preallocated image per run); each "
        "[[workloads.fio.jobs]] entry is one job and the workload of its rows.",
    ),
    WorkloadKind.IPERF3: (
        Iperf3Workload,
        "iperf3 between the guest (client) and a fresh server on the host, over virtio-net.",
    ),
    WorkloadKind.BOOT: (
        BootSweep,
        "Extra boots at other guest memory sizes (boot_s and kernel_boot_s only).",
    ),
    WorkloadKind.PTS: (
        PtsSmoke,
        "Phoronix Test Suite macro smoke tests, cloud guest only: one run per scenario right "
        "after its last sysbench run; results go to smoke.csv, never into the statistics. "
        "The guest needs network access to download the tests.",
    ),
}


@dataclass(frozen=True)
class GuestSpec:
    kind: GuestKind = field(
        default=GuestKind.MINIMAL,
        metadata=about(
            "minimal: the benchmark guest of `snpapp build guest` (kernel + initramfs, serial "
            "console). cloud: a cloud image (Ubuntu 24.04 by default) with a cloud-init seed, "
            "reached over SSH through the host; give cloud-init time to install packages "
            "(timeouts.boot_s = 900)."
        ),
    )
    vcpus: int = field(
        default=2,
        metadata=about(
            "Virtual CPUs; sysbench-cpu runs one thread per vCPU.", minimum=1, maximum=512
        ),
    )
    memory_mib: int = field(
        default=1024, metadata=about("Guest memory in MiB.", minimum=128, maximum=4_194_304)
    )
    #: QEMU -cpu model; None keeps QEMU's default.
    cpu: str | None = field(
        default=None,
        metadata=about("QEMU -cpu model (default: QEMU's).", check=_printable, example="max"),
    )
    #: Host CPUs of the guest's threads: "off", "auto" or "2,3,0" (vCPU CPUs, then QEMU's).
    pin: str = field(
        default="off",
        metadata=about(
            "Pin the guest's threads to host CPUs on one NUMA node and bind its memory there, "
            "the same for every scenario: 'off' leaves them to the host's scheduler; 'auto' "
            "gives each vCPU its own core (no SMT siblings shared when the node has the cores) "
            "and QEMU's main and I/O threads one more CPU, vcpus + 1 CPUs in all; or name the "
            "CPUs, vCPU 0's first, then QEMU's, e.g. '2,3,0' (shared CPUs are recorded).",
            check=check_pin,
            example="auto",
        ),
    )
    #: Directory with the guest artefacts on the host; None: artifacts/<stack>/guest.
    artifacts: str | None = field(
        default=None,
        metadata=about(
            "Directory with the guest's vmlinuz and initramfs on the host (default: the "
            "release's guest/ with [release], else artifacts/<stack>/guest).",
            check=_printable,
            example="artifacts/{stack}/guest",
            only="minimal",
        ),
    )
    #: cloud: a local image file (offline); None downloads ``image_url``.
    image: str | None = field(
        default=None,
        metadata=about(
            "Absolute path of a local image file (offline; instead of image_url).",
            check=_absolute,
            example="/srv/images/ubuntu-24.04-server-cloudimg-amd64.img",
            only="cloud",
        ),
    )
    image_url: str | None = field(
        default=None,
        metadata=about(
            "Where to download the image (default: Ubuntu 24.04's moving release/ link; "
            "prefer a dated release-YYYYMMDD/ directory).",
            check=_url,
            example=UBUNTU_NOBLE_URL,
            only="cloud",
        ),
    )
    #: cloud: the image's SHA-256 (required for a download, checked for a local image).
    image_sha256: str | None = field(
        default=None,
        metadata=about(
            "The image's SHA-256, its line in SHA256SUMS next to it: required for a download "
            "(snpapp pins no checksum for Ubuntu's moving link), checked for a local image.",
            check=_sha256,
            example="<64 hex digits from SHA256SUMS>",
            only="cloud",
        ),
    )
    #: cloud: virtual size of each run's copy-on-write disk.
    disk_gib: int = field(
        default=DEFAULT_DISK_GIB,
        metadata=about(
            "Virtual size of each run's copy-on-write disk, GiB.",
            minimum=4,
            maximum=4096,
            only="cloud",
        ),
    )


@dataclass(frozen=True)
class QemuSpec:
    binary: str = field(
        default="qemu-system-x86_64",
        metadata=about(
            "The QEMU system emulator (default: the release's QEMU with [release]).",
            check=_printable,
        ),
    )
    accel: Accel = field(
        default=Accel.TCG,
        metadata=about(
            "tcg: emulation, no KVM needed (emulated profiles); kvm: hardware "
            "virtualisation, required for snp scenarios."
        ),
    )
    #: OVMF.fd for snp-layout and snp scenarios (loaded with -bios).
    firmware: str = field(
        default="/usr/share/ovmf/OVMF.fd",
        metadata=about(
            "OVMF.fd for snp-layout and snp scenarios, loaded with -bios (Debian package "
            "`ovmf`; default: the release's OVMF.fd with [release]).",
            check=_printable,
        ),
    )


@dataclass(frozen=True)
class SnpSpec:
    policy: int = field(
        default=DEFAULT_SNP_POLICY,
        metadata=about(
            "SEV-SNP guest policy; 0x30000 = SMT allowed + reserved-must-be-one (the "
            "minimum KVM accepts).",
            minimum=0,
            maximum=2**64 - 1,
            hex=True,
        ),
    )
    #: C-bit position; None reads it from CPUID 0x8000001F on the host.
    cbitpos: int | None = field(
        default=None,
        metadata=about(
            "C-bit position (default: read from CPUID 0x8000001F on the host; 51 on Genoa).",
            minimum=32,
            maximum=63,
            example=51,
        ),
    )
    reduced_phys_bits: int = field(
        default=1,
        metadata=about("Physical address bits lost to memory encryption.", minimum=0, maximum=63),
    )


@dataclass(frozen=True)
class Timeouts:
    #: From QEMU start until the guest's BEGIN marker.
    boot_s: float = field(
        default=120.0,
        metadata=about(
            "Seconds from QEMU start until the workload begins (cloud guest: ~900 for cloud-init).",
            minimum=1.0,
            maximum=MAX_TIMEOUT_S,
        ),
    )
    #: Guest-side watchdog for the workload (snp.timeout).
    workload_s: float = field(
        default=600.0,
        metadata=about(
            "Guest-side watchdog of one workload run, seconds (snp.timeout).",
            minimum=1.0,
            maximum=MAX_TIMEOUT_S,
        ),
    )
    #: Host-side slack after the watchdog before QEMU is killed.
    grace_s: float = field(
        default=30.0,
        metadata=about(
            "Host-side slack after the watchdog before QEMU's process group is killed, seconds.",
            minimum=1.0,
            maximum=3600.0,
        ),
    )

    @property
    def hard_deadline_s(self) -> float:
        return self.boot_s + self.workload_s + self.grace_s


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = field(
        default=3,
        metadata=about(
            "Attempts per run; a boot timeout, hang, crash or unparsable output is retried.",
            minimum=1,
            maximum=20,
        ),
    )
    backoff_s: float = field(
        default=2.0,
        metadata=about(
            "Wait before a retry, seconds; doubles with every attempt.",
            minimum=0.0,
            maximum=3600.0,
        ),
    )
    backoff_max_s: float = field(
        default=30.0,
        metadata=about("Longest wait before a retry, seconds.", minimum=0.0, maximum=3600.0),
    )


@dataclass(frozen=True)
class ReleaseTable:
    """The [release] table; its one key becomes :attr:`CampaignSpec.release_prefix`."""

    prefix: str | None = field(
        default=None,
        metadata=about(
            "The --prefix `snpapp deploy` installed the release into on the host. QEMU, "
            "OVMF.fd and the minimal guest then default to <prefix>/current/ "
            "(qemu/root/usr/local/bin/qemu-system-x86_64, ovmf/OVMF.fd, guest/), and "
            "`snpapp doctor` checks the host before snp scenarios.",
            check=_absolute,
            example="/opt/snpapp",
        ),
    )


@dataclass(frozen=True)
class CampaignSpec:
    name: str = field(
        metadata=about("Names the campaign directory, campaigns/<date>-<time>-<name>.", check=_name)
    )
    scenarios: tuple[Scenario, ...]
    workloads: tuple[Workload, ...]
    host: str = field(
        default="local",
        metadata=about(
            "`local` or the name of an SSH host (see `snpapp deploy`); --host overrides it.",
            check=_printable,
        ),
    )
    stack: str = field(
        default="debian-bookworm",
        metadata=about(
            "The stack the guest artefacts come from: artifacts/<stack>/ "
            "(`snpapp build guest --stack <stack>`).",
            check=_name,
        ),
    )
    emulated: bool = field(
        default=False,
        metadata=about(
            "true for a profile without SEV-SNP hardware (QEMU TCG): its numbers are demo "
            "and plumbing data and say nothing about what SEV-SNP costs."
        ),
    )
    label: str = field(
        default="",
        metadata=about(
            "Carried by every result, the campaign directory and the report; an emulated "
            "profile must say it is not an SNP measurement.",
            check=_printable,
        ),
    )
    repetitions: int = field(
        default=DEFAULT_REPETITIONS,
        metadata=about(
            "Fresh guest boots per scenario and workload (the case study used 20).",
            minimum=1,
            maximum=MAX_REPETITIONS,
        ),
    )
    order: Order = field(
        default=Order.INTERLEAVED,
        metadata=about(
            "interleaved: seeded random blocks that alternate scenarios, so drift cannot "
            "pass for an effect; sequential: one scenario after the other."
        ),
    )
    seed: int | None = field(
        default=None,
        metadata=about(
            "Seed of the interleaved order (default: random, recorded).",
            minimum=0,
            maximum=2**63 - 1,
            example=1234,
        ),
    )
    max_failures: int | None = field(
        default=None,
        metadata=about(
            "Abort once this many runs have failed every attempt (default: never).",
            minimum=1,
            maximum=MAX_RUNS,
            example=3,
        ),
    )
    #: Prefix of the release `snpapp deploy` installed on the host; when set, QEMU, the
    #: firmware and the guest default to ``<prefix>/current/...`` (see release_layout).
    release_prefix: str | None = None
    guest: GuestSpec = field(default_factory=GuestSpec)
    qemu: QemuSpec = field(default_factory=QemuSpec)
    snp: SnpSpec = field(default_factory=SnpSpec)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def baseline(self) -> Scenario:
        return next(s for s in self.scenarios if s.baseline)

    @property
    def statistical_workloads(self) -> tuple[Workload, ...]:
        return tuple(w for w in self.workloads if not isinstance(w, PtsSmoke))

    @property
    def run_workloads(self) -> tuple[str, ...]:
        """The workload of every kind of run, as the plan names them (a boot sweep gives
        one ``boot-<memory>mib`` per memory size)."""
        names: list[str] = []
        for w in self.statistical_workloads:
            if isinstance(w, BootSweep):
                names += [boot_workload(m) for m in w.memory_mib]
            else:
                names.append(w.name)
        return tuple(names)

    def scenario(self, name: str) -> Scenario:
        return next(s for s in self.scenarios if s.name == name)

    def workload(self, name: str) -> Workload:
        """The workload of a planned run's workload name."""
        if name.startswith(f"{WorkloadKind.BOOT.value}-"):
            return next(w for w in self.workloads if isinstance(w, BootSweep))
        return next(w for w in self.workloads if w.name == name)

    def memory_mib(self, workload: str) -> int:
        """Guest memory of a run of ``workload`` (a boot sweep's own size, else the guest's)."""
        sweep = next((w for w in self.workloads if isinstance(w, BootSweep)), None)
        if sweep is not None:
            for size in sweep.memory_mib:
                if workload == boot_workload(size):
                    return size
        return self.guest.memory_mib


@dataclass(frozen=True)
class Section:
    """One table of a spec file: its TOML key, the dataclass it holds and what it is for.

    ``get`` returns the section's values from a spec: one object, a tuple of them
    (an array of tables), or None when the table is absent.
    """

    key: str
    cls: type[Any]
    help: str
    get: Callable[[CampaignSpec], Any]
    array: bool = False


def _workload_of(kind: WorkloadKind) -> Callable[[CampaignSpec], Any]:
    return lambda spec: next((w for w in spec.workloads if w.name == kind.value), None)


def _fio_jobs(spec: CampaignSpec) -> tuple[FioJob, ...] | None:
    fio = next((w for w in spec.workloads if isinstance(w, FioWorkload)), None)
    return fio.jobs if fio is not None else None


def _workload_sections() -> list[Section]:
    sections = []
    for kind, (cls, text) in WORKLOADS.items():
        sections.append(Section(f"workloads.{kind.value}", cls, text, _workload_of(kind)))
        if kind is WorkloadKind.FIO:
            sections.append(
                Section(
                    "workloads.fio.jobs",
                    FioJob,
                    "The fio jobs: at least one, each run in every fio boot.",
                    _fio_jobs,
                    array=True,
                )
            )
    return sections


def _release(spec: CampaignSpec) -> ReleaseTable | None:
    return ReleaseTable(spec.release_prefix) if spec.release_prefix is not None else None


#: The tables of a spec file, in the order they are written.
SECTIONS: tuple[Section, ...] = (
    Section("campaign", CampaignSpec, "What to run, where and how often.", lambda s: s),
    Section("release", ReleaseTable, "The release `snpapp deploy` installed.", _release),
    Section("guest", GuestSpec, "The guest booted for every run.", lambda s: s.guest),
    Section("qemu", QemuSpec, "The QEMU that boots it.", lambda s: s.qemu),
    Section("snp", SnpSpec, "The sev-snp-guest object of snp scenarios.", lambda s: s.snp),
    Section("timeouts", Timeouts, "When a run counts as hung.", lambda s: s.timeouts),
    Section("retry", RetryPolicy, "How failed attempts are retried.", lambda s: s.retry),
    Section(
        "scenarios",
        Scenario,
        "The scenarios compared: at least two, exactly one of them the baseline.",
        lambda s: s.scenarios,
        array=True,
    ),
    *_workload_sections(),
)
