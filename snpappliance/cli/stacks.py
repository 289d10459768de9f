"""``snpapp stacks``: the shipped stack locks, their components, whether their pins are served."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from snpappliance.cli.app import app
from snpappliance.cli.options import MirrorOption
from snpappliance.errors import SourceError
from snpappliance.formats.manifest import ARTIFACTS_DIR
from snpappliance.formats.names import DEFAULT_STACK
from snpappliance.formats.stack import (
    DebianSource,
    GitSource,
    Stack,
    all_stacks,
    load_stack,
)
from snpappliance.log import console

if TYPE_CHECKING:
    from rich.table import Table

    from snpappliance.build.pincheck import PinCheck


def describe_stack(stack: Stack) -> list[str]:
    default = " (default)" if stack.name == DEFAULT_STACK else ""
    lines = [
        f"{stack.name}{default}: {stack.description}",
        f"  {'base':<7} Debian {stack.base.release} ({stack.base.variant}), "
        f"snapshot.debian.org {stack.base.snapshot}",
    ]
    for comp in stack.components.values():
        src = comp.source
        if isinstance(src, GitSource):
            where = f"git {src.ref} @ {src.commit}"
        elif isinstance(src, DebianSource):
            where = f"debian {src.package} {src.version} ({src.suite})"
        else:
            where = "Debian packages in the toolchain image"
        extra = f", {len(comp.patches)} patch(es)" if comp.patches else ""
        deps = f", needs {', '.join(comp.depends)}" if comp.depends else ""
        lines.append(f"  {comp.name:<7} {where}{extra}{deps}")
    return lines


def check_table(stack: Stack, mirror: str, checks: list[PinCheck]) -> Table:
    from rich.table import Table

    from snpappliance.build.pincheck import PinStatus

    style = {
        PinStatus.OK: "green",
        PinStatus.WARN: "yellow",
        PinStatus.FAIL: "red",
        PinStatus.UNREACHABLE: "red",
    }
    out = Table(title=f"pins of {stack.name} (Debian mirror: {mirror})", title_justify="left")
    for column in ("component", "pin", "status", "detail"):
        out.add_column(column, overflow="fold")
    for c in checks:
        status = f"[{style[c.status]}]{c.status.value.upper()}[/]"
        out.add_row(c.component, f"{c.what}: {c.pin}", status, c.detail)
    return out


def _names(pins: list[tuple[Stack, PinCheck]]) -> str:
    names = ", ".join(f"{s.name}/{c.component} {c.what}" for s, c in pins[:6])
    return names + (" …" if len(pins) > 6 else "")


def _check(stacks: list[Stack], mirror_opt: str | None) -> None:
    # The build stage (and the Docker SDK with it) loads only for --check.
    from snpappliance.build.base import MIRROR_ENV
    from snpappliance.build.commands import choose_mirror, mirror_file
    from snpappliance.build.pincheck import PinStatus, check_stack

    gone: list[tuple[Stack, PinCheck]] = []
    unknown: list[tuple[Stack, PinCheck]] = []
    for stack in stacks:
        remembered = mirror_file(ARTIFACTS_DIR, stack)
        mirror = choose_mirror(mirror_opt, remembered=remembered).url or stack.base.snapshot_mirror
        checks = check_stack(stack, mirror)
        console.print(check_table(stack, mirror, checks))
        gone += [(stack, c) for c in checks if c.status is PinStatus.FAIL]
        unknown += [(stack, c) for c in checks if c.status is PinStatus.UNREACHABLE]
    if gone:
        raise SourceError(
            f"{len(gone)} pin(s) are no longer served: {_names(gone)}"
            + (f"; {len(unknown)} more could not be checked" if unknown else ""),
            hint="give each a new pin in the stack lock (stacks/NAME.toml), or, for Debian "
            "pins, pass a mirror that still has them (the stack's snapshot.debian.org date) "
            "with --mirror URL",
        )
    if unknown:
        msg = (
            f"{len(unknown)} pin(s) could not be checked, their servers did not answer: "
            f"{_names(unknown)}"
        )
        raise SourceError(
            msg,
            hint="check the network, or pass a reachable Debian mirror with --mirror URL "
            f"(or {MIRROR_ENV}=URL)",
        )


@app.command("stacks")
def stacks(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Ask the servers whether every pin is still served (git refs, Debian "
            ".dsc files and their checksums, toolchain package versions); "
            "downloads no source tree. Exit status 9 if any is not.",
        ),
    ] = False,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack", "-s", metavar="NAME", help="Only this stack (name or lock file path)."
        ),
    ] = None,
    mirror: MirrorOption = None,
) -> None:
    """List the shipped stacks (pinned lock files in stacks/) with their components.

    Build one with `snpapp build all --stack NAME`; the default is genoa-2025.

    With --check, snpapp asks each pin's server whether it still serves it:
    Debian drops superseded versions from its pool and tags can move, so a lock
    file that built last month may not fetch today. Run it before a long build,
    or in a lab's CI to learn early that a pin needs renewing.

    Examples:

      snpapp stacks
      snpapp stacks --check --stack genoa-2025
    """
    chosen = [load_stack(stack)] if stack else all_stacks()
    if check:
        _check(chosen, mirror)
        return
    for i, one in enumerate(chosen):
        if i:
            typer.echo("")
        for line in describe_stack(one):
            typer.echo(line)
