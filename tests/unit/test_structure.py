"""The shape of lib/aksio, checked on its source (no imports, no I/O).

- No module is over 400 lines.
- No module imports or uses another package's underscore-private name (a package is a
  directory of lib/aksio, or a top-level module such as ``http.py``).
- Only the persistence modules (the kernel and each package's repository) name Firestore
  collections or build document paths.
- No ``os.environ`` outside ``config.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "lib" / "aksio"
MAX_LINES = 400
# The modules that may touch Firestore paths: the kernel and each owner's repository.
PERSISTENCE = {
    "firestore.py",
    "users.py",  # the profile part of users/{uid}
    "usage.py",  # users/{uid}/usage
    "billing/repository.py",
    "chat/repository.py",
    "courses/repository.py",
    "documents/repository.py",
    "generation/repository.py",
    "generation/inputs.py",  # jobs/{id}/inputs: generation's pasted text
    "study/repository.py",
    "study/queries.py",
    "reminders/repository.py",
    "quizzes/repository.py",
    "endpoints/health.py",  # a probe of a document that never exists
    "account/repository.py",  # users/{uid}/activity, exports; deletedAccounts
}


def modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def package_of(module: str) -> str:
    """``aksio.study.review`` → ``study``; ``aksio.http`` → ``http``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def is_module(dotted: str) -> bool:
    path = ROOT.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def private_uses(path: Path, dotted: str | None = None) -> list[str]:
    here = package_of(dotted or ".".join(path.relative_to(ROOT.parent).with_suffix("").parts))
    tree = ast.parse(path.read_text(), str(path))
    aliases: dict[str, str] = {}  # local name → aksio module it names
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aksio"):
            for name in node.names:
                full = f"{node.module}.{name.name}"
                if is_module(full):
                    aliases[name.asname or name.name] = full
                elif name.name.startswith("_") and not name.name.startswith("__") and package_of(node.module) != here:
                    found.append(f"{path.name}:{node.lineno} imports {full}")
        elif isinstance(node, ast.Import):
            for name in node.names:
                if name.name.startswith("aksio.") and name.asname:
                    aliases[name.asname] = name.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and package_of(aliases[node.value.id]) != here
        ):
            found.append(f"{path.name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_module_uses_another_packages_private_names() -> None:
    found = [use for p in modules() for use in private_uses(p)]
    assert found == []


def test_the_private_name_check_finds_what_it_must(tmp_path: Path) -> None:
    # the checker itself, on a module of the endpoints package that breaks the rule both ways
    bad = tmp_path / "probe.py"
    bad.write_text("from aksio.study.ids import _check\nfrom aksio.study import model\nmodel._CLOZE\nmodel.Schedule\n")
    assert [u.split(" ", 1)[1] for u in private_uses(bad, "aksio.endpoints.probe")] == [
        "imports aksio.study.ids._check",
        "uses aksio.study.model._CLOZE",
    ]
    assert private_uses(bad, "aksio.study.probe") == []  # within its own package it may


def test_only_persistence_modules_touch_firestore_paths() -> None:
    markers = (".collection(", "user_col(", "user_doc(", "_col(db")
    touching = {
        str(p.relative_to(ROOT))
        for p in modules()
        if any(m in p.read_text() for m in markers) and p.name != "__init__.py"
    }
    assert touching - PERSISTENCE == set()


def test_no_environment_reads_outside_config() -> None:
    readers = {
        str(p.relative_to(ROOT)) for p in modules() if "os.environ" in p.read_text() or "getenv(" in p.read_text()
    }
    assert readers <= {"config.py"}
