"""Disk use of every distribution installed in a virtual environment, largest first, and who requires it.

Run with the environment's own Python (it reads that environment's metadata)::

    /tmp/fresh/.venv/bin/python bench/install_size.py

Sizes come from each distribution's RECORD (its files, byte code included), so they add up to slightly less
than ``du`` of the folder (which counts whole disk blocks and the venv's own files). The second column leaves out
``__pycache__``. "<-" lists the installed distributions that require it (none: asked for directly, or by an
extra's marker).
"""

from __future__ import annotations

import re
import sysconfig
from importlib import metadata
from pathlib import Path


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> None:
    site = sysconfig.get_paths()["purelib"]
    dists = list(metadata.distributions(path=[site]))
    required_by: dict[str, list[str]] = {}
    for dist in dists:
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            name = re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0]
            required_by.setdefault(_key(name), []).append(dist.metadata["Name"])
    rows = []
    for dist in dists:
        total = byte_code = 0
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file)))
            if not path.is_file():
                continue
            size = path.stat().st_size
            total += size
            if "__pycache__" in path.parts:
                byte_code += size
        name = dist.metadata["Name"]
        rows.append((total, byte_code, f"{name}=={dist.version}", sorted(set(required_by.get(_key(name), [])))))
    rows.sort(reverse=True)
    print(f"{'MB':>7} {'no .pyc':>7}  distribution  <- required by   ({site})")
    for total, byte_code, name, by in rows:
        print(f"{total / 1e6:7.1f} {(total - byte_code) / 1e6:7.1f}  {name}  <- {', '.join(by)}")
    total, plain = sum(r[0] for r in rows), sum(r[0] - r[1] for r in rows)
    print(f"{total / 1e6:7.1f} {plain / 1e6:7.1f}  total, {len(rows)} distributions")


if __name__ == "__main__":
    main()
