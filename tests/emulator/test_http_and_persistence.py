"""The HTTP endpoints (reset, operation counts) on the gRPC port, and the SQLite file surviving a restart."""

from __future__ import annotations

import datetime
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from firestore_emulator import start

LOCAL = Path(__file__).resolve().parents[2] / "local"


def test_http_shares_the_grpc_port(emulator: Any, http: Callable[..., Any]) -> None:
    assert emulator.http_port == emulator.port
    assert http("GET", "/") == (200, "Ok")


def test_http_on_a_port_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    separate = start(http_port=0)
    try:
        assert separate.http_port != separate.port
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", separate.address)
        client = firestore.Client(project="demo-ports", credentials=AnonymousCredentials())
        client.document("a/b").set({"v": 1})
        url = f"http://127.0.0.1:{separate.http_port}/emulator/v1/projects/demo-ports/databases/%28default%29/documents"
        with urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=10) as response:
            assert response.status == 200
        assert not client.document("a/b").get().exists
    finally:
        separate.stop()


def test_reset_deletes_one_database_only(
    project: str, make_client: Callable[..., firestore.Client], http: Callable[..., Any]
) -> None:
    default, named = make_client(), make_client("named")
    default.document("a/b").set({"v": 1})
    default.document("a/b/c/d").set({"v": 2})
    named.document("a/b").set({"v": 3})
    assert http("DELETE", f"/emulator/v1/projects/{project}/databases/(default)/documents") == (200, {})
    assert not default.document("a/b").get().exists
    assert not default.document("a/b/c/d").get().exists
    assert list(default.collections()) == []
    assert named.document("a/b").get().get("v") == 3
    default.document("a/b").set({"v": 4})  # usable again at once
    assert default.document("a/b").get().get("v") == 4


def test_operation_counts_as_firestore_bills_them(project: str, db: firestore.Client, http: Callable[..., Any]) -> None:
    def stats() -> dict[str, int]:
        status, body = http("GET", f"/emulator/v1/projects/{project}:stats")
        assert status == 200
        return {k: body[k] for k in ("reads", "writes", "deletes")}

    def cost(operation: Callable[[], object]) -> dict[str, int]:
        before = stats()
        operation()
        after = stats()
        return {k: after[k] - before[k] for k in after}

    coll = db.collection("billing")
    assert cost(lambda: coll.document("one").set({"n": 1})) == {"reads": 0, "writes": 1, "deletes": 0}
    assert cost(lambda: coll.document("one").get()) == {"reads": 1, "writes": 0, "deletes": 0}
    assert cost(lambda: coll.document("missing").get()) == {"reads": 1, "writes": 0, "deletes": 0}

    def fill() -> None:
        for start_at in range(0, 1500, 500):
            batch = db.batch()
            for n in range(start_at, start_at + 500):
                batch.set(coll.document(f"d{n:04d}"), {"n": n})
            batch.commit()

    assert cost(fill) == {"reads": 0, "writes": 1500, "deletes": 0}
    assert cost(lambda: list(coll.where(filter=FieldFilter("n", "<", 3)).stream())) == {
        "reads": 4,  # d0000..d0002 and "one"
        "writes": 0,
        "deletes": 0,
    }
    assert cost(lambda: list(coll.where(filter=FieldFilter("n", ">", 10**6)).stream()))["reads"] == 1  # empty: 1
    assert cost(lambda: coll.count().get())["reads"] == 2  # 1501 index entries: 1 read per 1000
    assert cost(lambda: coll.document("one").delete()) == {"reads": 0, "writes": 0, "deletes": 1}
    status, body = http("GET", f"/emulator/v1/projects/{project}/databases/(default):stats")
    assert status == 200
    assert body["deletes"] == 1
    assert http("DELETE", f"/emulator/v1/projects/{project}:stats") == (200, {})
    assert stats() == {"reads": 0, "writes": 0, "deletes": 0}


def test_sqlite_file_keeps_documents_across_restarts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "firestore.sqlite"
    first = start(data=data)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", first.address)
    client = firestore.Client(project="demo-persist", credentials=AnonymousCredentials())
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    written = client.document("users/u1").set({"name": "Ada", "at": when, "tags": ["x"], "m": {"k": b"\x01"}})
    client.document("users/u1/cards/c1").set({"front": "?"})
    client.document("users/u2").set({"name": "gone"})
    client.document("users/u2").delete()
    first.stop()

    second = start(data=data)
    try:
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", second.address)
        client = firestore.Client(project="demo-persist", credentials=AnonymousCredentials())
        snapshot = client.document("users/u1").get()
        assert snapshot.to_dict() == {"name": "Ada", "at": when, "tags": ["x"], "m": {"k": b"\x01"}}
        assert snapshot.update_time == written.update_time
        assert client.document("users/u1/cards/c1").get().exists
        assert not client.document("users/u2").get().exists
        assert [s.id for s in client.collection("users").stream()] == ["u1"]
        later = client.document("users/u1").update({"name": "Ada L."})
        assert later.update_time > written.update_time
    finally:
        second.stop()


def test_command_line_prints_where_it_listens_and_exits_on_sigterm() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with subprocess.Popen(
        [sys.executable, "-m", "firestore_emulator", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(LOCAL)},
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            assert line == f"firestore emulator listening on 127.0.0.1:{port} (http 127.0.0.1:{port})"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            process.kill()
