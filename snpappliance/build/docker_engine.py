"""The Docker engine, through the ``docker`` Python SDK.

:meth:`Engine.connect` checks that an engine answers (a clear
:class:`DockerError` saying how to start one otherwise). Images are built with
the classic builder (``docker build`` without BuildKit) and imported from root
file system tarballs; every container snpapp starts is removed again when its
``with`` block ends, also on Ctrl-C, unless ``SNPAPP_KEEP_CONTAINER=1``.
Build and run output is streamed to a log file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import docker
import docker.errors
import requests.exceptions
from docker.utils import kwargs_from_env

from snpappliance.errors import BuildError, DockerError, InterruptedByUser
from snpappliance.proc import tail

if TYPE_CHECKING:
    from docker.models.containers import Container

log = logging.getLogger("snpapp.docker")

#: Label put on every container snpapp starts (tests look for leftovers by it).
CONTAINER_LABEL = "org.snpapp.container"
KEEP_ENV = "SNPAPP_KEEP_CONTAINER"
#: Docker Engine API version used (Docker 20.10 and later speak it); fixed rather than
#: negotiated, so an unreachable engine fails in ping() without leaking a socket.
API_VERSION = "1.41"
#: How long a build or log stream may stay silent (a kernel's dpkg-deb step can take minutes).
STREAM_TIMEOUT_S = 6 * 3600

START_HINT = (
    "start the engine: as root `dockerd >/var/log/dockerd.log 2>&1 &` or "
    "`systemctl start docker`; or point DOCKER_HOST at a running engine"
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Mount:
    """A host directory bind-mounted into a container."""

    source: Path
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    container_name: str
    output_tail: str


def keep_containers() -> bool:
    return os.environ.get(KEEP_ENV, "") not in ("", "0")


class Engine:
    """A connected Docker engine plus the containers this process started."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self._started: dict[str, Container] = {}
        self._lock = threading.Lock()
        self._cancelled = threading.Event()

    @classmethod
    def connect(cls) -> Engine:
        """Connect to the engine named by the environment (DOCKER_HOST) or the default socket."""
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if where.startswith("unix://"):
            _probe_unix_socket(where)
        client: docker.DockerClient | None = None
        try:
            client = docker.from_env(version=API_VERSION, timeout=STREAM_TIMEOUT_S)
            client.ping()
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            if client is not None:
                client.close()
            msg = f"the Docker engine at {where} does not answer"
            raise DockerError(
                msg,
                detail=str(exc),
                hint=START_HINT,
            ) from exc
        return cls(client)

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ images

    def image_id(self, tag: str) -> str | None:
        """The id of image ``tag``, or None when the engine does not have it."""
        try:
            return str(self.client.images.get(tag).id)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            msg = f"cannot inspect image {tag}: {exc.explanation}"
            raise DockerError(msg) from exc

    def image_labels(self, tag: str) -> dict[str, str]:
        image = self.client.images.get(tag)
        return dict(image.labels or {})

    def build_image(
        self,
        context: Path,
        tag: str,
        *,
        build_args: Mapping[str, str],
        labels: Mapping[str, str],
        log_file: Path,
        progress: Progress | None = None,
    ) -> str:
        """Build ``context/Dockerfile`` as ``tag`` with the classic builder; return the image id."""
        with log_file.open("a", encoding="utf-8") as fh:
            fh.write(f"+ docker build -t {tag} {context}\n")
            output = _BuildOutput(fh, progress)
            try:
                with _streaming_api() as api:
                    stream = api.build(
                        path=os.fspath(context),
                        tag=tag,
                        buildargs=dict(build_args),
                        labels=dict(labels),
                        rm=True,
                        forcerm=True,
                        pull=False,
                        decode=True,
                    )
                    for chunk in stream:
                        output.feed(str(chunk.get("stream", "")))
                        if "error" in chunk:
                            raise output.failure(tag, str(chunk["error"]).strip(), log_file)
            except requests.exceptions.RequestException as exc:
                msg = f"lost the Docker engine while building image {tag}: {exc}"
                raise DockerError(
                    msg,
                    detail=f"full log: {log_file}",
                    hint="check that dockerd is still running (its log tells why it failed)",
                ) from exc
            except docker.errors.APIError as exc:
                msg = f"the Docker engine refused to build image {tag}: {exc.explanation}"
                raise BuildError(
                    msg,
                    detail=f"full log: {log_file}",
                    hint=_base_hint(str(exc.explanation)),
                ) from exc
        image_id = self.image_id(tag)
        if image_id is None:
            msg = f"building image {tag} finished but the image is missing"
            raise BuildError(msg)
        return image_id

    def import_rootfs(self, tarball: Path, tag: str, *, changes: Sequence[str]) -> str:
        """Import a root file system tarball as image ``tag`` (``docker import``)."""
        repository, _, version = tag.partition(":")
        try:
            self.client.api.import_image_from_file(
                os.fspath(tarball), repository=repository, tag=version, changes=list(changes)
            )
        except docker.errors.APIError as exc:
            msg = f"docker import of {tarball} failed: {exc.explanation}"
            raise DockerError(msg) from exc
        image_id = self.image_id(tag)
        if image_id is None:
            msg = f"docker import of {tarball} did not produce image {tag}"
            raise DockerError(msg)
        return image_id

    # -------------------------------------------------------- containers

    @contextlib.contextmanager
    def container(
        self,
        image: str,
        command: Sequence[str],
        *,
        mounts: Sequence[Mount] = (),
        env: Mapping[str, str] | None = None,
        name_prefix: str = "snpapp",
        workdir: str = "/",
        user: str | None = None,
    ) -> Iterator[Container]:
        """Create and start a container; stop and remove it when the block ends."""
        if self._cancelled.is_set():
            msg = "interrupted: no new container is started"
            raise InterruptedByUser(msg)
        name = f"{name_prefix}-{uuid.uuid4().hex[:8]}"
        volumes = {
            os.fspath(m.source): {"bind": m.target, "mode": "ro" if m.read_only else "rw"}
            for m in mounts
        }
        try:
            container = self.client.containers.create(
                image,
                command=list(command),
                name=name,
                volumes=volumes,
                environment=dict(env or {}),
                working_dir=workdir,
                user=user or "",
                labels={CONTAINER_LABEL: name_prefix},
                detach=True,
            )
        except docker.errors.APIError as exc:
            msg = f"cannot create a container from {image}: {exc.explanation}"
            raise DockerError(msg) from exc
        with self._lock:
            self._started[name] = container
        try:
            if self._cancelled.is_set():  # cancelled while the engine was creating it
                msg = "interrupted: the new container is removed"
                raise InterruptedByUser(msg)
            container.start()
            yield container
        finally:
            self._dispose(name)

    def _dispose(self, name: str) -> None:
        with self._lock:
            container = self._started.pop(name, None)
        if container is None:
            return
        if keep_containers():
            log.warning("keeping container %s (%s is set)", name, KEEP_ENV)
            return
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)

    def cancel(self) -> int:
        """Refuse new containers, remove every container started and still held; count them."""
        self._cancelled.set()
        return self.remove_started()

    def remove_started(self) -> int:
        """Remove every container this engine started and still holds; return how many."""
        with self._lock:
            names = list(self._started)
        for name in names:
            with contextlib.suppress(docker.errors.APIError, requests.exceptions.RequestException):
                self._dispose(name)
        return len(names)

    def run(
        self,
        image: str,
        command: Sequence[str],
        *,
        log_file: Path,
        mounts: Sequence[Mount] = (),
        env: Mapping[str, str] | None = None,
        name_prefix: str = "snpapp",
        workdir: str = "/",
        user: str | None = None,
        progress: Progress | None = None,
    ) -> RunResult:
        """Run ``command`` in a fresh container, streaming its output to ``log_file``."""
        try:
            return self._run(image, command, log_file=log_file, mounts=mounts, env=env,
                             name_prefix=name_prefix, workdir=workdir, user=user,
                             progress=progress)  # fmt: skip
        except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
            msg = f"the Docker engine failed while running a container from {image}: {exc}"
            raise DockerError(
                msg,
                detail=f"full log: {log_file}",
                hint="check that dockerd is still running (its log tells why it failed)",
            ) from exc

    def _run(
        self,
        image: str,
        command: Sequence[str],
        *,
        log_file: Path,
        mounts: Sequence[Mount],
        env: Mapping[str, str] | None,
        name_prefix: str,
        workdir: str,
        user: str | None,
        progress: Progress | None,
    ) -> RunResult:
        last: list[str] = []
        with (
            self.container(
                image, command, mounts=mounts, env=env, name_prefix=name_prefix,
                workdir=workdir, user=user,
            ) as container,
            log_file.open("a", encoding="utf-8") as fh,
            contextlib.closing(container.logs(stream=True, follow=True)) as logs,
        ):  # fmt: skip
            fh.write(f"+ docker run {image} {' '.join(command)}\n")
            pending = ""
            for raw in logs:
                pending += raw.decode("utf-8", errors="replace")
                *complete, pending = pending.split("\n")
                for line in complete:
                    fh.write(line + "\n")
                    last.append(line)
                    if progress is not None and line.strip():
                        progress(line.strip())
                del last[:-50]
                fh.flush()
            if pending:
                fh.write(pending + "\n")
                last.append(pending)
            status = container.wait()
            code = int(status.get("StatusCode", 1))
            fh.write(f"# container {container.name} exited with status {code}\n")
            return RunResult(code, str(container.name), tail("\n".join(last)))


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _BuildOutput:
    """Build output, re-assembled into clean lines (the engine colours stderr per fragment)."""

    def __init__(self, fh: IO[str], progress: Progress | None) -> None:
        self._fh = fh
        self._progress = progress
        self._pending = ""
        self.lines: list[str] = []

    def feed(self, text: str) -> None:
        if not text:
            return
        *complete, self._pending = (self._pending + _ANSI.sub("", text)).split("\n")
        for line in complete:
            self._fh.write(line + "\n")
            self.lines.append(line)
            if self._progress is not None and line.strip():
                self._progress(line.strip())
        del self.lines[:-50]
        self._fh.flush()

    def failure(self, tag: str, message: str, log_file: Path) -> BuildError:
        self.feed("\n")
        self._fh.write(f"ERROR: {message}\n")
        told = [line for line in self.lines if line.startswith("snpapp: ")]
        return BuildError(
            f"building toolchain image {tag} failed: {message.splitlines()[-1]}",
            detail=f"{tail(chr(10).join(self.lines))}\nfull log: {log_file}",
            hint=told[-1].removeprefix("snpapp: ") if told else _base_hint(message),
        )


@contextlib.contextmanager
def _streaming_api() -> Iterator[docker.APIClient]:
    """A low-level client of its own for one streamed request (an image build).

    Closing a client closes only the connections back in its pool. A response
    left half-read (a failed build, Ctrl-C) keeps its connection, which the
    garbage collector would close at some later moment, as a ``ResourceWarning``.
    So every response this client received is closed with it, read or not.
    """
    api = docker.APIClient(version=API_VERSION, timeout=STREAM_TIMEOUT_S, **kwargs_from_env())
    responses: list[requests.Response] = []

    def keep(response: requests.Response, **_hook_kwargs: object) -> None:
        responses.append(response)

    api.hooks["response"].append(keep)
    try:
        yield api
    finally:
        for response in responses:
            response.close()
        api.close()


def _probe_unix_socket(where: str) -> None:
    """Fail early (and without leaking a socket, as the SDK would) when nothing listens."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(10)
            probe.connect(where.removeprefix("unix://"))
    except OSError as exc:
        msg = f"the Docker engine at {where} does not answer"
        raise DockerError(
            msg,
            detail=exc.strerror or str(exc),
            hint=START_HINT,
        ) from exc


def _base_hint(message: str) -> str:
    if (
        "pull access denied" in message
        or "manifest unknown" in message
        or "no such host" in message
    ):
        return (
            "the base image is not available and no registry is reachable: "
            "run `snpapp build base` (debootstrap) first, or pass a reachable "
            "--base-image debian:bookworm@sha256:<digest>"
        )
    return "see the full log; fix the Dockerfile or the pinned package versions"


class ThrottledProgress:
    """Reports the latest output line of a long step at most every ``every_s`` seconds."""

    def __init__(self, emit: Callable[[str, float], None], every_s: float = 20.0) -> None:
        self._emit = emit
        self._every = every_s
        self._start = time.monotonic()
        self._last = self._start

    def __call__(self, line: str) -> None:
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._emit(line, now - self._start)
