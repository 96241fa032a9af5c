"""The light functions answer their reads without importing pydantic (cold start: see
bench/cold_start.py). Each endpoint module, imported in a fresh interpreter, loads no
pydantic; their read routes are declared with a fast query path or none."""

from __future__ import annotations

import subprocess
import sys

import pytest

LIGHT = [
    *("health", "account", "decks", "cards", "review_card", "study_queue", "stats", "documents", "notifications"),
    "courses",
    "tags",
]


@pytest.mark.parametrize("name", LIGHT)
def test_importing_a_light_function_loads_no_pydantic(name: str) -> None:
    code = f"import sys, aksio.endpoints.{name} as m; print(sorted(x for x in sys.modules if x.startswith('pydantic')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", LIGHT)
def test_each_read_with_a_query_has_a_fast_path(name: str) -> None:
    import importlib

    api = importlib.import_module(f"aksio.endpoints.{name}").api
    reads = [r for r in api.routes if r.method == "GET" and r.query is not None]
    assert all(r.fast_query is not None for r in reads), [r.path for r in reads if r.fast_query is None]
