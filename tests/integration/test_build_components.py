"""Building fixture components for real: git fetch at a SHA, patches, containers, manifests."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from snpappliance.build.commands import Status, artifacts_dir, build_components
from snpappliance.build.docker_engine import CONTAINER_LABEL, Engine
from snpappliance.errors import BuildError, PatchError
from snpappliance.formats.manifest import Manifest, verify
from snpappliance.fsutil import sha256_file
from tests.integration.build_fixtures import FixtureStack, greeting_patch, make_fixture_stack
from tests.integration.conftest import TEST_MIRROR

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.integration, pytest.mark.docker]


@pytest.fixture
def fixture_stack(tmp_path: Path, base_image: str) -> FixtureStack:
    return make_fixture_stack(tmp_path / "stack")


def _build(stack: FixtureStack, tmp_path: Path, components: tuple[str, ...] = ("all",),
           jobs: int = 1) -> dict[str, Status]:  # fmt: skip
    results = build_components(
        str(stack.path), list(components), artifacts_root=tmp_path / "artifacts",
        mirror=TEST_MIRROR, jobs=jobs, cache_root=tmp_path / "cache",
    )  # fmt: skip
    return {r.component: r.status for r in results}


def test_build_publishes_patched_artefacts_with_manifests(
    fixture_stack: FixtureStack, tmp_path: Path, docker_engine: Engine, base_image: str
) -> None:
    assert _build(fixture_stack, tmp_path, jobs=2) == {
        "alpha": Status.BUILT, "beta": Status.BUILT, "bundle": Status.BUILT,
    }  # fmt: skip
    alpha = artifacts_dir("fixture", "alpha", tmp_path / "artifacts")
    # The pinned commit, not the branch tip, with the patch applied.
    assert (alpha / "alpha.txt").read_text() == "hello, snp\n"
    assert (alpha / "arch.txt").read_text().strip() == "x86_64"
    assert (alpha / "build.log").is_file()
    assert alpha.stat().st_mode & 0o777 == 0o755
    assert (alpha / "manifest.json").stat().st_mode & 0o444 == 0o444
    manifest = Manifest.load(alpha)
    assert [f.path for f in manifest.files] == ["alpha.txt", "arch.txt"]
    assert manifest.files[0].sha256 == sha256_file(alpha / "alpha.txt")
    assert verify(alpha, manifest) == []
    assert manifest.source["commit"] == fixture_stack.commit
    assert manifest.source["url"] == f"file://{fixture_stack.repo}"
    patch = fixture_stack.root / "patches/fixture/alpha/0001-greeting.patch"
    assert manifest.patches == ({"file": patch.name, "sha256": sha256_file(patch)},)
    assert manifest.toolchain["deb:bash"]
    assert manifest.toolchain["base_reproducible"] == "false"
    assert manifest.toolchain["base_image_id"] == docker_engine.image_id(base_image)
    assert manifest.build_started <= manifest.build_finished
    image = manifest.toolchain["image"]
    assert docker_engine.image_id(image) == manifest.image_id
    labels = docker_engine.image_labels(image)
    assert labels["org.snpapp.stack"] == "fixture"
    assert labels["org.snpapp.source"] == fixture_stack.commit
    bundle = artifacts_dir("fixture", "bundle", tmp_path / "artifacts")
    text = (bundle / "bundle.txt").read_text()
    assert text.startswith("tool image; pinned packages: none")
    assert text.endswith("hello, snp\n")
    beta = artifacts_dir("fixture", "beta", tmp_path / "artifacts")
    assert (beta / "beta.txt").read_text().strip() == "6"  # "hello\n": beta has no patch


def test_second_build_is_a_cache_hit_and_a_changed_patch_rebuilds_only_its_component(
    fixture_stack: FixtureStack, tmp_path: Path
) -> None:
    _build(fixture_stack, tmp_path)
    alpha = artifacts_dir("fixture", "alpha", tmp_path / "artifacts")
    first = json.loads((alpha / "manifest.json").read_text())
    assert set(_build(fixture_stack, tmp_path).values()) == {Status.CACHED}
    assert json.loads((alpha / "manifest.json").read_text()) == first
    fixture_stack.write_patch(greeting_patch("hello", "hello again"))
    assert _build(fixture_stack, tmp_path) == {
        "alpha": Status.BUILT, "beta": Status.CACHED, "bundle": Status.BUILT,
    }  # fmt: skip
    assert (alpha / "alpha.txt").read_text() == "hello again\n"


def test_a_patch_that_does_not_apply_names_patch_and_file(
    fixture_stack: FixtureStack, tmp_path: Path
) -> None:
    _build(fixture_stack, tmp_path, ("all",))
    alpha = artifacts_dir("fixture", "alpha", tmp_path / "artifacts")
    good = Manifest.load(alpha)
    fixture_stack.write_patch(greeting_patch("goodbye", "hello, snp"))
    with pytest.raises(PatchError) as info:
        _build(fixture_stack, tmp_path)
    assert info.value.message == "patch 0001-greeting.patch does not apply to greeting.txt"
    assert info.value.detail is not None
    assert "0001-greeting.patch" in info.value.detail
    # The complete earlier build is untouched; the failed build's log is kept beside it.
    assert Manifest.load(alpha) == good
    assert (alpha.parent / "alpha.last-attempt.log").is_file()


def test_a_failing_build_command_reports_status_and_log(tmp_path: Path, base_image: str) -> None:
    extra = """
[components.broken]
recipe = "tool"
source = { kind = "none" }
command = 'echo "compiling the broken thing"; exit 3'
"""
    stack = make_fixture_stack(tmp_path / "stack", extra)
    with pytest.raises(BuildError) as info:
        _build(stack, tmp_path, ("broken",))
    log = artifacts_dir("fixture", "broken", tmp_path / "artifacts") / "build.log"
    assert info.value.message == ("building broken failed: the build command exited with status 3")
    assert info.value.detail is not None
    assert "compiling the broken thing" in info.value.detail
    assert f"full log: {log}" in info.value.detail
    assert "compiling the broken thing" in log.read_text()
    assert not (log.parent / "manifest.json").exists()


def test_a_toolchain_image_that_fails_to_build_shows_its_output(
    tmp_path: Path, base_image: str
) -> None:
    stack = make_fixture_stack(tmp_path / "stack")
    dockerfile = stack.root / "Dockerfiles" / "tool" / "Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text()
        + 'RUN echo "fetching"; echo "snpapp: cannot reach the fixture host" >&2; '
        + 'echo "snpapp: offline options: none, it is a test" >&2; exit 7\n'
    )
    with pytest.raises(BuildError) as info:
        _build(stack, tmp_path, ("beta",))
    assert "building toolchain image snpapp-tool:fixture-" in info.value.message
    assert info.value.detail is not None
    assert "\nsnpapp: cannot reach the fixture host\n" in info.value.detail
    assert "\x1b[" not in info.value.detail
    assert info.value.hint == "offline options: none, it is a test"


def test_keep_container_leaves_the_failed_build_container_for_debugging(
    tmp_path: Path, base_image: str, docker_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = """
[components.kept]
recipe = "tool"
source = { kind = "none" }
command = 'touch /build/evidence; exit 4'
"""
    stack = make_fixture_stack(tmp_path / "stack", extra)
    monkeypatch.setenv("SNPAPP_KEEP_CONTAINER", "1")
    with pytest.raises(BuildError, match="exited with status 4"):
        _build(stack, tmp_path, ("kept",))
    kept = docker_engine.client.containers.list(
        all=True, filters={"label": CONTAINER_LABEL, "name": "snpapp-fixture-kept"}
    )
    try:
        assert len(kept) == 1
        assert kept[0].attrs["State"]["ExitCode"] == 4
    finally:
        for container in kept:
            container.remove(force=True)
