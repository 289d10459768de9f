"""Run one command line: the only place where errors are caught and turned into exit codes.

Each command lives in its own module under :mod:`snpappliance.cli`, registers
itself on :data:`~snpappliance.cli.app.app` and only translates options into a
call of a plain function elsewhere in the package. Command modules import their
stage's code inside the command function, so ``--help`` and ``--version`` load
no heavy library.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

import typer
from rich.markup import escape

from snpappliance.cli.app import app, state
from snpappliance.cli.interrupts import Interrupts
from snpappliance.errors import InterruptedByUser, SnpappError
from snpappliance.log import console

# Importing the command modules registers their commands on `app`.
from snpappliance.cli import build as _build  # noqa: F401  isort: skip
from snpappliance.cli import stacks as _stacks  # noqa: F401  isort: skip
from snpappliance.cli import deploy as _deploy  # noqa: F401  isort: skip
from snpappliance.cli import doctor as _doctor  # noqa: F401  isort: skip
from snpappliance.cli import campaign as _campaign  # noqa: F401  isort: skip
from snpappliance.cli import report as _report  # noqa: F401  isort: skip
from snpappliance.cli import import_logs as _import_logs  # noqa: F401  isort: skip

Command = typer.core.TyperCommand | typer.core.TyperGroup

#: `snpapp --help` lists the commands in the order a user meets them: the four
#: steps, then the helpers (typer would list the groups, build and campaign, last).
PIPELINE = ("build", "deploy", "campaign", "report", "doctor", "import", "stacks", "host")


def print_error(exc: SnpappError, interrupts: Interrupts | None = None) -> None:
    """``snpapp: <label>: <message>``, then the detail lines and the hint."""
    label = exc.label
    if isinstance(exc, InterruptedByUser) and interrupts is not None:
        label = interrupts.describe()  # which signal, when one did it
    # Messages quote user input (TOML sections, paths): never read them as markup.
    console.print(f"[bold red]snpapp: {escape(label)}:[/bold red] {escape(exc.message)}")
    if exc.detail:
        for line in exc.detail.splitlines():
            console.print(f"  [dim]│[/dim] {escape(line)}", highlight=False)
    if exc.hint:
        console.print(f"  [yellow]hint:[/yellow] {escape(exc.hint)}")


def print_usage_error(exc: typer.TyperException) -> None:
    """A mistake on the command line: the usage, where help is, and what was wrong."""
    message = exc.format_message()
    if not message:  # no arguments: the help was printed instead
        return
    ctx = getattr(exc, "ctx", None)  # the parser's context, when it got that far
    if ctx is not None:
        console.print(ctx.get_usage(), markup=False, highlight=False)
        console.print(f"Try '{ctx.command_path} --help' for help.", markup=False)
    console.print(f"[bold red]snpapp: usage error:[/bold red] {escape(message)}")


def print_interrupted(command: str, interrupts: Interrupts) -> None:
    """``snpapp doctor: interrupted by SIGTERM``."""
    console.print(f"[red]{escape(command)}: {interrupts.describe()}[/red]")


def reflow_help(text: str) -> str:
    """Join the lines of each prose paragraph so the terminal wraps them once.

    Paragraphs with indented lines (examples, tables) keep their line breaks: they
    are marked with click's ``\\b`` so its help formatter does not rewrap them.
    """
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        f"\b\n{p}"
        if any(line[:1].isspace() for line in p.splitlines())
        else " ".join(p.split("\n"))
        for p in paragraphs
    )


def _reflow_tree(command: Command) -> None:
    if command.help:
        command.help = reflow_help(command.help)
    if isinstance(command, typer.core.TyperGroup):
        for sub in command.commands.values():
            if isinstance(sub, Command):
                _reflow_tree(sub)


class _Argument(typer.core.TyperArgument):
    """An argument whose help names it once, by its placeholder.

    typer writes ``name <type>`` (``results... <list[Path]>``) for an argument;
    snpapp's help writes ``PATH...``, as for the options.
    """

    def display_type_rich(self, ctx: object) -> str | None:  # noqa: ARG002  typer calls it so
        return None

    def _rich_display_name(self) -> str:
        name = self.display_name_raw
        return f"{name}..." if self.nargs != 1 else name


def placeholder(param: typer.core.TyperArgument | typer.core.TyperOption) -> str | None:
    """The value placeholder a help text shows: one spelling per kind of value.

    An explicit ``metavar`` wins; otherwise FILE, DIR or PATH for paths, N for
    numbers, the choices as ``a|b``, TEXT for other strings. On/off flags have none.
    """
    if isinstance(param, typer.core.TyperOption) and (param.is_flag or param.count):
        return None
    if param.metavar:
        return param.metavar
    desc = param.type_descriptor
    annotation = desc.annotation
    if desc.is_list and get_args(annotation):
        annotation = get_args(annotation)[0]
    if desc.choices:
        return "|".join(str(c) for c in desc.choices)
    if desc.is_path or annotation is Path:
        file_ok, dir_ok = desc.parameter_info.file_okay, desc.parameter_info.dir_okay
        return "FILE" if not dir_ok else "DIR" if not file_ok else "PATH"
    if annotation in (int, float):
        return "N"
    return "TEXT"


def _uniform_placeholders(command: Command) -> None:
    for param in command.params:
        if isinstance(param, typer.core.TyperArgument):
            param.metavar = placeholder(param)
            param.__class__ = _Argument
        elif isinstance(param, typer.core.TyperOption) and not param.is_flag:
            param.metavar = placeholder(param)
    if isinstance(command, typer.core.TyperGroup):
        for sub in command.commands.values():
            if isinstance(sub, Command):
                _uniform_placeholders(sub)


def _in_pipeline_order(group: typer.core.TyperGroup) -> list[str]:
    return sorted(
        group.commands, key=lambda n: PIPELINE.index(n) if n in PIPELINE else len(PIPELINE)
    )


def command_path(command: Command, args: Sequence[str]) -> str:
    """The command ``args`` select, as the user would type it: ``snpapp campaign status``."""
    words = ["snpapp"]
    for arg in args:
        if not isinstance(command, typer.core.TyperGroup):
            break
        sub = command.commands.get(arg)
        if isinstance(sub, Command):
            words.append(arg)
            command = sub
    return " ".join(words)


def build_command() -> typer.core.TyperGroup:
    """The ``snpapp`` command tree: help reflowed, placeholders uniform, commands in order."""
    command = typer.main.get_command(app)
    if not isinstance(command, typer.core.TyperGroup):
        msg = f"snpapp is a command group, not a {type(command).__name__}"
        raise TypeError(msg)
    _reflow_tree(command)
    _uniform_placeholders(command)
    command.commands = {name: command.commands[name] for name in _in_pipeline_order(command)}
    return command


#: What typer raises for a command group called without a subcommand: its message
#: is the group's help (typer exports no name for the class).
NO_ARGS_IS_HELP = "NoArgsIsHelpError"


def run(argv: Sequence[str], interrupts: Interrupts) -> int:
    """Run snpapp with ``argv`` and return its exit code; only KeyboardInterrupt escapes.

    ``interrupts`` tells whether a stop signal arrived: the exit code is then
    128 + its number, whatever the command made of the interruption.
    """
    command = build_command()
    try:
        result = command.main(args=list(argv), prog_name="snpapp", standalone_mode=False)
    except SnpappError as exc:
        if state.debug:
            console.print(traceback.format_exc(), markup=False, highlight=False)
        print_error(exc, interrupts)
        return interrupts.exit_code(exc.exit_code)
    except typer.TyperException as exc:
        if type(exc).__name__ == NO_ARGS_IS_HELP:
            typer.echo(exc.format_message(), err=True)  # the group's help: not an error message
        else:
            print_usage_error(exc)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        print_interrupted(command_path(command, argv), interrupts)
        return interrupts.exit_code(130)
    except typer.Exit as exc:
        return exc.exit_code
    if interrupts.signum is not None:
        # typer turns a KeyboardInterrupt inside a command into a silent exit status 130.
        print_interrupted(command_path(command, argv), interrupts)
        return interrupts.exit_code(130)
    return result if isinstance(result, int) else 0
