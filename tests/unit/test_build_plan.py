"""The build plan is a pure function of stack, components and options."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from snpappliance.build.patches import failing_files
from snpappliance.build.plan import BuildOptions, describe_plan, plan_build
from snpappliance.build.sources import dsc_files
from snpappliance.cli.build import parse_sources
from snpappliance.errors import SourceError, UsageError
from snpappliance.formats.stack import load_stack

if TYPE_CHECKING:
    from tests.conftest import SnpappRunner

DEB = "http://deb.debian.org/debian"


def _options(tmp_path: Path, **kw: Any) -> BuildOptions:
    return BuildOptions(artifacts_root=tmp_path / "artifacts", cache_root=tmp_path / "cache", **kw)


def test_all_orders_dependencies_first(tmp_path: Path) -> None:
    plan = plan_build(load_stack("genoa-2025"), ["all"], _options(tmp_path))
    names = [c.name for c in plan.components]
    assert names == ["kernel", "qemu", "ovmf", "svsm", "guest"]
    assert plan.component("svsm").depends == ("ovmf",)


def test_a_component_pulls_in_its_dependencies_only(tmp_path: Path) -> None:
    plan = plan_build(load_stack("genoa-2025"), ["svsm"], _options(tmp_path))
    assert [c.name for c in plan.components] == ["ovmf", "svsm"]
    plan = plan_build(load_stack("genoa-2025"), ["qemu"], _options(tmp_path))
    assert [c.name for c in plan.components] == ["qemu"]


def test_the_plan_is_deterministic_and_tags_are_content_addressed(tmp_path: Path) -> None:
    stack = load_stack("genoa-2025")
    first = plan_build(stack, ["all"], _options(tmp_path))
    again = plan_build(stack, ["all"], _options(tmp_path))
    assert first == again
    kernel = first.component("kernel")
    assert kernel.image.tag.startswith("snpapp-kernel:genoa-2025-")
    assert kernel.image.build_args["BASE_IMAGE"] == first.base.tag
    assert "gcc-12=12.2.0-14+deb12u1" in kernel.image.build_args["PACKAGES"]
    assert kernel.image.labels["org.snpapp.source"] == "d7b8f8e20813f0179d8ef519541a3527e7661d3a"
    assert kernel.out_dir == tmp_path / "artifacts" / "genoa-2025" / "kernel"
    assert kernel.log_path.name == "build.log"


def test_the_default_base_is_the_pinned_snapshot(tmp_path: Path) -> None:
    base = plan_build(load_stack("genoa-2025"), [], _options(tmp_path)).base
    assert base.mirror == "http://snapshot.debian.org/archive/debian/20261125T120000Z/"
    assert base.reproducible
    assert base.tag.startswith("snpapp-base:bookworm-")
    assert base.labels["org.snpapp.base.reproducible"] == "true"


def test_another_mirror_changes_the_base_tag_and_is_not_reproducible(tmp_path: Path) -> None:
    stack = load_stack("genoa-2025")
    snap = plan_build(stack, [], _options(tmp_path)).base
    deb = plan_build(stack, [], _options(tmp_path, mirror=DEB)).base
    assert deb.tag != snap.tag
    assert deb.mirror == DEB + "/"
    assert not deb.reproducible
    assert deb.labels["org.snpapp.base.mirror"] == DEB + "/"
    assert deb.labels["org.snpapp.base.reproducible"] == "false"


def test_a_changed_dockerfile_changes_only_that_image_tag(tmp_path: Path) -> None:
    stack = load_stack("genoa-2025")
    before = plan_build(stack, ["all"], _options(tmp_path))
    dockerfiles = tmp_path / "Dockerfiles"
    shutil.copytree(stack.dockerfiles_root, dockerfiles)
    (dockerfiles / "qemu" / "Dockerfile").write_text(
        (dockerfiles / "qemu" / "Dockerfile").read_text() + "# changed\n"
    )
    moved = type(stack)(**{**stack.__dict__, "dockerfiles_root": dockerfiles})
    after = plan_build(moved, ["all"], _options(tmp_path))
    changed = [c.name for c in before.components
               if c.image.tag != after.component(c.name).image.tag]  # fmt: skip
    assert changed == ["qemu"]


def test_registry_base_must_be_pinned_by_digest(tmp_path: Path) -> None:
    stack = load_stack("genoa-2025")
    with pytest.raises(UsageError, match="not pinned by digest"):
        plan_build(stack, [], _options(tmp_path, base_image="debian:bookworm"))
    ref = "debian:bookworm@sha256:" + "0" * 64
    plan = plan_build(stack, ["qemu"], _options(tmp_path, base_image=ref))
    assert plan.base.registry_image == ref
    assert plan.component("qemu").image.build_args["BASE_IMAGE"] == ref


def test_local_sources_replace_the_pin_in_the_build_key(tmp_path: Path) -> None:
    stack = load_stack("genoa-2025")
    plan = plan_build(stack, ["kernel"], _options(tmp_path, sources={"kernel": tmp_path}))
    assert plan.component("kernel").local_source == tmp_path.resolve()
    assert plan.component("kernel").key_material["source"] == "local"
    with pytest.raises(UsageError, match="unknown component 'kernal'"):
        plan_build(stack, ["kernel"], _options(tmp_path, sources={"kernal": tmp_path}))


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--jobs"):
        plan_build(load_stack("genoa-2025"), ["all"], _options(tmp_path, jobs=0))


def test_describe_plan_lists_images_sources_patches_and_commands(tmp_path: Path) -> None:
    text = "\n".join(describe_plan(plan_build(load_stack("genoa-2025"), ["svsm"],
                                              _options(tmp_path, mirror=DEB))))  # fmt: skip
    assert "NOT a snapshot: not bit-reproducible" in text
    assert "104ca723cdd6a272f40c31548dd6c05010494c84" in text
    assert "0002-ms-tpm-20-ref-no-werror.patch sha256:" in text
    assert '$ make RELEASE=1 FW_FILE="$DEPS/ovmf/OVMF.fd"' in text
    assert "needs:   ovmf" in text


def test_dry_run_cli_prints_the_plan_without_docker(
    snpapp: SnpappRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    code, out, _ = snpapp("build", "all", "--dry-run", "--stack", "debian-bookworm",
                          "--artifacts", str(tmp_path))  # fmt: skip
    assert code == 0
    assert "stack debian-bookworm: 4 component(s)" in out
    assert "qemu=1:10.0.13+ds-0+deb13u1" in out
    assert not (tmp_path / "debian-bookworm").exists()


def test_stacks_cli_lists_components(snpapp: SnpappRunner) -> None:
    code, out, _ = snpapp("stacks")
    assert code == 0
    assert "genoa-2025 (default)" in out
    assert "svsm    git main (2024-04-29, PR #333) @ 104ca723" in out


def test_parse_sources() -> None:
    assert parse_sources(["kernel=/src/linux"]) == {"kernel": Path("/src/linux")}
    with pytest.raises(UsageError, match="is not COMPONENT=DIR"):
        parse_sources(["kernel"])


def test_dsc_checksums_are_parsed() -> None:
    dsc = (
        "Format: 3.0 (quilt)\nSource: edk2\nChecksums-Sha256:\n"
        " " + "a" * 64 + " 16710140 edk2_2022.11.orig.tar.xz\n"
        " " + "b" * 64 + " 77616 edk2_2022.11-6+deb12u2.debian.tar.xz\n"
        "Files:\n 0123 1 x\n"
    )
    assert dsc_files(dsc) == [
        ("edk2_2022.11.orig.tar.xz", "a" * 64),
        ("edk2_2022.11-6+deb12u2.debian.tar.xz", "b" * 64),
    ]
    with pytest.raises(SourceError, match="no Checksums-Sha256"):
        dsc_files("Format: 3.0\n")


def test_patch_failures_name_the_file() -> None:
    output = (
        "checking file Makefile\n"
        "checking file src/main.c\n"
        "Hunk #1 FAILED at 3.\n"
        "1 out of 1 hunk FAILED\n"
    )
    assert failing_files(output) == ["src/main.c"]
    missing = (
        "can't find file to patch at input line 3\n"
        "|--- a/lib/missing.c\n|+++ b/lib/missing.c\n"
        "No file to patch.  Skipping patch.\n"
    )
    assert failing_files(missing) == ["lib/missing.c"]


def test_build_help_teaches_components_defaults_and_examples(snpapp: SnpappRunner) -> None:
    code, out, _ = snpapp("build", "--help")
    assert code == 0
    for text in ("snpapp build all --dry-run", "snpapp build base --mirror", "SNPAPP_CACHE",
                 "manifest.json", "kernel", "guest"):  # fmt: skip
        assert text in out, text


def test_the_guest_needs_no_source(tmp_path: Path) -> None:
    plan = plan_build(load_stack("debian-bookworm"), ["guest"], _options(tmp_path))
    guest = plan.component("guest")
    assert [c.name for c in plan.components] == ["guest"]
    assert guest.image.context.name == "guest"
    assert guest.image.tag.startswith("snpapp-guest:debian-bookworm-")
    assert "$OUT" in guest.command


def test_options_anchor_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Docker takes a relative bind-mount source for a named volume: the default
    # `--artifacts artifacts` must reach the engine as an absolute path.
    monkeypatch.chdir(tmp_path)
    options = BuildOptions(
        artifacts_root=Path("artifacts"), cache_root=Path("cache"), sources={"qemu": Path("q")}
    )
    assert options.artifacts_root == tmp_path / "artifacts"
    assert options.cache_root == tmp_path / "cache"
    assert options.sources["qemu"] == tmp_path / "q"
