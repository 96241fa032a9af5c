"""Every function follows the same shape: a folder, a short main.py, a manifest entry."""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((ROOT / "functions" / "functions.json").read_text())
TRIGGERS = {"http", "tasks", "scheduler", "storage_finalized"}


def test_manifest_and_folders_agree() -> None:
    folders = {p.parent.name for p in (ROOT / "functions").glob("*/main.py")}
    assert folders == set(MANIFEST)
    for name, spec in MANIFEST.items():
        assert spec["trigger"] in TRIGGERS, name
        if spec["trigger"] == "scheduler":
            assert spec.get("schedule"), name


def test_each_main_is_thin_and_defines_its_entry_point() -> None:
    for name, spec in MANIFEST.items():
        source = (ROOT / "functions" / name / "main.py").read_text()
        tree = ast.parse(source)
        assert ast.get_docstring(tree), f"{name}/main.py needs a docstring"
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        entry = name.replace("-", "_")
        assert [f.name for f in functions] == [entry], name
        decorator = ast.unparse(functions[0].decorator_list[0])
        expected = "cloud_event" if spec["trigger"] == "storage_finalized" else "http"
        assert decorator == f"functions_framework.{expected}", name
        code_lines = [line for line in source.splitlines() if line.strip() and not line.startswith(('"', "#"))]
        assert len(code_lines) <= 15, f"{name}/main.py should stay a few lines; logic belongs in lib/aksio"


def test_the_local_scheduler_has_a_job_for_every_scheduler_function() -> None:
    from stack.settings import SCHEDULER_JOBS

    scheduled = {name for name, spec in MANIFEST.items() if spec["trigger"] == "scheduler"}
    assert {name for name, _, _ in SCHEDULER_JOBS} == scheduled
    for name, _, path in SCHEDULER_JOBS:
        assert path == f"/{name}"
