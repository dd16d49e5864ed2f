"""The layers of docs/architecture.md, checked: who may import whom, no cycles, modules of one concern.

Every import in src/matchmaker is read (module level and inside functions, which are imports too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "matchmaker"
MAX_LINES = 600  # "about 600": a module longer than this holds more than one concern

# Layer of each top-level part of the package, from the ground up. A module may import its own layer
# and any layer below, never one above; the two entry points (cli, service) never import each other,
# but for ``matchmaker serve``, which starts the service from its app factory.
LAYERS = {
    "": 0,  # the package itself: its version
    "core": 0,
    "application": 1,
    "atomic": 2,
    "embedding": 2,
    "settings": 2,
    "storage": 2,
    "event_storage": 2,
    "shapes": 2,
    "synth": 2,
    "loading": 2,
    "views": 2,
    "cluster": 2,
    "fit_cache": 2,
    "reports": 3,
    "events": 3,
    "assembly": 3,
    "cli": 4,
    "service": 4,
}

STARTS_THE_SERVICE = {
    ("matchmaker.cli.serve", "matchmaker.service"),
    ("matchmaker.cli.serve", "matchmaker.service.app"),
    ("matchmaker.cli.serve", "matchmaker.service.state"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield module_name(path), path


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("matchmaker.")}


def part(module: str) -> str:
    """The top-level part of the package a module belongs to (``""`` for the package itself)."""
    return module.split(".")[1] if module.count(".") >= 1 else ""


GRAPH = {name: imports_of(path) for name, path in modules()}
KNOWN = set(GRAPH)


def resolved(name: str) -> str | None:
    """The module an imported name lives in (``from m import f`` names ``m.f``)."""
    while name and name not in KNOWN:
        name = name.rpartition(".")[0]
    return name or None


@pytest.mark.parametrize("module", sorted(GRAPH), ids=str)
def test_no_import_runs_up_a_layer(module: str) -> None:
    own = part(module)
    assert own in LAYERS, f"{module}: add its part to LAYERS (and to docs/architecture.md)"
    for name in sorted(GRAPH[module]):
        target = resolved(name)
        if target is None or part(target) == own:
            continue
        other = part(target)
        if (module, target) in STARTS_THE_SERVICE:
            continue
        assert LAYERS[other] <= LAYERS[own], (
            f"{module} imports {target}: layer {other} ({LAYERS[other]}) is above {own} ({LAYERS[own]})"
        )
        assert {own, other} != {"cli", "service"}, f"{module} imports {target}: the entry points stay apart"


def test_no_cycles() -> None:
    edges = {m: {t for n in names if (t := resolved(n)) and t != m} for m, names in GRAPH.items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                cycle = path[path.index(target) :] if target in path else [target]
                # A package importing its own submodules (its __init__ re-exporting them) is not a cycle.
                if not all(m == target or m.startswith(target + ".") for m in [*cycle, node]):
                    raise AssertionError(f"import cycle: {' -> '.join([*cycle, node, target])}")
            elif state.get(target) is None:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("module", sorted(GRAPH), ids=str)
def test_modules_hold_one_concern(module: str) -> None:
    path = dict(modules())[module]
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it by concern"


def test_the_core_imports_nothing_outside_it() -> None:
    for module, names in GRAPH.items():
        if part(module) == "core":
            outside = {n for n in names if (t := resolved(n)) and part(t) != "core"}
            assert not outside, f"{module} imports {sorted(outside)}"
