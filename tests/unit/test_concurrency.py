"""Functions serve ``concurrency`` requests at once on threads (production: gunicorn, one worker,
``THREADS`` gthread threads; locally the gateway runs the same server): what they share across
threads is made once, and the gateway's server really runs requests side by side."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from aksio import clients
from aksio.lazy import once

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((ROOT / "functions" / "functions.json").read_text())


def at_once(n: int, call):  # type: ignore[no-untyped-def]
    """``call()`` from ``n`` threads released together; their results."""
    barrier = threading.Barrier(n)

    def run(_: int):  # type: ignore[no-untyped-def]
        barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_once_makes_the_value_exactly_once_when_32_threads_ask_together() -> None:
    made = []

    @once
    def value() -> object:
        time.sleep(0.05)  # a slow constructor: every racing thread arrives while it runs
        made.append(1)
        return object()

    results = at_once(32, value)
    assert len(made) == 1
    assert all(r is results[0] for r in results)
    value.cache_clear()
    assert value() is not results[0]
    assert len(made) == 2


def test_the_firestore_client_is_one_instance_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")  # made, never called
    clients.reset_clients()
    try:
        made = at_once(16, clients.firestore_client)
        assert len({id(c) for c in made}) == 1
    finally:
        clients.reset_clients()


def test_every_function_declares_concurrency_and_the_cpu_it_needs() -> None:
    for name, spec in MANIFEST.items():
        assert isinstance(spec.get("concurrency"), int), name
        assert spec["concurrency"] >= 1, name
        if spec["concurrency"] > 1:  # Cloud Run: more than one request at a time needs a whole CPU
            assert float(spec["cpu"]) >= 1, name
    # event and scheduler functions do one thing at a time; the tutor's streams mostly wait
    assert MANIFEST["process-upload"]["concurrency"] == 1
    assert MANIFEST["send-reminders"]["concurrency"] == 1
    assert MANIFEST["chat-reply"]["concurrency"] > MANIFEST["review-card"]["concurrency"]


SERVER = """
import sys, threading
sys.path.insert(0, {local!r})
import gateway
barrier = threading.Barrier({parties})

def app(environ, start_response):
    try:
        barrier.wait(timeout=3)
        status = "200 OK"
    except threading.BrokenBarrierError:
        status = "500 Internal Server Error"
    start_response(status, [("Content-Type", "text/plain")])
    return [b"done"]

gateway.serve(app, "127.0.0.1", {port}, threads={threads})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def statuses_of_8_requests_at_once(threads: int) -> list[int]:
    """Eight requests that each finish only when all eight are inside the app together."""
    port = free_port()
    script = SERVER.format(local=str(ROOT / "local"), parties=8, port=port, threads=threads)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.05)
        return at_once(8, lambda: requests.get(url, timeout=30).status_code)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_gateway_server_runs_requests_side_by_side_on_its_threads() -> None:
    assert statuses_of_8_requests_at_once(threads=8) == [200] * 8


def test_with_one_thread_the_same_requests_cannot_meet() -> None:
    # the control: the assertion above fails for a server that serves one request at a time
    assert 500 in statuses_of_8_requests_at_once(threads=1)
