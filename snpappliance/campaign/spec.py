"""The campaign spec: what to run, where, how often and in which order.

A spec is a TOML file validated once into frozen dataclasses. The model and
every field's type, default, help and checks are declared once, in
:mod:`.specmodel`; :mod:`.specload` reads a file through that description
(every unknown key or bad value named with its TOML path, ``guest.vcpus``,
``scenarios[1].kind``) and :mod:`.specdump` writes a spec back, plain (the
frozen copy a campaign directory keeps; ``load(dump(spec)) == spec``) or
commented (``snpapp campaign init``). This module is the public face of all three.
"""

from __future__ import annotations

from snpappliance.campaign.specload import (
    check_run_count,
    check_spec,
    load_spec,
    parse_spec,
    planned_runs,
    with_overrides,
)
from snpappliance.campaign.specmodel import (
    DEFAULT_DISK_GIB,
    DEFAULT_REPETITIONS,
    DEFAULT_SNP_POLICY,
    EMULATED_LABEL,
    MAX_REPETITIONS,
    MAX_RUNS,
    PTS_TESTS,
    UBUNTU_NOBLE_URL,
    Accel,
    CampaignSpec,
    GuestKind,
    GuestSpec,
    Order,
    PtsSmoke,
    QemuSpec,
    RetryPolicy,
    Scenario,
    ScenarioKind,
    SnpSpec,
    SysbenchCpu,
    SysbenchMemory,
    Timeouts,
    Workload,
    WorkloadKind,
)

__all__ = [
    "DEFAULT_DISK_GIB",
    "DEFAULT_REPETITIONS",
    "DEFAULT_SNP_POLICY",
    "EMULATED_LABEL",
    "MAX_REPETITIONS",
    "MAX_RUNS",
    "PTS_TESTS",
    "UBUNTU_NOBLE_URL",
    "Accel",
    "CampaignSpec",
    "GuestKind",
    "GuestSpec",
    "Order",
    "PtsSmoke",
    "QemuSpec",
    "RetryPolicy",
    "Scenario",
    "ScenarioKind",
    "SnpSpec",
    "SysbenchCpu",
    "SysbenchMemory",
    "Timeouts",
    "Workload",
    "WorkloadKind",
    "check_run_count",
    "check_spec",
    "load_spec",
    "parse_spec",
    "planned_runs",
    "with_overrides",
]
