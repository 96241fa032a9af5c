"""Fixtures for the tests of the local stack itself: real processes on free ports, no mocks.

These tests start their own emulators (never the ones of the stack ``make test`` runs them
under), so they run beside it. Parts that need ``local/install.sh`` (node_modules) are skipped
when missing, except under the stack (``AKSIO_STACK=1``), where a missing part is a
failure: CI must not pass by skipping.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from stack.settings import CLIENT_VARS

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "local" / "stack"  # the package, run as a directory: python local/stack ...
_VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PYTHON = str(_VENV_PYTHON) if _VENV_PYTHON.exists() else sys.executable
FIREBASE = REPO / "local" / "node_modules" / ".bin" / "firebase"
BUCKET = "aksio-uploads"

# Variables of an enclosing stack (make test) that must not leak into the stacks these tests start.
_OUTER = (
    *CLIENT_VARS,
    "UPLOAD_BUCKET",
    "TASKS_QUEUE",
    "TASKS_LOCATION",
    "TASKS_AUTH_SECRET",
    "TASKS_SERVICE_ACCOUNT",
    "TASKS_OIDC_CERTS_URL",
    "STORAGE_SIGNER_KEY_FILE",
    "AKSIO_STACK",
    "AKSIO_STACK_COMPONENTS",
    "AKSIO_LOCAL_DIR",
)


def need(path: Path, what: str) -> None:
    """Skip (or, under the stack, fail) when an installed part is missing."""
    if not path.exists():
        message = f"{what} missing ({path}): run `bash local/install.sh`"
        if os.environ.get("AKSIO_STACK") == "1":
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as in /proc/net/tcp*) of sockets listening on ``port``."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


# -- an HTTP receiver standing in for the gateway ----------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    status: int  # what the receiver answered
    at: float = field(default_factory=time.time)  # when it arrived (wall clock)

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every request; answers with the scripted statuses in turn, then 200."""

    url: str
    requests: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)

    def statuses(self) -> list[int]:
        return [r.status for r in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    lock = threading.Lock()
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                rec = box[0]
                status = rec.script.pop(0) if rec.script else 200
                headers = {k.lower(): v for k, v in self.headers.items()}
                rec.requests.append(Received("POST", self.path, headers, body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(Receiver(f"http://127.0.0.1:{server.server_port}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box[0]
    server.shutdown()
    server.server_close()


# -- a storage emulator of our own -------------------------------------------------------------


@pytest.fixture
def storage_emulator(tmp_path: Path) -> Iterator[str]:
    """``gcp-storage-emulator`` in memory on a free port, with the upload bucket; yields its URL."""
    port = free_port()
    log = (tmp_path / "storage.log").open("wb")
    argv = [PYTHON, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*argv, "--in-memory", "--default-bucket", BUCKET],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return requests.get(f"{url}/storage/v1/b/{BUCKET}", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(ready, 20, "the storage emulator")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def gcs(storage_emulator: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A google-cloud-storage bucket handle on our storage emulator."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
    client = storage.Client(project="demo-aksio", credentials=AnonymousCredentials())
    return client.bucket(BUCKET)


# -- running local/stack ------------------------------------------------------------------------


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    """An environment for a stack of our own: free ports, its own .local, nothing of an outer stack."""
    env = {k: v for k, v in os.environ.items() if k not in _OUTER and not k.startswith("AKSIO_")}
    env["AKSIO_LOCAL_DIR"] = str(tmp_path / "local")
    return env


def run_stack(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, str(STACK), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
