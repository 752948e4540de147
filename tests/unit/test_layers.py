"""Package boundaries from STYLE.md: core imports nothing of ours; connectors and memory only core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"core", "bot", "workers", "connectors", "memory", "prompts"}
ALLOWED = {
    "core": {"core"},
    "connectors": {"core", "connectors"},
    "memory": {"core", "memory"},
    "prompts": {"core", "prompts"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_stay_inside_their_layer(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - ALLOWED[package])
        for path in (ROOT / package).rglob("*.py")
        if imported_packages(path) - ALLOWED[package]
    }
    assert offenders == {}


def test_core_reads_no_environment_and_no_clock():
    for path in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
                assert not names & {"os", "time", "random", "socket"}, f"{path}: imports {names}"
            if isinstance(node, ast.Attribute):
                assert node.attr not in {"environ", "getenv", "now", "utcnow", "today"}, f"{path}:{node.lineno}"
