"""Package boundaries from STYLE.md (see ``tests/layering.py`` for the rules), and the checker itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.layering import ALLOWED, violations

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_covered():
    on_disk = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert on_disk == set(ALLOWED)


def test_the_layers_hold():
    assert violations(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for package in ALLOWED:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


#: Trees that break one rule each, and a words the checker must say about it.
BROKEN = {
    "core imports workers": ({"core/a.py": "from workers import api\n", "workers/api.py": ""},
                             "core may not import workers"),
    "upward import inside a function": (
        {"workers/job.py": "def run():\n    from bot import app  # deferred: start-up\n", "bot/app.py": ""},
        "workers may not import bot"),
    "slackui reads memory": ({"slackui/card.py": "import memory.plans\n", "memory/plans.py": ""},
                             "slackui may not import memory"),
    "memory imports slackui": ({"memory/x.py": "from slackui.card import render\n", "slackui/card.py": ""},
                               "memory may not import slackui"),
    "bot past workers.api": ({"bot/a.py": "from workers.execute import execute_plan\n", "workers/execute.py": ""},
                             "bot reaches the workers only through workers.api"),
    "anything imports baton": ({"bot/a.py": "from baton.cli import main\n", "baton/cli.py": ""},
                               "bot may not import baton"),
    "localslack imports ours": ({"localslack/a.py": "from core import defaults\n", "core/defaults.py": ""},
                                "localslack may not import core"),
    "relative upward import": ({"memory/sub/__init__.py": "", "memory/sub/x.py": "from ...workers import api\n",
                                "workers/api.py": ""}, "memory may not import workers"),
    "import in a function to dodge a circle": (
        {"workers/a.py": "import workers.b\n", "workers/b.py": "def f():\n    import workers.a\n"},
        "inside a function without"),
    "circle of modules": (
        {"workers/a.py": "import workers.b\n", "workers/b.py": "def f():\n    import workers.a  # deferred: x\n"},
        "circle: workers.a -> workers.b"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_checker_finds_a_broken_rule(tmp_path, case):
    files, words = BROKEN[case]
    found = violations(_tree(tmp_path, files))
    assert any(words in line for line in found), found


def test_the_checker_accepts_allowed_imports(tmp_path):
    files = {
        "workers/api.py": "from core import defaults\n",
        "core/defaults.py": "",
        "bot/a.py": "from workers.api import enqueue_job\nfrom slackui import card\n",
        "slackui/card.py": "from core.defaults import X\n",
        "baton/cli.py": "def main():\n    from bot import a  # deferred: start-up cost\n",
    }
    assert violations(_tree(tmp_path, files)) == []


def test_core_reads_no_environment_and_no_clock():
    for path in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
                assert not names & {"os", "time", "random", "socket"}, f"{path}: imports {names}"
            if isinstance(node, ast.Attribute):
                assert node.attr not in {"environ", "getenv", "now", "utcnow", "today"}, f"{path}:{node.lineno}"
