"""The ``hello_site`` fixture: examples/baton-plugin-hello installed with pip into a directory (register with
``pytest_plugins = ["tests.plugins.hello_plugin"]``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "baton-plugin-hello"


@pytest.fixture(scope="session")
def hello_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory holding the example plugin as pip installs it (package and ``.dist-info`` with the entry
    point its pyproject.toml declares); built from a copy, so the build leaves nothing in the repository."""
    work = tmp_path_factory.mktemp("hello-plugin")
    source = shutil.copytree(EXAMPLE, work / "src", ignore=shutil.ignore_patterns("build", "*.egg-info"))
    site = work / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(site),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    yield site
