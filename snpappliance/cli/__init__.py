"""The CLI edge: the only place where errors are caught and turned into exit codes.

Each command lives in its own module under :mod:`snpappliance.cli`, registers
itself on :data:`app` and only translates options into a call of a plain
function elsewhere in the package.
"""

from __future__ import annotations

import inspect
import sys
import traceback
from collections.abc import Sequence

import typer
from rich.markup import escape
from typer import rich_utils
from typer._click.exceptions import ClickException  # typer vendors click since 0.29

from snpappliance.cli.app import app, state
from snpappliance.errors import SnpappError
from snpappliance.log import console

# Importing the command modules registers their commands on `app`.
from snpappliance.cli import build as _build  # noqa: F401  isort: skip
from snpappliance.cli import stacks as _stacks  # noqa: F401  isort: skip
from snpappliance.cli import deploy as _deploy  # noqa: F401  isort: skip
from snpappliance.cli import doctor as _doctor  # noqa: F401  isort: skip
from snpappliance.cli import campaign as _campaign  # noqa: F401  isort: skip
from snpappliance.cli import report as _report  # noqa: F401  isort: skip
from snpappliance.cli import import_logs as _import_logs  # noqa: F401  isort: skip

__all__ = ["app", "main", "run_cli"]


def _print_error(exc: SnpappError) -> None:
    # Messages quote user input (TOML sections, paths): never read them as markup.
    console.print(f"[bold red]snpapp: {exc.label}:[/bold red] {escape(exc.message)}")
    if exc.detail:
        for line in exc.detail.splitlines():
            console.print(f"  [dim]│[/dim] {escape(line)}", highlight=False)
    if exc.hint:
        console.print(f"  [yellow]hint:[/yellow] {escape(exc.hint)}")


def reflow_help(text: str) -> str:
    """Join the lines of each prose paragraph so the terminal wraps them once.

    Paragraphs with indented lines (examples, tables) keep their line breaks.
    """
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p if any(line[:1].isspace() for line in p.splitlines()) else " ".join(p.split("\n"))
        for p in paragraphs
    )


def _reflow_tree(command: typer.core.TyperCommand | typer.core.TyperGroup) -> None:
    if command.help:
        command.help = reflow_help(command.help)
    if isinstance(command, typer.core.TyperGroup):
        for sub in command.commands.values():
            if isinstance(sub, typer.core.TyperCommand | typer.core.TyperGroup):
                _reflow_tree(sub)


def run_cli(argv: Sequence[str] | None = None) -> int:
    """Run snpapp with ``argv`` and return its exit code; never raises."""
    command = typer.main.get_command(app)
    if isinstance(command, typer.core.TyperCommand | typer.core.TyperGroup):
        _reflow_tree(command)
    try:
        result = command.main(args=argv, prog_name="snpapp", standalone_mode=False)
    except SnpappError as exc:
        if state.debug:
            console.print(traceback.format_exc(), markup=False, highlight=False)
        _print_error(exc)
        return exc.exit_code
    except ClickException as exc:
        rich_utils.rich_format_error(exc)
        return exc.exit_code
    except typer.Abort:
        console.print("[red]snpapp: interrupted[/red]")
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run_cli())
