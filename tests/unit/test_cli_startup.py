"""Start-up of `snpapp`, each case in a fresh interpreter: no heavy library for help, and
an interruption while the modules load ends with one line, not a traceback.

How fast it starts is measured by benchmarks/startup_bench.py, not here.
"""

from __future__ import annotations

import signal
import sys

import pytest

from snpappliance import proc

#: Loaded only by the commands that use them.
HEAVY = ("pandas", "numpy", "scipy", "matplotlib", "weasyprint", "docker", "jinja2")

HELP_EVERYWHERE = """
import contextlib, io, sys
from snpappliance.cli import run_cli
import snpappliance.cli
print("after import:", *sorted(m for m in HEAVY if m in sys.modules))
import typer
from snpappliance.cli.app import app

def walk(command, path):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))

with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    codes = [run_cli(["--version"])]
    codes += [run_cli([*path, "--help"]) for path in walk(typer.main.get_command(app), ())]
print("after help:", *sorted(m for m in HEAVY if m in sys.modules))
print("exit codes:", *sorted(set(codes)))
"""


def test_help_and_version_load_no_heavy_library() -> None:
    code = f"HEAVY = {HEAVY!r}\n{HELP_EVERYWHERE}"
    result = proc.run([sys.executable, "-c", code])
    assert result.stdout.splitlines() == ["after import:", "after help:", "exit codes: 0"]


INTERRUPTED_WHILE_LOADING = """
import importlib.abc, os, sys

class SignalOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "typer":  # the first of the CLI's libraries
            sys.meta_path.remove(self)
            os.kill(os.getpid(), SIGNUM)
        return None

sys.meta_path.insert(0, SignalOnImport())
sys.argv = ["snpapp", "doctor"]
from snpappliance.cli import main
main()
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interruption_while_loading_prints_one_line(signum: signal.Signals) -> None:
    code = f"SIGNUM = {int(signum)}\n{INTERRUPTED_WHILE_LOADING}"
    result = proc.run([sys.executable, "-c", code], check=False)
    assert result.returncode == 128 + signum, result.stderr
    assert result.stderr.splitlines() == [
        f"snpapp: interrupted by {signum.name} while starting; nothing was done"
    ]
    assert result.stdout == ""
