"""Stack lock files: every pin is a full SHA or checksum, every patch matches its hash."""

from __future__ import annotations

import copy
import tomllib
from typing import TYPE_CHECKING, Any

import pytest

from snpappliance.errors import ConfigError
from snpappliance.formats.names import DEFAULT_STACK
from snpappliance.formats.stack import (
    SHA1_RE,
    SHA256_RE,
    DebianSource,
    GitSource,
    all_stacks,
    load_stack,
    parse_stack,
    stack_files,
)
from snpappliance.fsutil import sha256_file

if TYPE_CHECKING:
    from pathlib import Path

SHIPPED = ["debian-bookworm", "genoa-2025", "upstream-2025"]


def test_the_three_stacks_ship_and_the_default_is_genoa_2025() -> None:
    assert sorted(stack_files()) == SHIPPED
    assert DEFAULT_STACK == "genoa-2025"
    assert {s.name for s in all_stacks()} == set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_pin_is_a_full_sha_or_checksum(name: str) -> None:
    stack = load_stack(name)
    for comp in stack.components.values():
        src = comp.source
        if isinstance(src, GitSource):
            assert SHA1_RE.match(src.commit), f"{name}/{comp.name}: {src.commit}"
            assert src.ref, f"{name}/{comp.name} has no tag or branch"
        elif isinstance(src, DebianSource):
            assert SHA256_RE.match(src.dsc_sha256), f"{name}/{comp.name}: {src.dsc_sha256}"
            assert src.version
            assert src.dsc.endswith(".dsc")
        for patch in comp.patches:
            assert SHA256_RE.match(patch.sha256)
        for package, version in comp.packages.items():
            assert version, f"{name}/{comp.name}: {package} has no version"
            assert "*" not in version, f"{name}/{comp.name}: {package} is not pinned"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_patch_file_matches_its_recorded_hash(name: str) -> None:
    stack = load_stack(name)
    on_disk = sorted(p.name for p in stack.patches_root.joinpath(name).rglob("*.patch"))
    recorded = []
    for comp in stack.components.values():
        for patch in comp.patches:
            path = stack.patch_dir(comp.name) / patch.file
            assert path.is_file(), f"{path} is missing"
            assert sha256_file(path) == patch.sha256, f"{path} differs from its pinned hash"
            recorded.append(patch.file)
    assert sorted(recorded) == on_disk, "every shipped patch must be recorded in the stack"


def test_genoa_2025_pins_the_case_study_commits() -> None:
    stack = load_stack("genoa-2025")
    pins = {n: c.source.pin for n, c in stack.components.items()}
    assert pins["kernel"] == "d7b8f8e20813f0179d8ef519541a3527e7661d3a"
    assert pins["qemu"] == "fd1952d814da738ed107e05583b3e02ac11e88ff"
    assert pins["ovmf"] == "3e722403cd16388a0e4044e705a2b34c841d76ca"
    assert pins["svsm"] == "104ca723cdd6a272f40c31548dd6c05010494c84"
    assert stack.component("svsm").build_args["RUST_VERSION"].startswith("1.77")
    assert stack.component("svsm").depends == ("ovmf",)
    assert [p.file for p in stack.component("svsm").patches] == [
        "0001-rust-toolchain-1.77.patch",
        "0002-ms-tpm-20-ref-no-werror.patch",
    ]


def test_upstream_2025_builds_ovmf_from_amdsev_dsc() -> None:
    stack = load_stack("upstream-2025")
    assert stack.component("kernel").source.pin == "adc218676eef25575469234709c2d87185ca223a"
    assert stack.component("qemu").source.pin == "ae35f033b874c627d81d51070187fbf55f0bf1a7"
    assert stack.component("ovmf").source.pin == "0f3867fa6ef0553e26c42f7d71ff6bdb98429742"
    assert "OvmfPkg/AmdSev/AmdSevX64.dsc" in stack.component("ovmf").command


def test_debian_bookworm_uses_only_debian_sources() -> None:
    stack = load_stack("debian-bookworm")
    versions = {}
    for comp in stack.components.values():
        assert not isinstance(comp.source, GitSource), comp.name
        if isinstance(comp.source, DebianSource):
            versions[comp.source.package] = comp.source.version
    assert versions["qemu"] == "1:10.0.13+ds-0+deb13u1"
    assert versions["edk2"] == "2022.11-6+deb12u2"
    assert versions["linux"].startswith("6.12.")
    assert "guest" in stack.components


def test_every_stack_has_the_guest_component() -> None:
    for stack in all_stacks():
        assert stack.component("guest").recipe == "guest"


def _raw(name: str = "genoa-2025") -> dict[str, Any]:
    return tomllib.loads(stack_files()[name].read_text())


def _parse(data: dict[str, Any]) -> None:
    parse_stack(data, stack_files()["genoa-2025"])


def test_unknown_keys_are_named() -> None:
    data = copy.deepcopy(_raw())
    data["components"]["qemu"]["comand"] = "make"
    with pytest.raises(ConfigError, match=r"components\.qemu\.comand: unknown key"):
        _parse(data)


def test_a_short_commit_is_rejected() -> None:
    data = copy.deepcopy(_raw())
    data["components"]["kernel"]["source"]["commit"] = "d7b8f8e2"
    with pytest.raises(
        ConfigError, match=r"components\.kernel\.source\.commit: must be a full 40-hex commit SHA"
    ):
        _parse(data)


def test_a_bad_patch_hash_is_rejected() -> None:
    data = copy.deepcopy(_raw())
    data["components"]["kernel"]["patches"][0]["sha256"] = "abc"
    with pytest.raises(ConfigError, match=r"patches\[0\].*64-hex SHA-256"):
        _parse(data)


def test_unknown_source_kind_and_dependency_are_rejected() -> None:
    data = copy.deepcopy(_raw())
    data["components"]["qemu"]["source"] = {"kind": "tarball"}
    with pytest.raises(
        ConfigError,
        match=r"qemu\.source\.kind: must be one of 'git', 'debian', 'none', not 'tarball'",
    ):
        _parse(data)
    data = copy.deepcopy(_raw())
    data["components"]["svsm"]["depends"] = ["firmware"]
    with pytest.raises(ConfigError, match="depends on unknown component 'firmware'"):
        _parse(data)


def test_dependency_cycles_are_rejected() -> None:
    data = copy.deepcopy(_raw())
    data["components"]["ovmf"]["depends"] = ["svsm"]
    with pytest.raises(ConfigError, match="dependency cycle"):
        _parse(data)


def test_unknown_stack_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown stack 'nope'") as info:
        load_stack("nope")
    assert info.value.hint is not None
    assert "genoa-2025" in info.value.hint
