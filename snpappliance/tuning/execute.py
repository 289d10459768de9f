"""Apply a tuning plan on a host, and put the previous values back.

:func:`tune` reads the settings' files, plans (:func:`~.plan.plan_tune`), saves
the values it is about to change in a JSON file on the host *before* changing
anything, then writes. A second tune keeps the values saved by the first, so
:func:`reset` always restores the host as it was before snpapp touched it;
reset removes the saved file once everything is back, so running it again does
nothing. Writes go through ``host.run`` (with ``sudo -n`` when not root), all
in one shell command; every path is relative to a root directory (``/`` on a
real host, a copy of one in tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from snpappliance.errors import ConfigError, HostError
from snpappliance.tuning.files import read_files, root_prefix
from snpappliance.tuning.plan import TUNE_PATTERNS, TunePlan, Write, plan_tune
from snpappliance.tuning.settings import IRQ_SETTING

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from snpappliance.hosts.base import Host

SAVED_FORMAT = "snpapp-host-tune/1"
SAVED_NAME = "host-tune.json"
ROOT_SAVED_DIR = "/var/lib/snpapp"
USER_SAVED_DIR = ".cache/snpapp"

#: Reads ``path<TAB>value`` lines on stdin, writes each value to ``$1path``, reports each.
WRITE_SCRIPT = r"""
while IFS='	' read -r path value; do
  if err=$( { printf '%s\n' "$value" > "$1$path"; } 2>&1 ); then
    printf 'ok\t%s\n' "$path"
  else
    printf 'failed\t%s\t%s\n' "$path" "$err" | tr -s '\n' ' '; printf '\n'
  fi
done
"""
#: Writes stdin to ``$1`` atomically (temporary file, then rename).
SAVE_SCRIPT = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1.tmp" && mv -f -- "$1.tmp" "$1"'


@dataclass(frozen=True)
class Outcome:
    """What happened to the writes of a tune or a reset."""

    done: tuple[Write, ...]
    #: Writes the kernel refused that do not stop the rest (interrupts it will not move).
    refused: tuple[tuple[Write, str], ...]
    saved_path: str


@dataclass(frozen=True)
class Account:
    """Who writes on the host: ``sudo`` is ``("sudo", "-n")`` when not root."""

    sudo: tuple[str, ...]
    home: str

    def default_saved_path(self) -> str:
        base = ROOT_SAVED_DIR if not self.sudo else f"{self.home}/{USER_SAVED_DIR}"
        return f"{base}/{SAVED_NAME}"


def account(host: Host) -> Account:
    """Root, or a user with passwordless sudo; else a HostError saying what to do."""
    out = host.run(["sh", "-c", 'id -u; printf "%s\\n" "$HOME"'], idempotent=True).stdout
    uid, _, home = out.partition("\n")
    if uid.strip() == "0":
        return Account((), home.strip())
    if not host.run(["sudo", "-n", "true"], check=False, idempotent=True).ok:
        msg = f"changing the settings of {host.name} needs root, and sudo asks for a password"
        raise HostError(
            msg,
            hint="connect as root, or allow this user passwordless sudo (`sudo -n true` "
            "must succeed on the host)",
        )
    return Account(("sudo", "-n"), home.strip())


def _load_saved(host: Host, path: str) -> dict[str, object] | None:
    result = host.run(["cat", path], check=False, idempotent=True)
    if not result.ok:
        return None
    try:
        saved = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        msg = f"the saved settings {path} on {host.name} are not JSON: {exc}"
        raise HostError(msg, hint="restore the settings by hand, then delete the file") from exc
    if not isinstance(saved, dict) or saved.get("format") != SAVED_FORMAT:
        msg = f"{path} on {host.name} is not a file of saved snpapp settings"
        raise HostError(msg, hint="move it away, or give another --saved path")
    return saved


def _saved_values(saved: dict[str, object], root: str, path: str) -> dict[str, str]:
    if saved.get("root") != root:
        msg = f"{path} holds settings saved under root {saved.get('root')}, not {root}"
        raise ConfigError(msg, hint="reset with the root the settings were saved under")
    values = saved.get("values")
    if not isinstance(values, dict):
        msg = f"{path} has no saved values"
        raise HostError(msg, hint="restore the settings by hand, then delete the file")
    return {str(k): str(v) for k, v in values.items()}


def _write(host: Host, who: Account, root: str, writes: Sequence[Write]) -> dict[str, str]:
    """Apply ``writes`` in one command; ``{path: error}`` for those that failed."""
    for w in writes:
        if any(c in w.path + w.value for c in "\t\n"):
            msg = f"cannot write {w.value!r} to {w.path!r}: tabs and newlines are not allowed"
            raise ConfigError(msg, hint="this is a bug in snpapp's settings; report it")
    lines = "".join(f"{w.path}\t{w.value}\n" for w in writes)
    argv = [*who.sudo, "sh", "-c", WRITE_SCRIPT, "sh", root_prefix(root)]
    out = host.run(argv, input=lines, idempotent=True, timeout=120).stdout
    failed: dict[str, str] = {}
    for line in out.splitlines():
        status, _, rest = line.partition("\t")
        if status == "failed":
            path, _, error = rest.partition("\t")
            failed[path] = error.strip()
    return failed


def _outcome(
    host: Host, writes: Sequence[Write], failed: dict[str, str], saved_path: str, action: str
) -> Outcome:
    """Interrupts the kernel will not move are refused; any other failure is an error."""
    refused = tuple((w, failed[w.path]) for w in writes if w.path in failed)
    fatal = [f"{w.path}: {error}" for w, error in refused if w.setting != IRQ_SETTING]
    if fatal:
        msg = f"{action} on {host.name} could not change {len(fatal)} setting(s)"
        raise HostError(
            msg,
            detail="\n".join(fatal),
            hint=f"`snpapp host reset --host {host.name}` restores what was changed "
            f"(the previous values are in {saved_path})",
        )
    done = tuple(w for w in writes if w.path not in failed)
    return Outcome(done, refused, saved_path)


def plan_host(host: Host, *, isolate: Collection[int] = (), root: str = "/") -> TunePlan:
    """The tuning plan for ``host`` as it is now (reads only)."""
    return plan_tune(read_files(host, TUNE_PATTERNS, root=root), isolate=isolate)


def tune(
    host: Host, *, isolate: Collection[int] = (), root: str = "/", saved_path: str | None = None
) -> tuple[TunePlan, Outcome]:
    """Tune ``host``: save the previous values (first tune's win), then write the plan."""
    who = account(host)
    path = saved_path or who.default_saved_path()
    plan = plan_host(host, isolate=isolate, root=root)
    saved = _load_saved(host, path)
    values = {w.path: w.previous for w in plan.writes}
    if saved is not None:
        values.update(_saved_values(saved, root, path))
    if plan.writes:
        document = {"format": SAVED_FORMAT, "host": host.name, "root": root, "values": values}
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
        host.run([*who.sudo, "sh", "-c", SAVE_SCRIPT, "sh", path], input=text, idempotent=True)
    failed = _write(host, who, root, plan.writes)
    return plan, _outcome(host, plan.writes, failed, path, "tune")


def reset(host: Host, *, root: str = "/", saved_path: str | None = None) -> Outcome | None:
    """Restore the values saved by :func:`tune`; None when nothing was saved (already reset)."""
    who = account(host)
    path = saved_path or who.default_saved_path()
    saved = _load_saved(host, path)
    if saved is None:
        return None
    writes = [
        Write("restore" if "/proc/irq/" not in p else IRQ_SETTING, p, v, "")
        for p, v in sorted(_saved_values(saved, root, path).items())
    ]
    failed = _write(host, who, root, writes)
    outcome = _outcome(host, writes, failed, path, "reset")
    host.run([*who.sudo, "rm", "-f", "--", path], idempotent=True)
    return outcome
