"""The Docker engine wrapper against a real engine: no connection outlives its use.

An image build streams its output over a connection of its own. Left open
(a build that fails mid-stream, a caller that stops reading), the socket is
only closed by the garbage collector, much later, as a ``ResourceWarning``
that the test suite turns into a failure of whichever test happens to run then.
"""

from __future__ import annotations

import gc
import uuid
import warnings
from typing import TYPE_CHECKING

import pytest

from snpappliance.build.docker_engine import Engine
from snpappliance.errors import BuildError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = [pytest.mark.integration, pytest.mark.docker]


@pytest.fixture
def scratch_tag(docker_engine: Engine) -> Iterator[str]:
    """A tag no image has yet; whatever gets built under it is removed afterwards."""
    tag = f"snpapp-test-engine:{uuid.uuid4().hex[:12]}"
    yield tag
    if docker_engine.image_id(tag) is not None:
        docker_engine.client.images.remove(tag, force=True)


def _context(root: Path, base_image: str, run: str) -> Path:
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {base_image}\nRUN {run}\n", encoding="utf-8")
    return root


def _keep_in_a_cycle(exc: BaseException) -> None:
    """Tie ``exc`` to a frame of its own traceback, as re-raising a stored build error does.

    Only the cycle collector frees it then, and the order in which it finalises
    the stream's objects is arbitrary: a socket still open is reported unclosed.
    """
    holder = [exc]
    try:
        raise exc
    except type(exc):
        assert holder


def _unclosed_sockets(action: Callable[[Engine], None]) -> list[str]:
    """Run ``action`` on a fresh engine, close it; the sockets collected unclosed afterwards."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        engine = Engine.connect()
        try:
            action(engine)
        finally:
            engine.close()
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_a_build_that_fails_mid_stream_leaves_no_socket_open(
    tmp_path: Path, base_image: str, scratch_tag: str
) -> None:
    context = _context(tmp_path / "ctx", base_image, 'echo "snpapp: broken on purpose" >&2; exit 7')
    hints: list[str | None] = []

    def build(engine: Engine) -> None:
        try:
            engine.build_image(
                context, scratch_tag, build_args={}, labels={}, log_file=tmp_path / "build.log"
            )
        except BuildError as exc:
            _keep_in_a_cycle(exc)
            hints.append(exc.hint)

    assert _unclosed_sockets(build) == []
    assert hints == ["broken on purpose"]


class _StopReading(Exception):
    """Raised by a progress callback to abandon a build stream half-way."""


def test_a_build_abandoned_half_way_leaves_no_socket_open(
    tmp_path: Path, base_image: str, scratch_tag: str
) -> None:
    context = _context(tmp_path / "ctx", base_image, "echo first; sleep 2; echo second")
    seen: list[str] = []

    def stop_reading(line: str) -> None:
        seen.append(line)
        raise _StopReading

    def build(engine: Engine) -> None:
        try:
            engine.build_image(
                context, scratch_tag, build_args={}, labels={}, log_file=tmp_path / "build.log",
                progress=stop_reading,
            )  # fmt: skip
        except _StopReading as exc:
            _keep_in_a_cycle(exc)

    assert _unclosed_sockets(build) == []
    assert len(seen) == 1


def test_a_successful_build_leaves_no_socket_open(
    tmp_path: Path, base_image: str, scratch_tag: str, docker_engine: Engine
) -> None:
    context = _context(tmp_path / "ctx", base_image, "echo built > /built")
    ids: list[str] = []

    def build(engine: Engine) -> None:
        ids.append(
            engine.build_image(
                context, scratch_tag, build_args={}, labels={}, log_file=tmp_path / "build.log"
            )
        )

    assert _unclosed_sockets(build) == []
    assert ids == [docker_engine.image_id(scratch_tag)]
