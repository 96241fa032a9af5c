"""An emulator for these tests only: started in this process on a free port, whatever else runs.

Each test gets its own project (so its own databases and operation counts) and a real google-cloud-firestore
client pointed at the emulator.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from firestore_emulator import Emulator, start


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    running = start("127.0.0.1", 0, lock_timeout=2.0)
    yield running
    running.stop()


@pytest.fixture
def project() -> str:
    return f"demo-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_client(emulator: Emulator, project: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., firestore.Client]:
    """A factory of clients of this test's project (``database=`` for a named database)."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.address)

    def make(database: str | None = None) -> firestore.Client:
        return firestore.Client(project=project, credentials=AnonymousCredentials(), database=database)

    return make


@pytest.fixture
def db(make_client: Callable[..., firestore.Client]) -> firestore.Client:
    return make_client()


@pytest.fixture
def http(emulator: Emulator) -> Callable[..., Any]:
    """``http(method, path)`` against the emulator's HTTP endpoints → (status, decoded JSON or text)."""

    def call(method: str, path: str) -> tuple[int, Any]:
        request = urllib.request.Request(f"http://{emulator.host}:{emulator.http_port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read().decode()
            kind = response.headers.get("Content-Type", "")
            return response.status, json.loads(body) if kind.startswith("application/json") else body

    return call
