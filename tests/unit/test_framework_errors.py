"""functions-framework serving one function, as in production (no gateway in front): the
framework's own answers, before the Api (its routing's 404 for a path holding a line feed,
robots.txt, favicon.ico, a cloud-event function's 405), come in the JSON error shape too."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import functions_framework
import pytest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST: dict[str, dict[str, Any]] = json.loads((ROOT / "functions" / "functions.json").read_text())
ODD_PATHS = ["/%C2%8E%12%C3%83%2B%0A/suspend", "/%0A%0A/x", "/x%0Ay", "/robots.txt", "/favicon.ico"]


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    """create_app puts the function's folder on sys.path and its main.py in sys.modules: undo it."""
    path, modules = list(sys.path), dict(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - set(modules):
        del sys.modules[name]
    sys.modules.update(modules)


def app_of(name: str) -> Any:
    signature = "cloudevent" if MANIFEST[name]["trigger"] == "storage_finalized" else "http"
    return functions_framework.create_app(
        target=name.replace("-", "_"), source=str(ROOT / "functions" / name / "main.py"), signature_type=signature
    )


def assert_json_error(response: Any, statuses: set[int]) -> None:
    assert response.status_code in statuses, response.get_data(as_text=True)
    assert response.content_type == "application/json", response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"]
    assert error["message"]
    assert error["requestId"] == response.headers["X-Request-Id"]


@pytest.mark.parametrize("name", sorted(n for n, spec in MANIFEST.items() if spec["trigger"] != "storage_finalized"))
@pytest.mark.usefixtures("isolated_imports")
def test_every_path_of_an_http_function_answers_the_json_error_shape(name: str) -> None:
    client = app_of(name).test_client()
    for path in ODD_PATHS:
        for method in ("GET", "POST", "DELETE"):
            # no token: the Api answers 401 where a route matched, else its own 404 or 405
            assert_json_error(client.open(path, method=method), {401, 404, 405})


@pytest.mark.usefixtures("isolated_imports")
def test_a_cloud_event_function_answers_the_json_error_shape() -> None:
    client = app_of("process-upload").test_client()
    assert_json_error(client.get("/"), {405})
    for path in ODD_PATHS:
        assert_json_error(client.get(path), {404, 405})
    not_an_event = client.post("/", data=b"nothing", content_type="text/plain")
    assert_json_error(not_an_event, {400, 415})
