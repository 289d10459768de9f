"""``snpapp stacks``: the shipped stack lock files and their components."""

from __future__ import annotations

import typer

from snpappliance.cli.app import app
from snpappliance.stacks import DEFAULT_STACK, DebianSource, GitSource, Stack, all_stacks


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


@app.command("stacks")
def stacks() -> None:
    """List the shipped stacks (pinned lock files in stacks/) with their components.

    Build one with `snpapp build all --stack NAME`; the default is genoa-2025.
    """
    for i, stack in enumerate(all_stacks()):
        if i:
            typer.echo("")
        for line in describe_stack(stack):
            typer.echo(line)
