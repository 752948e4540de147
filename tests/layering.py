"""The import rules of ``STYLE.md``, read from source with ``ast`` (imports inside functions included).

    core <- (slackui, prompts, memory, connectors) <- workers <- bot <- baton (the composition root)

``localslack`` imports nothing of ours; ``bot`` reaches the workers only through ``workers.api``; nothing
imports ``baton``; no circle of modules, and an import inside a function is allowed only when a comment on
its line says why it is deferred (start-up cost), never to dodge a circle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Package -> the packages of ours it may import (itself included).
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "slackui": frozenset({"core", "slackui"}),
    "prompts": frozenset({"core", "prompts"}),
    "memory": frozenset({"core", "memory"}),
    "connectors": frozenset({"core", "connectors"}),
    "workers": frozenset({"core", "slackui", "prompts", "memory", "connectors", "workers"}),
    "bot": frozenset({"core", "slackui", "prompts", "memory", "connectors", "workers", "bot"}),
    "baton": frozenset({"core", "slackui", "prompts", "memory", "connectors", "workers", "bot", "baton",
                        "localslack"}),
    "localslack": frozenset({"localslack"}),
}
PACKAGES = frozenset(ALLOWED)
#: The one module of ``workers`` that the Slack edge may import.
WORKERS_PUBLIC = "workers.api"
#: A comment on an import inside a function that says it is deferred on purpose.
DEFERRED_MARK = "deferred:"


@dataclass(frozen=True)
class Import:
    """One import of one of our modules: who imports what, where, and whether inside a function."""

    source: str
    target: str
    path: Path
    line: int
    in_function: bool
    deferred: bool


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every package of ours under ``root``."""
    found: dict[str, Path] = {}
    for package in sorted(PACKAGES):
        for path in sorted((root / package).rglob("*.py")):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(root: Path) -> Iterator[Import]:
    """Every import of our modules under ``root``, resolved to the module (not the package) it names."""
    known = modules(root)
    for source, path in known.items():
        text = path.read_text()
        lines = text.splitlines()
        yield from _imports_of(source, path, ast.parse(text, filename=str(path)), lines, known)


def _imports_of(source: str, path: Path, tree: ast.AST, lines: list[str], known: dict[str, Path]) -> Iterator[Import]:
    def visit(node: ast.AST, in_function: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import | ast.ImportFrom):
                deferred = DEFERRED_MARK in lines[child.lineno - 1]
                for target in _targets(source, path, child, known):
                    yield Import(source, target, path, child.lineno, in_function, deferred)
            yield from visit(child, inside)

    yield from visit(tree, False)


def _targets(source: str, path: Path, node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] in PACKAGES:
                yield _module_of(alias.name, known)
        return
    if node.level:
        base = source.split(".")
        base = base if path.name == "__init__.py" else base[:-1]
        base = base[: len(base) - node.level + 1]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    if module.split(".")[0] not in PACKAGES:
        return
    for alias in node.names:
        yield _module_of(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module, known)


def _module_of(name: str, known: dict[str, Path]) -> str:
    while name not in known and "." in name:
        name = name.rpartition(".")[0]
    return name


def violations(root: Path) -> list[str]:
    """Every broken rule under ``root``, one line each (``path:line: what``); empty when the layers hold."""
    found: list[str] = []
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports(root):
        where = f"{imp.path.relative_to(root)}:{imp.line}"
        source_pkg, target_pkg = imp.source.split(".")[0], imp.target.split(".")[0]
        if imp.source != imp.target:
            graph[imp.source].add(imp.target)
        if target_pkg not in ALLOWED[source_pkg]:
            found.append(f"{where}: {source_pkg} may not import {target_pkg} ({imp.target})")
        elif source_pkg == "bot" and target_pkg == "workers" and imp.target != WORKERS_PUBLIC:
            found.append(f"{where}: bot reaches the workers only through {WORKERS_PUBLIC} (not {imp.target})")
        if imp.in_function and not imp.deferred:
            found.append(f"{where}: import of {imp.target} inside a function without a '# {DEFERRED_MARK} why' "
                         "comment")
    found = sorted(set(found), key=found.index)
    found += [f"circle: {' -> '.join(circle)}" for circle in circles(graph)]
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
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
            connect(node)
    return groups
