"""Build each function's deployable source into ``build/<function>/``.

A bundle is what Cloud Functions receives: the function's ``main.py``, the shared
``aksio`` package at the top level (so ``import aksio`` works from the source root),
and ``requirements.txt``. Bundles are rebuilt from scratch each time.

Run: ``.venv/bin/python local/package.py [function ...]`` (all functions by default).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache")


def functions() -> list[str]:
    manifest: dict[str, object] = json.loads((ROOT / "functions" / "functions.json").read_text())
    return list(manifest)


def build(name: str, out: Path) -> Path:
    source = ROOT / "functions" / name
    if not (source / "main.py").is_file():
        raise SystemExit(f"function {name!r} has no functions/{name}/main.py")
    target = out / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=IGNORE)
    shutil.copytree(ROOT / "lib" / "aksio", target / "aksio", ignore=IGNORE)
    shutil.copy2(ROOT / "requirements.txt", target / "requirements.txt")
    return target


def main(argv: list[str]) -> None:
    out = ROOT / "build"
    names = argv or functions()
    for name in names:
        print(f"packaged {build(name, out).relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
