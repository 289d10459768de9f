"""The package's import graph: every module imports alone, nothing imports in a cycle,
and the stages depend on each other in one direction only.

An import cycle only shows when the cycle's module is imported first; the test
suite otherwise imports ``snpappliance.cli`` early and would hide it, so each
module is imported first in a fresh interpreter. The graph tests read the
module-level imports (``TYPE_CHECKING`` blocks and imports inside functions
excluded: those run later, once every module is loaded).
"""

from __future__ import annotations

import ast
import pkgutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import snpappliance
from snpappliance import proc

if TYPE_CHECKING:
    from collections.abc import Iterator

PACKAGE = Path(snpappliance.__file__).parent

#: The shared base: every stage may use these, and they use no stage.
BASE = frozenset({"__init__", "errors", "log", "proc", "fsutil", "resources", "toml"})

#: What each stage may import besides itself and the base. Data flows one way:
#: stack -> artefacts -> release -> campaign directory -> report, each hand-off
#: described in ``formats``. Imports inside functions count too: a deferred
#: import is still a dependency.
ALLOWED: dict[str, frozenset[str]] = {
    "formats": frozenset(),
    "attestation": frozenset({"formats"}),
    "hosts": frozenset(),
    "workloads": frozenset({"formats"}),
    "build": frozenset({"formats"}),
    "doctor": frozenset({"formats", "hosts"}),
    "tuning": frozenset({"formats", "hosts"}),
    "deploy": frozenset({"formats", "hosts", "doctor"}),
    "campaign": frozenset({"formats", "hosts", "workloads", "doctor", "attestation", "tuning"}),
    "importer": frozenset({"formats", "workloads"}),
    "report": frozenset({"formats"}),
}


def _modules() -> list[str]:
    names = ["snpappliance"]
    for info in pkgutil.walk_packages(snpappliance.__path__, "snpappliance."):
        if info.name != "snpappliance.__main__":
            names.append(info.name)
    return names


def _source(module: str) -> Path:
    parts = module.split(".")[1:]
    base = PACKAGE.joinpath(*parts)
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            stack.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body + node.orelse + node.finalbody)


def _all_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _imports(module: str, known: set[str], *, at_import_time: bool) -> set[str]:
    """The snpappliance modules ``module`` imports: when it is imported, or at all."""
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    nodes = _top_level_imports(tree) if at_import_time else _all_imports(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("snpappliance"))
        elif node.module and node.module.startswith("snpappliance"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    found.discard(module)
    return found & known


def _graph(*, at_import_time: bool) -> dict[str, set[str]]:
    known = set(_modules())
    return {m: _imports(m, known, at_import_time=at_import_time) for m in known}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


@pytest.mark.parametrize("module", _modules())
def test_module_imports_first(module: str) -> None:
    result = proc.run([sys.executable, "-c", f"import {module}"], check=False)
    assert result.ok, result.stderr


def test_no_module_imports_in_a_cycle() -> None:
    graph = _graph(at_import_time=True)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_every_stage_is_placed() -> None:
    stages = {_stage(m) for m in _modules()}
    assert stages <= BASE | set(ALLOWED) | {"cli"}, stages - BASE - set(ALLOWED)


def test_stages_import_downwards_only() -> None:
    wrong = []
    for module, imported in _graph(at_import_time=False).items():
        stage = _stage(module)
        if stage == "cli":
            continue
        allowed = BASE | {stage} | (ALLOWED.get(stage, frozenset()))
        wrong += [f"{module} -> {t}" for t in imported if _stage(t) not in allowed]
    assert not wrong, "\n".join(sorted(wrong))
