"""The one chokepoint for every external command snpapp runs.

:func:`run` runs a command to completion; :func:`spawn` starts a long-lived one
(a QEMU guest, an sshd) in its own process group and guarantees that the whole
group is killed and reaped on exit. Both log ``+ command`` at debug level, can
tee all output to a log file, and turn failures into typed errors carrying the
command, the exit status and the tail of stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from snpappliance.errors import CommandError, CommandTimeoutError, ToolNotFoundError

log = logging.getLogger("snpapp.proc")

#: How many trailing lines of stderr an error carries.
TAIL_LINES = 20

Argv = Sequence[str | os.PathLike[str]]


@dataclass(frozen=True)
class Completed:
    """The outcome of a finished command."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` non-empty lines of ``text``."""
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def which(program: str, *, hint: str | None = None) -> str:
    """Absolute path of ``program`` on PATH, or a :class:`ToolNotFoundError`."""
    found = shutil.which(program)
    if found is None:
        msg = f"{program} is not installed (not found on PATH)"
        raise ToolNotFoundError(
            msg,
            hint=hint or f"install {program}; on Debian: apt-get install {program}",
        )
    return found


def _argv(argv: Argv) -> tuple[str, ...]:
    return tuple(os.fspath(a) for a in argv)


def _env(env: Mapping[str, str] | None) -> dict[str, str]:
    merged = dict(os.environ)
    # Parsers read English, dot-decimal output.
    merged["LC_ALL"] = "C.UTF-8"
    if env:
        merged.update(env)
    return merged


def _append_log(log_file: Path | None, argv: tuple[str, ...], result: Completed) -> None:
    if log_file is None:
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as fh:
        fh.write(f"+ {shlex.join(argv)}\n")
        if result.stdout:
            fh.write(result.stdout if result.stdout.endswith("\n") else result.stdout + "\n")
        if result.stderr:
            fh.write(result.stderr if result.stderr.endswith("\n") else result.stderr + "\n")
        fh.write(f"# exit status {result.returncode} after {result.duration_s:.2f} s\n")


def _failure_message(argv: tuple[str, ...], returncode: int) -> str:
    name = Path(argv[0]).name
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"{name} was killed by {signal.Signals(-returncode).name}"
    if returncode == 127:
        return f"{name} could not be found or run (exit status 127)"
    return f"{name} failed with exit status {returncode}"


def run(
    argv: Argv,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float | None = None,
    check: bool = True,
    ok_codes: Sequence[int] = (0,),
    log_file: Path | None = None,
    hint: str | None = None,
) -> Completed:
    """Run ``argv`` to completion and capture its output.

    Raises :class:`ToolNotFoundError` if the program does not exist,
    :class:`CommandTimeoutError` past ``timeout`` (the process group is killed),
    and, with ``check``, :class:`CommandError` for an exit status not in ``ok_codes``.
    """
    args = _argv(argv)
    log.debug("+ %s", shlex.join(args))
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=_env(env),
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        msg = f"{args[0]} is not installed (not found on PATH)"
        raise ToolNotFoundError(
            msg,
            hint=hint or f"install {Path(args[0]).name}",
        ) from exc
    try:
        stdout, stderr = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        kill_group(proc)
        stdout, stderr = proc.communicate()
        result = Completed(args, -9, stdout, stderr, time.monotonic() - start)
        _append_log(log_file, args, result)
        msg = f"{Path(args[0]).name} did not finish within {timeout:g} s and was killed"
        raise CommandTimeoutError(
            msg,
            argv=args,
            returncode=None,
            stderr_tail=tail(stderr),
            log_path=os.fspath(log_file) if log_file else None,
            hint=hint,
        ) from exc
    except BaseException:
        kill_group(proc)
        raise
    result = Completed(args, proc.returncode, stdout, stderr, time.monotonic() - start)
    _append_log(log_file, args, result)
    if check and result.returncode not in ok_codes:
        raise CommandError(
            _failure_message(args, result.returncode),
            argv=args,
            returncode=result.returncode,
            stderr_tail=tail(stderr or stdout),
            log_path=os.fspath(log_file) if log_file else None,
            hint=hint or f"the command was: {shlex.join(args)}",
        )
    return result


def kill_group(proc: subprocess.Popen[str] | subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """SIGTERM the process group of ``proc``, SIGKILL it after ``grace_s``; always reap."""
    if proc.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def spawn(
    argv: Argv,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdout: IO[bytes] | int | None = subprocess.PIPE,
    stderr: IO[bytes] | int | None = subprocess.STDOUT,
    stdin: IO[bytes] | int | None = subprocess.DEVNULL,
    grace_s: float = 5.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``argv`` in a new process group; kill and reap the group on exit.

    The caller reads the child's output (binary) and waits for it; whatever
    happens inside the ``with`` block, nothing is left running afterwards.
    """
    args = _argv(argv)
    log.debug("+ %s &", shlex.join(args))
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=_env(env),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        msg = f"{args[0]} is not installed (not found on PATH)"
        raise ToolNotFoundError(
            msg,
            hint=f"install {Path(args[0]).name}",
        ) from exc
    try:
        yield proc
    finally:
        kill_group(proc, grace_s)
        for stream in (proc.stdout, proc.stderr, proc.stdin):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
