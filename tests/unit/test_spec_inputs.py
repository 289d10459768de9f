"""Specs and stack locks that used to validate and then fail: each is now a clear ConfigError."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign.commands import resolve_spec
from snpappliance.campaign.spec import MAX_RUNS, load_spec, parse_spec
from snpappliance.errors import ConfigError
from snpappliance.formats.names import NAME_RULE
from snpappliance.formats.stack import load_stack, stack_files

if TYPE_CHECKING:
    from pathlib import Path

SPEC = """
[campaign]
name = "t"
{campaign}
[timeouts]
{timeouts}
[[scenarios]]
name = "a"
kind = "plain"
baseline = true
[[scenarios]]
name = "{second}"
kind = "snp-layout"
[workloads.sysbench-cpu]
{cpu}
"""


def _spec(
    *, campaign: str = "", timeouts: str = "", second: str = "b", cpu: str = "", extra: str = ""
) -> str:
    return SPEC.format(campaign=campaign, timeouts=timeouts, second=second, cpu=cpu) + extra


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_spec(text, source="spec.toml")
    return info.value


@pytest.mark.parametrize("key", ["boot_s", "workload_s", "grace_s"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
def test_every_timeout_is_finite(key: str, value: str) -> None:
    message = _error(_spec(timeouts=f"{key} = {value}")).message
    assert message.startswith(f"spec.toml: timeouts.{key}: must be a finite number")


@pytest.mark.parametrize(
    ("table", "line", "where", "bound"),
    [
        ("timeouts", "boot_s = 1e9", "timeouts.boot_s", "at most 86400"),
        ("timeouts", "workload_s = 1e12", "timeouts.workload_s", "at most 86400"),
        ("timeouts", "grace_s = 100000", "timeouts.grace_s", "at most 3600"),
        ("retry", "backoff_s = inf", "retry.backoff_s", "a finite number"),
        ("retry", "backoff_max_s = 1e300", "retry.backoff_max_s", "at most 3600"),
        ("guest", "memory_mib = 999999999999", "guest.memory_mib", "at most 4194304"),
        ("workloads.sysbench-memory", "total_size = '10G'", "", ""),
    ],
)
def test_absurd_values_are_refused_with_their_bound(
    table: str, line: str, where: str, bound: str
) -> None:
    text = _spec(extra=f"[{table}]\n{line}\n") if table != "timeouts" else _spec(timeouts=line)
    if not where:
        parse_spec(text, source="spec.toml")  # a sane value still passes
        return
    message = _error(text).message
    assert f"spec.toml: {where}: must be {bound}" in message


def test_a_sysbench_time_beyond_the_watchdog_is_refused() -> None:
    message = _error(_spec(timeouts="workload_s = 60", cpu="time_s = 600")).message
    assert "workloads.sysbench-cpu.time_s" in message
    assert "timeouts.workload_s" in message


def test_a_billion_repetitions_are_refused() -> None:
    message = _error(_spec(campaign="repetitions = 1000000000")).message
    assert "spec.toml: campaign.repetitions: must be at most 10000" in message


def test_the_planned_run_count_is_bounded() -> None:
    scenarios = "".join(f'[[scenarios]]\nname = "s{i}"\nkind = "plain"\n' for i in range(9))
    text = _spec(campaign="repetitions = 10000", extra=scenarios)
    error = _error(text)
    assert f"plans 110000 runs, more than {MAX_RUNS}" in error.message
    assert error.hint is not None
    assert "repetitions" in error.hint


def test_command_line_overrides_are_held_to_the_same_bounds(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--reps: campaign\.repetitions: must be at most 10000"):
        resolve_spec(profile="local", reps=1_000_000_000)
    with pytest.raises(ConfigError, match=r"^--max-failures: campaign\.max_failures: must be at"):
        resolve_spec(profile="local", max_failures=0)
    wide = tmp_path / "wide.toml"
    scenarios = "".join(f'[[scenarios]]\nname = "s{i}"\nkind = "plain"\n' for i in range(9))
    wide.write_text(_spec(extra=scenarios), encoding="utf-8")
    assert resolve_spec(spec_file=wide, reps=9000).repetitions == 9000
    with pytest.raises(ConfigError, match=r"^--reps: campaign\.repetitions: .* plans 110000 runs"):
        resolve_spec(spec_file=wide, reps=10000)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (_spec().replace('name = "t"', 'name = "../../../escaped-name"'), "campaign.name"),
        (_spec().replace('name = "t"', 'name = "a b"'), "campaign.name"),
        (_spec().replace('name = "t"', 'name = ".hidden"'), "campaign.name"),
        (_spec(second="x/../../y"), "scenarios[1].name"),
        (_spec(campaign='stack = "../../etc"'), "campaign.stack"),
    ],
)
def test_names_that_become_paths_follow_the_one_rule(text: str, where: str) -> None:
    error = _error(text)
    assert error.message.startswith(f"spec.toml: {where}: must be {NAME_RULE}")


def test_an_empty_name_is_refused() -> None:
    message = _error(_spec().replace('name = "t"', 'name = ""')).message
    assert message == "spec.toml: campaign.name: must be a non-empty string, not ''"


def test_a_non_utf8_spec_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(_spec().replace('"t"', '"caf\u00e9"').encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text") as info:
        load_spec(path)
    assert info.value.message.startswith(f"{path}: ")


def test_a_deeply_nested_spec_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(_spec(campaign="seed = " + "[" * 5000 + "]" * 5000), encoding="utf-8")
    with pytest.raises(ConfigError, match="nests too deeply") as info:
        load_spec(path)
    assert info.value.message.startswith(f"{path}: ")


def test_a_nested_value_in_a_bad_place_is_reported_briefly() -> None:
    error = _error(_spec(campaign="seed = " + "[" * 200 + "]" * 200))
    assert "campaign.seed: must be an integer" in error.message
    assert len(error.message) < 200


def test_a_non_utf8_stack_lock_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(stack_files()["genoa-2025"].read_bytes() + b"\n# \xff\xfe\n")
    with pytest.raises(ConfigError, match="is not UTF-8 text") as info:
        load_stack(str(path))
    assert info.value.message.startswith(str(path))


def test_a_deeply_nested_stack_lock_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nests too deeply") as info:
        load_stack(str(path))
    assert info.value.message.startswith(str(path))
