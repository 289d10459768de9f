"""Reading a campaign spec: TOML → the frozen model of :mod:`.specmodel`.

Every key is read through its field's rule (type, bounds, check) and every
table rejects keys it does not know, so each problem is named with its TOML
path. What one field cannot judge alone (one baseline, SNP needs KVM, the
planned run count, the cloud guest's image) is checked here afterwards.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from snpappliance.campaign.specmodel import (
    EMULATED_LABEL,
    MAX_RUNS,
    UBUNTU_NOBLE_URL,
    WORKLOADS,
    Accel,
    BootSweep,
    CampaignSpec,
    FioJob,
    FioWorkload,
    GuestKind,
    GuestSpec,
    Iperf3Workload,
    NetworkKind,
    PtsSmoke,
    QemuSpec,
    ReleaseTable,
    RetryPolicy,
    Scenario,
    ScenarioKind,
    SnpSpec,
    SysbenchCpu,
    Timeouts,
    Workload,
    WorkloadKind,
    boot_workload,
    size_bytes,
)
from snpappliance.formats.release import ReleasePaths, current_release
from snpappliance.toml import (
    Table,
    fail,
    parse_toml,
    read_fields,
    read_toml,
    setting,
    settings,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

HINT = "fix the spec; `snpapp campaign init` writes a commented example"


def load_spec(path: Path) -> CampaignSpec:
    """Read and validate a spec file."""
    return _spec(Table(read_toml(path, hint=HINT), str(path), "", hint=HINT))


def parse_spec(text: str, *, source: str) -> CampaignSpec:
    """Validate spec text; ``source`` names it in error messages."""
    return _spec(Table(parse_toml(text, source, hint=HINT), source, "", hint=HINT))


def planned_runs(spec: CampaignSpec, hosts: int = 1) -> int:
    """How many runs ``spec`` plans on ``hosts`` hosts (smoke runs included)."""
    per_scenario = len(spec.run_workloads) * spec.repetitions + (
        len(spec.workloads) - len(spec.statistical_workloads)
    )
    return len(spec.scenarios) * per_scenario * hosts


def check_run_count(spec: CampaignSpec, *, source: str, hosts: int = 1) -> None:
    """Refuse a spec that plans more than :data:`MAX_RUNS` runs."""
    runs = planned_runs(spec, hosts)
    if runs > MAX_RUNS:
        on = f" on {hosts} hosts" if hosts > 1 else ""
        fail(
            source,
            "campaign.repetitions",
            f"{len(spec.scenarios)} scenarios × {len(spec.run_workloads)} workloads × "
            f"{spec.repetitions} repetitions{on} plans {runs} runs, more than {MAX_RUNS}",
            hint="lower repetitions, or split the design into several campaigns",
        )


def with_overrides(spec: CampaignSpec, changes: Mapping[str, Any], *, source: str) -> CampaignSpec:
    """``spec`` with [campaign] values replaced (command-line options), held to the same rules."""
    table = Table(changes, source, "campaign")
    values = {name: table.value(setting(CampaignSpec, name)) for name in table.names()}
    changed = replace(spec, **values)
    check_spec(changed, source)
    return changed


def _spec(root: Table) -> CampaignSpec:
    campaign = root.table("campaign")
    release_t = root.table("release", required=False)
    prefix = ReleaseTable(**read_fields(release_t, ReleaseTable)).prefix
    release_t.finish()
    release = current_release(prefix) if prefix else None
    spec = CampaignSpec(
        **read_fields(campaign, CampaignSpec),
        release_prefix=prefix,
        guest=_guest(root.table("guest", required=False), release),
        qemu=_section(root.table("qemu", required=False), QemuSpec, _qemu_defaults(release)),
        snp=_section(root.table("snp", required=False), SnpSpec),
        timeouts=_section(root.table("timeouts", required=False), Timeouts),
        retry=_section(root.table("retry", required=False), RetryPolicy),
        scenarios=tuple(_section(t, Scenario) for t in root.array_of_tables("scenarios")),
        workloads=_workloads(root.table("workloads")),
    )
    campaign.finish()
    root.finish()
    check_spec(spec, root.source)
    return spec


def _section(t: Table, cls: type[Any], defaults: Mapping[str, Any] | None = None) -> Any:
    value = cls(**read_fields(t, cls, defaults))
    t.finish()
    return value


def _qemu_defaults(release: ReleasePaths | None) -> dict[str, str]:
    return {"binary": release.qemu, "firmware": release.firmware} if release else {}


def _guest(t: Table, release: ReleasePaths | None) -> GuestSpec:
    kind = t.value(setting(GuestSpec, "kind"))
    cloud = kind is GuestKind.CLOUD
    for key in t.names():
        only = next((s.rule.only for s in settings(GuestSpec) if s.name == key), "")
        if only and only != kind.value:
            t.fail(
                key,
                f"applies to the {only} guest only",
                hint=f"set kind = '{only}' or remove it"
                if only == "cloud"
                else "the cloud guest boots guest.image or guest.image_url",
            )
    defaults: dict[str, Any] = {}
    if cloud and not t.has("image"):
        defaults["image_url"] = UBUNTU_NOBLE_URL
    if not cloud and release is not None:
        defaults["artifacts"] = release.guest
    guest: GuestSpec = _section(t, GuestSpec, defaults)
    if cloud:
        _check_image(t, guest)
    return guest


def _check_image(t: Table, guest: GuestSpec) -> None:
    if guest.image is not None and t.has("image_url"):
        t.fail("image_url", "and guest.image exclude each other", hint="keep one of them")
    if guest.image_url is not None and guest.image_sha256 is None:
        t.fail(
            "image_sha256",
            f"is required to download {guest.image_url}: snpapp verifies every image and "
            "pins no checksum for Ubuntu's moving release link",
            hint="take the image's line from SHA256SUMS next to it (ideally of a dated "
            "release-YYYYMMDD/ directory, also set as image_url), or set "
            "image = '/path/to/image.img' for an image you already have",
        )


def _workloads(t: Table) -> tuple[Workload, ...]:
    workloads: list[Workload] = []
    for key in t.names():
        if key not in set(WorkloadKind):
            choices = ", ".join(repr(k.value) for k in WorkloadKind)
            t.fail(key, f"unknown workload; choose from {choices}")
        cls, _ = WORKLOADS[WorkloadKind(key)]
        table = t.table(key)
        if cls is FioWorkload:
            jobs = tuple(_section(j, FioJob) for j in table.array_of_tables("jobs"))
            workloads.append(FioWorkload(jobs=jobs, **read_fields(table, FioWorkload)))
            table.finish()
        else:
            workloads.append(_section(table, cls))
    t.finish()
    if not workloads:
        t.fail("", "declares no workload", hint="add [workloads.sysbench-cpu]")
    # One order whatever the file's: the plan and the frozen dump follow it.
    order = list(WorkloadKind)
    return tuple(sorted(workloads, key=lambda w: order.index(WorkloadKind(w.name))))


def check_spec(spec: CampaignSpec, source: str) -> None:
    """What no single key can judge: the scenarios, SNP and KVM, labels, the run count."""
    _check_scenarios(spec, source)
    _check_platform(spec, source)
    _check_workloads(spec, source)
    check_run_count(spec, source=source)


def _check_scenarios(spec: CampaignSpec, source: str) -> None:
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
        fail(source, "scenarios", f"scenario name {duplicate!r} is used twice", hint=HINT)
    baselines = [i for i, s in enumerate(spec.scenarios) if s.baseline]
    if len(baselines) != 1:
        where = ", ".join(f"scenarios[{i}]" for i in baselines) or "none"
        fail(
            source,
            "scenarios",
            f"needs exactly one baseline scenario (found: {where})",
            hint="set `baseline = true` on exactly one [[scenarios]] entry",
        )


def _check_platform(spec: CampaignSpec, source: str) -> None:
    snp = any(s.kind is ScenarioKind.SNP for s in spec.scenarios)
    if spec.emulated and snp:
        fail(
            source,
            "campaign.emulated",
            "an emulated profile cannot have an `snp` scenario",
            hint="SNP scenarios need a real SEV-SNP host; use kind 'snp-layout' locally",
        )
    if spec.emulated and spec.qemu.accel is not Accel.TCG:
        fail(source, "qemu.accel", "an emulated profile runs under TCG", hint="set accel = 'tcg'")
    if snp and spec.qemu.accel is Accel.TCG:
        fail(source, "qemu.accel", "SEV-SNP guests need KVM", hint="set accel = 'kvm'")
    if spec.emulated and "not an SNP measurement" not in spec.label:
        fail(
            source,
            "campaign.label",
            "an emulated profile must say it is not an SNP measurement",
            hint=f"set label = {EMULATED_LABEL!r}",
        )


def _check_workloads(spec: CampaignSpec, source: str) -> None:
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
    _check_io_workloads(spec, source)
    cpu = next((w for w in spec.workloads if isinstance(w, SysbenchCpu)), None)
    if cpu is not None and cpu.time_s is not None and cpu.time_s >= spec.timeouts.workload_s:
        fail(
            source,
            "workloads.sysbench-cpu.time_s",
            f"{cpu.time_s} s does not end before the guest's watchdog "
            f"(timeouts.workload_s = {spec.timeouts.workload_s:g} s)",
            hint="lower time_s or raise timeouts.workload_s",
        )


def _check_io_workloads(spec: CampaignSpec, source: str) -> None:
    """fio jobs fit their disk and the watchdog, names stay apart, iperf3 is set up."""
    taken = {*spec.run_workloads, boot_workload(spec.guest.memory_mib)}
    sweep = next((w for w in spec.workloads if isinstance(w, BootSweep)), None)
    if sweep is not None and not sweep.memory_mib:
        fail(
            source,
            "workloads.boot.memory_mib",
            "lists no memory size (every run records boot_s and kernel_boot_s anyway)",
            hint="list sizes such as memory_mib = [2048, 8192], or remove the table",
        )
    fio = next((w for w in spec.workloads if isinstance(w, FioWorkload)), None)
    if fio is not None:
        _check_fio(fio, taken, spec.timeouts.workload_s, source)
    iperf = next((w for w in spec.workloads if isinstance(w, Iperf3Workload)), None)
    if iperf is not None:
        _check_iperf3(iperf, spec, source)


def _check_fio(fio: FioWorkload, taken: set[str], watchdog_s: float, source: str) -> None:
    if not fio.jobs:
        fail(source, "workloads.fio.jobs", "declares no job", hint="add a [[workloads.fio.jobs]]")
    names = [j.name for j in fio.jobs]
    for i, job in enumerate(fio.jobs):
        where = f"workloads.fio.jobs[{i}]"
        if job.name in names[:i] or job.name in taken:
            fail(
                source,
                f"{where}.name",
                f"{job.name!r} names another job or workload",
                hint="give every fio job a name of its own",
            )
        if size_bytes(job.size) > size_bytes(fio.disk_size):
            fail(
                source,
                f"{where}.size",
                f"{job.size} does not fit the disk (workloads.fio.disk_size = {fio.disk_size})",
                hint="lower size or raise disk_size",
            )
    total = sum(j.runtime_s for j in fio.jobs)
    if total >= watchdog_s:
        fail(
            source,
            "workloads.fio.jobs",
            f"the jobs run {total} s in all, not less than the guest's watchdog "
            f"(timeouts.workload_s = {watchdog_s:g} s)",
            hint="lower runtime_s or raise timeouts.workload_s",
        )


def _check_iperf3(iperf: Iperf3Workload, spec: CampaignSpec, source: str) -> None:
    bridged = iperf.network is NetworkKind.BRIDGE
    for key in ("bridge", "host_address", "guest_address"):
        given = getattr(iperf, key) is not None
        if given != bridged:
            problem = "is required with" if bridged else "applies only to"
            fail(
                source,
                f"workloads.iperf3.{key}",
                f"{problem} network = 'bridge'",
                hint="set network, bridge, host_address and guest_address together",
            )
    if iperf.duration_s >= spec.timeouts.workload_s:
        fail(
            source,
            "workloads.iperf3.duration_s",
            f"{iperf.duration_s} s does not end before the guest's watchdog "
            f"(timeouts.workload_s = {spec.timeouts.workload_s:g} s)",
            hint="lower duration_s or raise timeouts.workload_s",
        )
