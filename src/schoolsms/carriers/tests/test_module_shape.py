"""The carrier packages and messaging import each other one way only: no module imports one
that imports it back (directly or round a longer loop), and no import hides inside a function
to dodge such a loop. The simulator is the shape the other carriers copy."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # src/schoolsms
CHECKED = ("messaging", "carriers")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    found = {}
    for area in CHECKED:
        for path in (PACKAGE / area).rglob("*.py"):
            if "tests" not in path.parts and "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imports(tree: ast.Module, known: set[str]) -> tuple[set[str], list[int]]:
    """The project modules a module imports at its top level, and the lines of imports of
    project modules made inside functions."""
    top: set[str] = set()
    hidden: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        names = (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
        )
        targets = {name for name in names if name in known}
        if not targets:
            continue
        if node in tree.body or any(
            node in getattr(block, "body", []) for block in tree.body if isinstance(block, ast.If)
        ):
            top |= targets
        else:
            hidden.append(node.lineno)
    return top, hidden


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    sources = _sources()
    known = set(sources)
    graph, hidden = {}, []
    for name, path in sources.items():
        edges, lines = _imports(ast.parse(path.read_text(encoding="utf-8")), known)
        graph[name] = edges - {name}
        hidden += [f"{path.relative_to(PACKAGE)}:{line}" for line in lines]
    return graph, hidden


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One loop per strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph, _ = _graph()
    assert "schoolsms.carriers.simulator.transport" in graph  # the walk found the modules
    assert _cycles(graph) == []


def test_no_project_import_hides_inside_a_function() -> None:
    """Apps' ready() hooks excepted: they run once the app registry is loaded."""
    _, hidden = _graph()
    assert [line for line in hidden if not line.split(":")[0].endswith("apps.py")] == []


def test_the_check_finds_a_loop() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
