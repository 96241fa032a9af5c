"""Latency of the local Firestore emulator through the real google-cloud-firestore client.

Starts the emulator (local/firestore_emulator) in its own process on a free port, as the local stack runs it,
then times, one request after another:

* get     — ``DocumentReference.get()`` of one document;
* commit  — ``DocumentReference.set()`` of one small document;
* query   — 1,000 documents, one equality filter, one order, limit 20.

Prints min and median milliseconds of each. Run: ``.venv/bin/python bench/firestore_emulator.py``.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

LOCAL = Path(__file__).resolve().parents[1] / "local"
RUNS = {"get": 500, "commit": 500, "query": 200}
WARMUP = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(operation: Callable[[], object], runs: int) -> list[float]:
    for _ in range(WARMUP):
        operation()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        operation()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    port = free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "firestore_emulator", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(LOCAL)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert emulator.stdout is not None
        emulator.stdout.readline()  # "firestore emulator listening on ..."
        os.environ["FIRESTORE_EMULATOR_HOST"] = f"127.0.0.1:{port}"
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import firestore
        from google.cloud.firestore_v1.base_query import FieldFilter

        db = firestore.Client(project="demo-bench", credentials=AnonymousCredentials())
        doc = db.document("bench/doc")
        doc.set({"name": "Ada", "n": 1, "tags": ["a", "b"]})
        items = db.collection("items")
        for start in range(0, 1000, 500):
            batch = db.batch()
            for n in range(start, start + 500):
                batch.set(items.document(f"item-{n:04d}"), {"n": n, "category": n % 10, "title": f"item {n}"})
            batch.commit()
        query = items.where(filter=FieldFilter("category", "==", 3)).order_by("n", direction="DESCENDING").limit(20)
        assert len(query.get()) == 20
        counter = iter(range(10**9))
        results = {
            "get": timed(doc.get, RUNS["get"]),
            "commit": timed(lambda: doc.set({"name": "Ada", "n": next(counter), "tags": ["a", "b"]}), RUNS["commit"]),
            "query": timed(query.get, RUNS["query"]),
        }
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)

    print("Firestore emulator, google-cloud-firestore client, sequential requests (ms)")
    print(f"{'operation':<10}{'runs':>6}{'min':>9}{'median':>9}")
    for name, samples in results.items():
        print(f"{name:<10}{len(samples):>6}{min(samples):>9.2f}{statistics.median(samples):>9.2f}")
    print("query: 1,000 documents, where category == 3, order by n descending, limit 20")


if __name__ == "__main__":
    main()
