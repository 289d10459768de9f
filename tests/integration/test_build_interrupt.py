"""Ctrl-C during a container build stops and removes every container snpapp started."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from snpappliance import proc
from snpappliance.build.docker_engine import CONTAINER_LABEL, Engine
from tests.conftest import wait_for
from tests.integration.build_fixtures import make_fixture_stack
from tests.integration.conftest import TEST_MIRROR

pytestmark = [pytest.mark.integration, pytest.mark.docker]

SLOW = """
[components.sleeper]
recipe = "tool"
source = { kind = "none" }
command = 'echo "sleeper $((6 * 7))"; sleep 300'
"""
REPO = Path(__file__).resolve().parents[2]


def _snpapp_containers(engine: Engine) -> list[str]:
    found = engine.client.containers.list(all=True, filters={"label": CONTAINER_LABEL})
    return [str(c.name) for c in found if str(c.name).startswith("snpapp-fixture-sleeper")]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_removes_the_running_build_container(
    signum: int, tmp_path: Path, base_image: str, docker_engine: Engine
) -> None:
    stack = make_fixture_stack(tmp_path / "stack", SLOW)
    argv = [sys.executable, "-m", "snpappliance", "build", "all", "--stack", str(stack.path),
            "--artifacts", str(tmp_path / "artifacts"), "--mirror", TEST_MIRROR]  # fmt: skip
    env = {"SNPAPP_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    log = tmp_path / "snpapp.log"
    before = set(_snpapp_containers(docker_engine))
    with log.open("wb") as out, proc.spawn(argv, env=env, stdout=out, stderr=out) as child:
        wait_for(lambda: child.poll() is not None or "sleeper 42\n" in _container_log(tmp_path),
                 "the sleeper container's first line", 120, 0.3)  # fmt: skip
        assert child.poll() is None, log.read_text()
        assert len(set(_snpapp_containers(docker_engine)) - before) == 1
        os.kill(child.pid, signum)
        code = child.wait(timeout=60)
    text = log.read_text()
    assert code == 128 + signum, text
    told = " ".join(text.split())  # the console wraps long lines
    assert "build interrupted; stopped and removed 1 build container(s)" in told
    assert set(_snpapp_containers(docker_engine)) - before == set()
    sleeper = tmp_path / "artifacts" / "fixture" / "sleeper"
    assert not (sleeper / "manifest.json").exists()
    assert not list(sleeper.parent.glob(".sleeper.staging-*"))
    assert "sleeper 42\n" in (sleeper / "build.log").read_text()


def _container_log(tmp_path: Path) -> str:
    log = tmp_path / "artifacts" / "fixture" / "sleeper" / "build.log"
    return log.read_text() if log.is_file() else ""
