"""The command line: ``snpapp`` and its commands, one module per command.

This module stays light on purpose: the stop signals are handled before typer,
rich and the command modules load (:mod:`snpappliance.cli.edge`), so an
interruption during start-up also ends with one line instead of a traceback.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from snpappliance import __version__
from snpappliance.cli.interrupts import stop_signals_interrupt

__all__ = ["main", "run_cli", "version_line"]


def version_line() -> str:
    return f"snpapp {__version__}"


def run_cli(argv: Sequence[str] | None = None) -> int:
    """Run snpapp with ``argv`` (default: the process's arguments); return its exit code.

    Never raises. Ctrl-C, SIGTERM and SIGHUP stop the command the same way and
    give 128 + the signal's number.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:  # answered before typer loads: scripts ask it often
        sys.stdout.write(version_line() + "\n")
        return 0
    with stop_signals_interrupt() as interrupts:
        try:
            from snpappliance.cli.edge import run  # typer, rich and every command's options

            return run(args, interrupts)
        except KeyboardInterrupt:
            # Only while the modules load: `run` handles interruptions of a command.
            sys.stderr.write(f"snpapp: {interrupts.describe()} while starting; nothing was done\n")
            return interrupts.exit_code(130)


def main() -> None:
    """Console-script entry point."""
    code = run_cli()
    # At exit Python collects the garbage among every object still alive: with the
    # report's libraries loaded that walk alone takes 0.4 s after the work is done.
    # Frozen objects are left out of it, and there is nothing left to collect.
    gc.freeze()
    sys.exit(code)
