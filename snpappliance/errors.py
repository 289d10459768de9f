"""The one error hierarchy of snpapp.

Every error a user can cause or meet is a :class:`SnpappError`: it carries what
failed (the message), why (``detail``, optional) and what to do (``hint``), and
an exit code unique to its family. Only the CLI edge (:mod:`snpappliance.cli`)
catches them; everything below it only raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


class SnpappError(Exception):
    """Base of every error snpapp reports to the user."""

    exit_code: int = 1
    #: A short label printed before the message ("configuration error", ...).
    label: str = "error"

    def __init__(self, message: str, *, hint: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class UsageError(SnpappError):
    """Bad command-line options or arguments."""

    exit_code = 2
    label = "usage error"


class ConfigError(SnpappError):
    """A spec, stack lock, profile or option value is invalid."""

    exit_code = 3
    label = "configuration error"


class InputError(SnpappError):
    """Input data (results, raw logs) is missing, empty or malformed."""

    exit_code = 4
    label = "input error"


class ParseError(InputError):
    """A raw benchmark log lacks a line it must have."""

    label = "parse error"


class OutputError(SnpappError):
    """An output location cannot be written."""

    exit_code = 5
    label = "output error"


class ToolNotFoundError(SnpappError):
    """An external program snpapp needs is not installed."""

    exit_code = 6
    label = "missing program"


class CommandError(SnpappError):
    """An external command exited unsuccessfully or could not be run."""

    exit_code = 7
    label = "command failed"

    def __init__(
        self,
        message: str,
        *,
        argv: Sequence[str] = (),
        returncode: int | None = None,
        stderr_tail: str = "",
        log_path: str | None = None,
        hint: str | None = None,
    ):
        detail_lines = []
        if stderr_tail:
            detail_lines.append(stderr_tail)
        if log_path:
            detail_lines.append(f"full log: {log_path}")
        super().__init__(message, hint=hint, detail="\n".join(detail_lines) or None)
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        self.log_path = log_path


class CommandTimeoutError(CommandError):
    """An external command ran past its deadline and was killed."""

    label = "command timed out"


class DockerError(SnpappError):
    """The Docker engine is unreachable or refused an operation."""

    exit_code = 8
    label = "docker error"


class BuildError(SnpappError):
    """Building a toolchain image or an artefact failed."""

    exit_code = 9
    label = "build error"


class SourceError(BuildError):
    """A pinned source cannot be fetched or does not match its pin."""

    label = "source error"


class PatchError(BuildError):
    """A patch does not apply."""

    label = "patch error"


class GuestError(SnpappError):
    """A benchmark guest failed to boot, hung, crashed or printed garbage.

    Transient by nature: the campaign runner retries these.
    """

    exit_code = 10
    label = "guest error"


class HostError(SnpappError):
    """A host cannot be reached or used."""

    exit_code = 11
    label = "host error"


class TransportError(HostError):
    """The connection to a host failed in a way that may go away (retried)."""

    label = "connection error"


class ConnectionLostError(TransportError):
    """The connection dropped while a remote command ran: it may have partly run.

    Retried only for commands the caller declares idempotent.
    """

    label = "connection lost"


class AuthenticationError(HostError):
    """SSH authentication or host-key verification failed (never retried)."""

    label = "authentication error"


class PreflightError(SnpappError):
    """A host fails a required SEV-SNP preflight check."""

    exit_code = 12
    label = "preflight failed"


class DeployError(SnpappError):
    """Deploying a release to a host failed."""

    exit_code = 13
    label = "deploy error"


class CampaignError(SnpappError):
    """A campaign cannot start, continue or resume."""

    exit_code = 14
    label = "campaign error"


class ReportError(SnpappError):
    """The report cannot be rendered."""

    exit_code = 15
    label = "report error"


class InterruptedByUser(SnpappError):
    """Ctrl-C: work stopped cleanly."""

    exit_code = 130
    label = "interrupted"
