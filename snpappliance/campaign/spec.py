"""The campaign spec: what to run, where, how often and in which order.

A spec is a TOML file validated once into frozen dataclasses. Every unknown key
or bad value is reported with its TOML path (``guest.vcpus``,
``scenarios[1].kind``) so that ``snpapp campaign validate`` can say exactly
what to fix. :func:`dump_spec` writes a spec back as TOML (the campaign
directory keeps a frozen copy); ``load(dump(spec)) == spec``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from snpappliance.formats.release import ReleasePaths, current_release
from snpappliance.toml import Table, fail

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

#: How every result of a local emulated profile is labelled.
EMULATED_LABEL = "local emulated profile — not an SNP measurement"
DEFAULT_REPETITIONS = 20
DEFAULT_SNP_POLICY = 0x30000


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
    PTS = "pts"


PTS_TESTS = ("compress-7zip", "openssl", "c-ray")


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: ScenarioKind
    baseline: bool = False


@dataclass(frozen=True)
class SysbenchCpu:
    """``sysbench cpu --threads=<vCPUs> --cpu-max-prime=N [--time=T] run``."""

    max_prime: int = 20000
    #: sysbench's --time (seconds); None keeps sysbench's default of 10 s.
    time_s: int | None = None

    @property
    def name(self) -> str:
        return WorkloadKind.SYSBENCH_CPU.value


@dataclass(frozen=True)
class SysbenchMemory:
    """``sysbench memory --memory-block-size=B --memory-total-size=T run``."""

    block_size: str = "1M"
    total_size: str = "10G"

    @property
    def name(self) -> str:
        return WorkloadKind.SYSBENCH_MEMORY.value


@dataclass(frozen=True)
class PtsSmoke:
    """Phoronix Test Suite macro smoke tests (reported, never in the statistics).

    Cloud guest only: one smoke run per scenario (and host), placed in the plan right
    after that scenario's last sysbench run; its results go to ``smoke.csv``.
    """

    tests: tuple[str, ...] = PTS_TESTS
    iterations: int = 5
    #: Guest-side watchdog of the smoke run (installing and running every test).
    timeout_s: int = 7200

    @property
    def name(self) -> str:
        return WorkloadKind.PTS.value


Workload = SysbenchCpu | SysbenchMemory | PtsSmoke


@dataclass(frozen=True)
class GuestSpec:
    kind: GuestKind = GuestKind.MINIMAL
    vcpus: int = 2
    memory_mib: int = 1024
    #: QEMU -cpu model; None keeps QEMU's default.
    cpu: str | None = None
    #: Directory with the guest artefacts on the host; None: artifacts/<stack>/guest.
    artifacts: str | None = None
    #: cloud: a local image file (offline); None downloads ``image_url``.
    image: str | None = None
    image_url: str | None = None
    #: cloud: the image's SHA-256 (required for a download, checked for a local image).
    image_sha256: str | None = None
    #: cloud: virtual size of each run's copy-on-write disk.
    disk_gib: int = DEFAULT_DISK_GIB


@dataclass(frozen=True)
class QemuSpec:
    binary: str = "qemu-system-x86_64"
    accel: Accel = Accel.TCG
    #: OVMF.fd for snp-layout and snp scenarios (loaded with -bios).
    firmware: str = "/usr/share/ovmf/OVMF.fd"


@dataclass(frozen=True)
class SnpSpec:
    policy: int = DEFAULT_SNP_POLICY
    #: C-bit position; None reads it from CPUID 0x8000001F on the host.
    cbitpos: int | None = None
    reduced_phys_bits: int = 1


@dataclass(frozen=True)
class Timeouts:
    #: From QEMU start until the guest's BEGIN marker.
    boot_s: float = 120.0
    #: Guest-side watchdog for the workload (snp.timeout).
    workload_s: float = 600.0
    #: Host-side slack after the watchdog before QEMU is killed.
    grace_s: float = 30.0

    @property
    def hard_deadline_s(self) -> float:
        return self.boot_s + self.workload_s + self.grace_s


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff_s: float = 2.0
    backoff_max_s: float = 30.0


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    scenarios: tuple[Scenario, ...]
    workloads: tuple[Workload, ...]
    host: str = "local"
    stack: str = "debian-bookworm"
    emulated: bool = False
    label: str = ""
    repetitions: int = DEFAULT_REPETITIONS
    order: Order = Order.INTERLEAVED
    seed: int | None = None
    max_failures: int | None = None
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

    def scenario(self, name: str) -> Scenario:
        return next(s for s in self.scenarios if s.name == name)

    def workload(self, name: str) -> Workload:
        return next(w for w in self.workloads if w.name == name)


# --- loading -------------------------------------------------------------------------------


def load_spec(path: Path) -> CampaignSpec:
    """Read and validate a spec file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(str(path), "", f"cannot be read: {exc.strerror}")
    return parse_spec(text, source=str(path))


def parse_spec(text: str, *, source: str) -> CampaignSpec:
    """Validate spec text; ``source`` names it in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        fail(source, "", f"is not valid TOML: {exc}")
    root = Table(raw, source, "")
    campaign = root.table("campaign")
    prefix = _release_prefix(root.table("release", required=False))
    release = current_release(prefix) if prefix else None
    spec = CampaignSpec(
        name=campaign.string("name"),
        host=campaign.string("host", "local"),
        stack=campaign.string("stack", "debian-bookworm"),
        emulated=campaign.boolean("emulated", False),
        label=campaign.string("label", ""),
        repetitions=campaign.integer("repetitions", DEFAULT_REPETITIONS, minimum=1),
        order=campaign.choice("order", Order, Order.INTERLEAVED),
        seed=campaign.optional_integer("seed", minimum=0),
        max_failures=campaign.optional_integer("max_failures", minimum=1),
        release_prefix=prefix,
        guest=_guest(root.table("guest", required=False), release),
        qemu=_qemu(root.table("qemu", required=False), release),
        snp=_snp(root.table("snp", required=False)),
        scenarios=_scenarios(root),
        workloads=_workloads(root),
        timeouts=_timeouts(root.table("timeouts", required=False)),
        retry=_retry(root.table("retry", required=False)),
    )
    campaign.finish()
    root.finish()
    _check_consistency(spec, source)
    return spec


def _release_prefix(t: Table) -> str | None:
    prefix = t.optional_string("prefix")
    t.finish()
    if prefix is not None and (
        not prefix.startswith("/") or ".." in prefix.split("/") or not prefix.isprintable()
    ):
        fail(
            t.source,
            t.path("prefix"),
            f"{prefix!r} is not an absolute path on the host",
            hint="use the --prefix `snpapp deploy` installed into (default /opt/snpapp)",
        )
    return prefix


def _guest(t: Table, release: ReleasePaths | None) -> GuestSpec:
    artifacts = t.optional_string("artifacts")
    kind = t.choice("kind", GuestKind, GuestKind.MINIMAL)
    image = t.optional_string("image")
    cloud = kind is GuestKind.CLOUD
    guest = GuestSpec(
        kind=kind,
        vcpus=t.integer("vcpus", 2, minimum=1, maximum=512),
        memory_mib=t.integer("memory_mib", 1024, minimum=128),
        cpu=t.optional_string("cpu"),
        artifacts=artifacts if artifacts is not None or release is None or cloud else release.guest,
        image=image,
        image_url=t.string("image_url", UBUNTU_NOBLE_URL) if cloud and not image else None,
        image_sha256=t.optional_string("image_sha256"),
        disk_gib=t.integer("disk_gib", DEFAULT_DISK_GIB, minimum=4, maximum=4096),
    )
    _check_cloud(t, guest)
    t.finish()
    return guest


def _check_cloud(t: Table, guest: GuestSpec) -> None:
    if guest.kind is not GuestKind.CLOUD:
        for key in ("image", "image_url", "image_sha256", "disk_gib"):
            if key in set(t.names()):
                fail(
                    t.source,
                    t.path(key),
                    "applies to the cloud guest only",
                    hint="set kind = 'cloud' or remove it",
                )
        return
    if guest.artifacts is not None:
        fail(
            t.source,
            t.path("artifacts"),
            "applies to the minimal guest only",
            hint="the cloud guest boots guest.image or guest.image_url",
        )
    sha = guest.image_sha256
    if sha is not None and not _SHA256.match(sha):
        fail(t.source, t.path("image_sha256"), f"{sha!r} is not 64 lower-case hex digits")
    if guest.image is not None and not guest.image.startswith("/"):
        fail(
            t.source,
            t.path("image"),
            f"{guest.image!r} is not an absolute path",
            hint="give the image file's absolute path on this machine",
        )
    url = guest.image_url
    if url is not None and not url.startswith(("https://", "http://")):
        fail(t.source, t.path("image_url"), f"{url!r} is not an http(s) URL")
    if url is not None and sha is None:
        fail(
            t.source,
            t.path("image_sha256"),
            f"is required to download {url}: snpapp verifies every image and pins no "
            "checksum for Ubuntu's moving release link",
            hint="take the image's line from SHA256SUMS next to it (ideally of a dated "
            "release-YYYYMMDD/ directory, also set as image_url), or set "
            "image = '/path/to/image.img' for an image you already have",
        )


def _qemu(t: Table, release: ReleasePaths | None) -> QemuSpec:
    default = QemuSpec()
    qemu = QemuSpec(
        binary=t.string("binary", release.qemu if release else default.binary),
        accel=t.choice("accel", Accel, Accel.TCG),
        firmware=t.string("firmware", release.firmware if release else default.firmware),
    )
    t.finish()
    return qemu


def _snp(t: Table) -> SnpSpec:
    snp = SnpSpec(
        policy=t.integer("policy", DEFAULT_SNP_POLICY, minimum=0),
        cbitpos=t.optional_integer("cbitpos", minimum=32, maximum=63),
        reduced_phys_bits=t.integer("reduced_phys_bits", 1, minimum=0, maximum=63),
    )
    t.finish()
    return snp


def _timeouts(t: Table) -> Timeouts:
    timeouts = Timeouts(
        boot_s=t.number("boot_s", 120.0, minimum=1.0),
        workload_s=t.number("workload_s", 600.0, minimum=1.0),
        grace_s=t.number("grace_s", 30.0, minimum=1.0),
    )
    t.finish()
    return timeouts


def _retry(t: Table) -> RetryPolicy:
    retry = RetryPolicy(
        attempts=t.integer("attempts", 3, minimum=1, maximum=20),
        backoff_s=t.number("backoff_s", 2.0, minimum=0.0),
        backoff_max_s=t.number("backoff_max_s", 30.0, minimum=0.0),
    )
    t.finish()
    return retry


def _scenarios(root: Table) -> tuple[Scenario, ...]:
    scenarios = []
    for t in root.array_of_tables("scenarios"):
        scenarios.append(
            Scenario(
                name=t.name_string("name"),
                kind=t.choice("kind", ScenarioKind),
                baseline=t.boolean("baseline", False),
            )
        )
        t.finish()
    return tuple(scenarios)


def _workloads(root: Table) -> tuple[Workload, ...]:
    t = root.table("workloads")
    workloads: list[Workload] = []
    for key in t.names():
        if key not in set(WorkloadKind):
            fail(t.source, t.path(key), f"unknown workload; choose from {_choices(WorkloadKind)}")
        w = t.table(key)
        workloads.append(_workload(WorkloadKind(key), w))
        w.finish()
    t.finish()
    if not workloads:
        fail(t.source, "workloads", "declares no workload", hint="add [workloads.sysbench-cpu]")
    return tuple(workloads)


def _workload(kind: WorkloadKind, t: Table) -> Workload:
    if kind is WorkloadKind.SYSBENCH_CPU:
        return SysbenchCpu(
            max_prime=t.integer("max_prime", 20000, minimum=1),
            time_s=t.optional_integer("time_s", minimum=1),
        )
    if kind is WorkloadKind.SYSBENCH_MEMORY:
        return SysbenchMemory(
            block_size=t.size("block_size", "1M"),
            total_size=t.size("total_size", "10G"),
        )
    tests = t.string_list("tests", PTS_TESTS, choices=PTS_TESTS)
    return PtsSmoke(
        tests=tests,
        iterations=t.integer("iterations", 5, minimum=1),
        timeout_s=t.integer("timeout_s", 7200, minimum=60),
    )


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(repr(e.value) for e in enum)


def _check_consistency(spec: CampaignSpec, source: str) -> None:
    names = [s.name for s in spec.scenarios]
    if len(names) < 2:
        fail(
            source,
            "scenarios",
            "needs at least two scenarios to compare",
            hint="declare a baseline and at least one other [[scenarios]] entry",
        )
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        fail(source, "scenarios", f"scenario name {duplicate!r} is used twice")
    baselines = [i for i, s in enumerate(spec.scenarios) if s.baseline]
    if len(baselines) != 1:
        where = ", ".join(f"scenarios[{i}]" for i in baselines) or "none"
        fail(
            source,
            "scenarios",
            f"needs exactly one baseline scenario (found: {where})",
            hint="set `baseline = true` on exactly one [[scenarios]] entry",
        )
    if spec.emulated and any(s.kind is ScenarioKind.SNP for s in spec.scenarios):
        fail(
            source,
            "campaign.emulated",
            "an emulated profile cannot have an `snp` scenario",
            hint="SNP scenarios need a real SEV-SNP host; use kind 'snp-layout' locally",
        )
    if spec.emulated and spec.qemu.accel is not Accel.TCG:
        fail(source, "qemu.accel", "an emulated profile runs under TCG", hint="set accel = 'tcg'")
    if any(s.kind is ScenarioKind.SNP for s in spec.scenarios) and spec.qemu.accel is Accel.TCG:
        fail(source, "qemu.accel", "SEV-SNP guests need KVM", hint="set accel = 'kvm'")
    pts = any(isinstance(w, PtsSmoke) for w in spec.workloads)
    if pts and spec.guest.kind is not GuestKind.CLOUD:
        fail(
            source,
            "workloads.pts",
            "the Phoronix smoke tests are unsupported on the minimal guest "
            "(it has no phoronix-test-suite or PHP)",
            hint="set kind = 'cloud' in the guest table (the Ubuntu 24.04 image), "
            "or remove the workloads.pts table",
        )
    if pts and not spec.statistical_workloads:
        fail(
            source,
            "workloads",
            "the Phoronix smoke tests run after a scenario's sysbench runs, but none is declared",
            hint="declare the workloads.sysbench-cpu and/or workloads.sysbench-memory table too",
        )
    if spec.emulated and "not an SNP measurement" not in spec.label:
        fail(
            source,
            "campaign.label",
            "an emulated profile must say it is not an SNP measurement",
            hint=f"set label = {EMULATED_LABEL!r}",
        )
