"""Write a :class:`CampaignSpec` back as TOML (the frozen ``campaign.toml``)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from snpappliance.campaign.spec import (
    CampaignSpec,
    GuestKind,
    GuestSpec,
    PtsSmoke,
    SysbenchCpu,
    SysbenchMemory,
    Workload,
)

Value = str | int | float | bool | tuple[str, ...] | None


def _value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    # JSON string escaping is valid TOML basic-string escaping.
    return json.dumps(value, ensure_ascii=False)


def _table(header: str, items: Iterable[tuple[str, Value]]) -> list[str]:
    lines = [header]
    lines += [f"{key} = {_value(value)}" for key, value in items if value is not None]
    return [*lines, ""]


def _workload_items(workload: Workload) -> list[tuple[str, Value]]:
    if isinstance(workload, SysbenchCpu):
        return [("max_prime", workload.max_prime), ("time_s", workload.time_s)]
    if isinstance(workload, SysbenchMemory):
        return [("block_size", workload.block_size), ("total_size", workload.total_size)]
    assert isinstance(workload, PtsSmoke)
    return [
        ("tests", workload.tests),
        ("iterations", workload.iterations),
        ("timeout_s", workload.timeout_s),
    ]


def _cloud_items(g: GuestSpec) -> list[tuple[str, Value]]:
    if g.kind is not GuestKind.CLOUD:
        return []
    return [
        ("image", g.image),
        ("image_url", g.image_url),
        ("image_sha256", g.image_sha256),
        ("disk_gib", g.disk_gib),
    ]


def dump_spec(spec: CampaignSpec) -> str:
    """TOML text that :func:`~snpappliance.campaign.spec.parse_spec` reads back to ``spec``."""
    lines = ["# Frozen campaign spec written by snpapp; `snpapp campaign --resume` reads it.", ""]
    lines += _table(
        "[campaign]",
        [
            ("name", spec.name),
            ("label", spec.label),
            ("emulated", spec.emulated),
            ("host", spec.host),
            ("stack", spec.stack),
            ("repetitions", spec.repetitions),
            ("order", spec.order.value),
            ("seed", spec.seed),
            ("max_failures", spec.max_failures),
        ],
    )
    if spec.release_prefix is not None:
        lines += _table("[release]", [("prefix", spec.release_prefix)])
    g = spec.guest
    lines += _table(
        "[guest]",
        [
            ("kind", g.kind.value),
            ("vcpus", g.vcpus),
            ("memory_mib", g.memory_mib),
            ("cpu", g.cpu),
            ("artifacts", g.artifacts),
            *_cloud_items(g),
        ],
    )
    q = spec.qemu
    lines += _table(
        "[qemu]",
        [
            ("binary", q.binary),
            ("accel", q.accel.value),
            ("firmware", q.firmware),
        ],
    )
    s = spec.snp
    lines += _table(
        "[snp]",
        [
            ("policy", s.policy),
            ("cbitpos", s.cbitpos),
            ("reduced_phys_bits", s.reduced_phys_bits),
        ],
    )
    t = spec.timeouts
    lines += _table(
        "[timeouts]",
        [
            ("boot_s", t.boot_s),
            ("workload_s", t.workload_s),
            ("grace_s", t.grace_s),
        ],
    )
    r = spec.retry
    lines += _table(
        "[retry]",
        [
            ("attempts", r.attempts),
            ("backoff_s", r.backoff_s),
            ("backoff_max_s", r.backoff_max_s),
        ],
    )
    for sc in spec.scenarios:
        lines += _table(
            "[[scenarios]]",
            [
                ("name", sc.name),
                ("kind", sc.kind.value),
                ("baseline", sc.baseline),
            ],
        )
    for w in spec.workloads:
        lines += _table(f"[workloads.{w.name}]", _workload_items(w))
    return "\n".join(lines)
