"""Campaign spec: built-in profiles, round trip, and errors that name their TOML path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign.commands import resolve_spec
from snpappliance.campaign.profiles import profile_names, profile_path
from snpappliance.campaign.spec import (
    EMULATED_LABEL,
    Accel,
    Order,
    ScenarioKind,
    SysbenchCpu,
    SysbenchMemory,
    load_spec,
    parse_spec,
)
from snpappliance.campaign.specdump import dump_spec
from snpappliance.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

MINIMAL = """
[campaign]
name = "t"
[[scenarios]]
name = "a"
kind = "plain"
baseline = true
[[scenarios]]
name = "b"
kind = "snp-layout"
[workloads.sysbench-cpu]
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_spec(text, source="spec.toml")
    return info.value.message


def test_builtin_profiles_load_and_round_trip() -> None:
    assert profile_names() == ["genoa", "local"]
    for name in profile_names():
        spec = load_spec(profile_path(name))
        assert parse_spec(dump_spec(spec), source="dump") == spec


def test_local_profile_is_labelled_emulated() -> None:
    spec = load_spec(profile_path("local"))
    assert spec.emulated is True
    assert spec.label == EMULATED_LABEL
    assert spec.qemu.accel is Accel.TCG
    assert [(s.name, s.kind) for s in spec.scenarios] == [
        ("baseline", ScenarioKind.PLAIN),
        ("snp-layout", ScenarioKind.SNP_LAYOUT),
    ]
    assert spec.baseline.name == "baseline"


def test_genoa_profile_is_the_case_study_design() -> None:
    spec = load_spec(profile_path("genoa"))
    assert spec.repetitions == 20
    assert spec.order is Order.INTERLEAVED
    assert spec.snp.policy == 0x30000
    assert spec.qemu.accel is Accel.KVM
    assert [s.kind for s in spec.scenarios] == [ScenarioKind.SNP_LAYOUT, ScenarioKind.SNP]
    assert spec.workloads[:2] == (SysbenchCpu(max_prime=20000), SysbenchMemory("1M", "10G"))
    assert spec.run_workloads[2:] == (
        "fio",
        "iperf3",
        "boot-2048mib",
        "boot-8192mib",
        "boot-32768mib",
    )


def test_defaults_of_a_minimal_spec() -> None:
    spec = parse_spec(MINIMAL, source="spec.toml")
    assert spec.repetitions == 20
    assert spec.order is Order.INTERLEAVED
    assert spec.retry.attempts == 3
    assert spec.workloads == (SysbenchCpu(max_prime=20000, time_s=None),)


def test_unknown_key_is_named_with_its_path() -> None:
    message = _error(MINIMAL.replace('name = "t"', 'name = "t"\nrepetitons = 3'))
    assert message == "spec.toml: campaign.repetitons: unknown key"


def test_unknown_key_in_a_scenario() -> None:
    message = _error(MINIMAL.replace('kind = "snp-layout"', 'kind = "snp-layout"\ncolour = 1'))
    assert message == "spec.toml: scenarios[1].colour: unknown key"


def test_unknown_workload() -> None:
    assert "workloads.netperf: unknown workload" in _error(MINIMAL + "[workloads.netperf]\n")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('kind = "snp-layout"', 'kind = "tdx"', "scenarios[1].kind: must be one of"),
        ('name = "t"', 'name = "t"\nrepetitions = 0', "campaign.repetitions: must be at least 1"),
        ('name = "t"', 'name = "t"\nrepetitions = "5"', "campaign.repetitions: must be an integer"),
        ('name = "t"', 'name = "t"\norder = "random"', "campaign.order: must be one of"),
        (
            "[workloads.sysbench-cpu]",
            "[workloads.sysbench-memory]\nblock_size = '1 MB'",
            "workloads.sysbench-memory.block_size: must be a size",
        ),
    ],
)
def test_bad_values(old: str, new: str, expected: str) -> None:
    assert expected in _error(MINIMAL.replace(old, new))


def test_no_baseline() -> None:
    message = _error(MINIMAL.replace("baseline = true", ""))
    assert "needs exactly one baseline scenario (found: none)" in message


def test_two_baselines() -> None:
    message = _error(MINIMAL.replace('kind = "snp-layout"', 'kind = "snp-layout"\nbaseline = true'))
    assert "found: scenarios[0], scenarios[1]" in message


def test_duplicate_scenario_names() -> None:
    assert "'a' is used twice" in _error(MINIMAL.replace('name = "b"', 'name = "a"'))


def test_snp_scenario_needs_kvm() -> None:
    assert "qemu.accel: SEV-SNP guests need KVM" in _error(MINIMAL.replace('"snp-layout"', '"snp"'))


def test_emulated_profile_must_be_labelled() -> None:
    message = _error(MINIMAL.replace('name = "t"', 'name = "t"\nemulated = true'))
    assert "campaign.label" in message


def test_pts_is_validated_then_refused_on_the_minimal_guest() -> None:
    bad = _error(MINIMAL + '[workloads.pts]\ntests = ["doom"]\n')
    assert "workloads.pts.tests: must be one of" in bad
    refused = _error(MINIMAL + "[workloads.pts]\niterations = 5\n")
    assert "workloads.pts: the Phoronix smoke tests are unsupported on the minimal guest" in refused


def test_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("[campaign\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_spec(path)


def test_overrides_and_conflicting_sources(tmp_path: Path) -> None:
    spec = resolve_spec(profile="local", reps=3, seed=11, max_failures=2)
    assert (spec.repetitions, spec.seed, spec.max_failures) == (3, 11, 2)
    with pytest.raises(Exception, match="either --profile or --spec"):
        resolve_spec(profile="local", spec_file=tmp_path / "x.toml")
