"""``baton demo --web`` as a person runs it: it prints the page's address, the page answers, Ctrl-C ends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from baton.cli import main


def test_web_and_script_together_are_refused(tmp_path: Path, capsys):
    script = tmp_path / "turns.txt"
    script.write_text("hello\n")
    assert main(["demo", "--web", "--script", str(script)]) == 1
    assert "--web and --script do not go together" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_web_serves_the_page_until_ctrl_c(tmp_path: Path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "OPENAI_", "BATON_")) and k not in ("DATABASE_URL", "REDIS_URL", "PORT")
    }
    env["BATON_HOME"] = str(tmp_path / "home")
    demo = subprocess.Popen(
        [sys.executable, "-m", "baton.cli", "demo", "--web"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert demo.stdout is not None
        line = ""
        for line in demo.stdout:  # the address comes once the worker listens
            if line.startswith("Open http://"):
                break
        url = line.split()[1]
        assert "/ui/?as=U0ALICE&c=C0GENERAL" in url
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200 and "You are" in page.read().decode()
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0, err
    assert "Demo finished." in out
