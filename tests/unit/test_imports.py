"""Every package and top-level module imports on its own, first, in a fresh interpreter.

An import cycle only shows when the cycle's module is imported first; the test
suite otherwise imports ``snpappliance.cli`` early and would hide it.
"""

from __future__ import annotations

import pkgutil
import sys

import pytest

import snpappliance
from snpappliance import proc


def _entry_points() -> list[str]:
    names = ["snpappliance"]
    for info in pkgutil.iter_modules(snpappliance.__path__, "snpappliance."):
        if info.name != "snpappliance.__main__":
            names.append(info.name)
    return names


@pytest.mark.parametrize("module", _entry_points())
def test_module_imports_first(module: str) -> None:
    result = proc.run([sys.executable, "-c", f"import {module}"], check=False)
    assert result.ok, result.stderr
