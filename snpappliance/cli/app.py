"""The typer application object and the global options every command shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from snpappliance.cli import version_line
from snpappliance.log import setup_logging

HELP = """\
snpapp measures what AMD SEV-SNP costs, end to end, in four steps:

  snpapp build all                build pinned toolchains and artefacts
                                  (kernel, QEMU, OVMF, SVSM)
  snpapp deploy --host genoa01    install a built release on a host over SSH
  snpapp campaign                 run the benchmark campaign (a fresh guest
                                  per run, SNP off vs on)
  snpapp report                   render the statistics and the PDF report

With no SNP host at hand, `snpapp campaign` runs the built-in `local` profile: \
a real guest under QEMU TCG emulation, labelled everywhere as a local emulated profile, \
never as an SNP measurement.

Run any command with --help to learn its options.
"""

app = typer.Typer(
    name="snpapp",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class CliState:
    """Global flags set by the top-level callback (the CLI edge reads ``debug``)."""

    debug: bool = False


state = CliState()


def _version(value: bool) -> None:
    if value:
        typer.echo(version_line())
        raise typer.Exit()


def _help(ctx: typer.Context, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        typer.echo(ctx.get_help(), color=ctx.color)
        raise typer.Exit()


#: A group's -h/--help, declared here instead of left to typer. typer 0.29 passes
#: the absent help flag of a group (None) through its pydantic coercion whenever a
#: subcommand runs: that import alone would double the start-up of `snpapp doctor
#: --help`. Declared with the default False, the flag stays a plain bool.
HelpOption = Annotated[
    bool,
    typer.Option(
        "--help",
        "-h",
        callback=_help,
        is_eager=True,
        expose_value=False,
        help="Show this message and exit.",
    ),
]


@app.callback()
def _global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Log every external command and show tracebacks.")
    ] = False,
    version: Annotated[  # noqa: ARG001  handled by its eager callback
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    help_: HelpOption = False,  # noqa: ARG001  handled by its eager callback
) -> None:
    state.debug = debug
    setup_logging(debug=debug)


from snpappliance.cli.host import host_app  # noqa: E402  registers the `host` group

app.add_typer(host_app, name="host")
