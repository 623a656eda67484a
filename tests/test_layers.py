"""lgbench's packages form layers: each imports only from the layers below it, never in a cycle.

Read from the source with :mod:`ast` (nothing is imported), every ``import`` counts, also one
inside a function: moving an import into a function hides a cycle from Python, not from the
design. Imports under ``if TYPE_CHECKING:`` are left out: they never run. Besides the order,
no package reaches into another's private modules (``lgbench.workload._duration``): what
packages share lives in the leaf ``lgbench._toml`` and is imported from its ``__init__``.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lgbench"

#: Bottom to top. ``lgbench`` is the top-level modules (errors, exit codes, the atomic writer,
#: the backend probe); ``_toml`` is what the workload, fault and threshold tables share;
#: ``operations`` is what every operation is, which the history, the workload and the
#: checker all ask. The
#: engine sits beside check, gate, report and thresholds, so it may import none of them (the
#: thresholds it judges live reach it as a Protocol's implementation); the run layer (``run``)
#: above it starts the target, hands the load to the engine and calls them at the end of a
#: run. The live metrics exporters (``monitor``) hear the engine's runs, and the command line
#: starts them.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"lgbench"}),
    frozenset({"_toml", "client", "metrics", "graphs"}),
    frozenset({"operations"}),
    frozenset({"history", "server", "faults", "observe", "results"}),
    frozenset({"workload"}),
    frozenset({"check", "engine", "export", "gate", "report", "thresholds"}),
    frozenset({"run"}),
    frozenset({"distributed", "monitor"}),
    frozenset({"cli"}),
)
LAYER = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def _unit(module: str) -> str:
    """The package a module ``lgbench.x.y`` belongs to (``lgbench`` for top-level modules)."""
    parts = module.split(".")
    if len(parts) >= 2 and (PACKAGE / parts[1]).is_dir():
        return parts[1]
    if len(parts) >= 2 and parts[1] == "cli":
        return "cli"
    return "lgbench"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, module)`` of every lgbench import in ``path`` (``from a import b``: ``a.b``
    when ``a.b`` is a module, else ``a``)."""
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "lgbench":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "lgbench":
                continue
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                relative = Path(*full.split(".")[1:])
                if (PACKAGE / relative).is_dir() or (PACKAGE / relative).with_suffix(
                    ".py"
                ).exists():
                    yield node.lineno, full
                else:
                    yield node.lineno, node.module


def _edges() -> list[tuple[str, str, str]]:
    """``(where, importer package, imported module)`` for every cross-package import."""
    found: list[tuple[str, str, str]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _unit(_module_name(path))
        for line, module in _imports(path):
            if _unit(module) != source:
                found.append((f"{path.relative_to(PACKAGE.parent)}:{line}", source, module))
    return found


def test_every_package_has_a_layer() -> None:
    packages = {_unit(_module_name(path)) for path in PACKAGE.rglob("*.py")}
    assert packages == set(LAYER), "add the package to LAYERS, at the layer it belongs to"


def test_packages_import_only_from_lower_layers() -> None:
    upward = [
        f"{where}: {source} (layer {LAYER[source]}) imports {module} (layer {LAYER[_unit(module)]})"
        for where, source, module in _edges()
        if LAYER[_unit(module)] >= LAYER[source]
    ]
    assert upward == []


def test_the_engine_leaves_the_post_run_work_to_the_run_layer() -> None:
    """The checker, thresholds, gate and report run after the load: the engine calls none of
    them (the layers say so too, this says why)."""
    post_run = {"check", "gate", "report", "thresholds"}
    found = [
        f"{where}: imports {module}"
        for where, source, module in _edges()
        if source == "engine" and _unit(module) in post_run
    ]
    assert found == []


def test_no_package_reaches_into_another_ones_private_modules() -> None:
    reaching = [
        f"{where}: {source} imports {module}"
        for where, source, module in _edges()
        if _unit(module) != "lgbench"
        and any(part.startswith("_") for part in module.split(".")[2:])
    ]
    assert reaching == []


def test_no_cycles_between_packages() -> None:
    graph: dict[str, set[str]] = {package: set() for package in LAYER}
    for _, source, module in _edges():
        graph[source].add(_unit(module))
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"packages import each other in a cycle: {' -> '.join(exc.args[1])}")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import lgbench.workload", ["lgbench.workload"]),
        ("from lgbench.workload import parse_duration", ["lgbench.workload"]),
        ("from lgbench.workload import _parse", ["lgbench.workload._parse"]),
        ("def f():\n    from lgbench.faults import FaultSpec\n", ["lgbench.faults"]),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import lgbench.server\n", []),
        ("import os\nfrom . import x\n", []),
    ],
)
def test_the_import_reader_sees_what_runs(tmp_path: Path, source: str, expected: list[str]) -> None:
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    assert [module for _, module in _imports(path)] == expected
