"""local/smoke.py, the post-deploy smoke test of Cloud Build, run as the build runs it (a
subprocess, judged by its exit status): green against the local gateway (the deployed
functions' stand-in), red against servers that misbehave."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "local" / "smoke.py"


# The local gateway's own document (at its root); production's is health's /health/openapi.json.
OPENAPI = "/openapi.json"


def smoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SMOKE), "--attempts", "1", "--timeout", "20", "--openapi-path", OPENAPI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_green_against_the_local_gateway(gateway_url: str) -> None:
    result = smoke("--base-url", gateway_url)
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("health", "openapi", "unauthenticated", "webhook-unsigned"):
        assert f"ok    {check}:" in result.stdout
    assert "smoke: 4 passed, 0 failed" in result.stdout


def test_green_from_terraform_outputs(gateway_url: str, tmp_path: Path) -> None:
    """The form Cloud Build uses: `terraform output -json` names each function's URL."""
    names = json.loads((REPO / "functions" / "functions.json").read_text())
    outputs = {
        "function_urls": {"sensitive": False, "type": "map", "value": {n: f"{gateway_url}/{n}" for n in names}},
        "api_base_url": {"sensitive": False, "type": "string", "value": gateway_url},
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    result = smoke("--terraform-outputs", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


class _Fixed(BaseHTTPRequestHandler):
    status = 500
    body = b'{"error": {"code": "internal", "message": "broken"}}'

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


class _AlwaysOk(_Fixed):
    """Answers everything 200 with a healthy-looking OpenAPI-ish body: a deploy that lost its
    authentication and its webhook signature check would look like this."""

    status = 200
    body = json.dumps({"status": "ok", "openapi": "3.1.0", "paths": {"/x": {}}}).encode()


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[ThreadingHTTPServer] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_red_against_a_server_answering_500(serve) -> None:  # type: ignore[no-untyped-def]
    result = smoke("--base-url", serve(_Fixed))
    assert result.returncode == 1, result.stdout
    assert "smoke: 0 passed, 4 failed" in result.stdout
    assert "FAIL  health: expected 200, got 500" in result.stdout


def test_red_when_auth_and_signature_checks_are_gone(serve) -> None:  # type: ignore[no-untyped-def]
    result = smoke("--base-url", serve(_AlwaysOk))
    assert result.returncode == 1, result.stdout
    assert "ok    health:" in result.stdout
    assert "ok    openapi:" in result.stdout
    assert "FAIL  unauthenticated: expected 401, got 200" in result.stdout
    assert "FAIL  webhook-unsigned: expected 400, got 200" in result.stdout


def test_red_when_nothing_listens() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: a refused connection
    result = smoke("--base-url", f"http://127.0.0.1:{port}")
    assert result.returncode == 1, result.stdout
    assert "smoke: 0 passed, 4 failed" in result.stdout
