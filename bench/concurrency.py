"""One review-card instance under production's server settings, at concurrency 1, 8 and 32.

Each row starts ``functions-framework --target review_card`` (what Cloud Functions gen2 runs:
gunicorn, one worker, ``THREADS`` gthread threads, the deploy setting ``THREADS`` to the
function's ``concurrency``) against the local stack's Firestore and Auth emulators, then sends it
``concurrency`` clients at once (what Cloud Run sends one instance at most), each a different
user reviewing their own cards. It prints requests per second, p50 and p99 (ms) and errors.

The emulators, the load generator and the function share this machine's cores, so the figures
are a floor of what one instance does with a core of its own; the ratio between the rows is what
chooses the manifest's ``concurrency``.

Run: ``.venv/bin/python local/stack exec --free-ports -- .venv/bin/python bench/concurrency.py``
(``--seconds`` per row, default 20; ``--levels 1,8,32``).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
from _stack import need, sign_up  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Instance:
    """review-card served by functions-framework's production server with ``threads`` threads."""

    def __init__(self, threads: int) -> None:
        self.port = free_port()
        env = {**os.environ, "THREADS": str(threads), "PYTHONPATH": str(ROOT / "lib")}
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "functions-framework"),
                "--target=review_card",
                f"--source={ROOT / 'functions' / 'review-card' / 'main.py'}",
                f"--port={self.port}",
                "--host=127.0.0.1",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.post(self.url, json={}, timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("review-card did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Student:
    def __init__(self, gateway: str, auth_host: str, cards: int) -> None:
        self.session = requests.Session()
        self.cards: list[str] = []
        self.uid, self.headers = sign_up(auth_host)
        deck = self._post(f"{gateway}/decks", {"name": "bench"}, 201)["id"]
        for _ in range(cards):
            made = self._post(f"{gateway}/cards", {"deckId": deck, "front": uuid.uuid4().hex, "back": "b"}, 201)
            self.cards.append(made["cards"][0]["id"])

    def _post(self, url: str, body: dict[str, Any], status: int = 200) -> Any:
        r = self.session.post(url, json=body, headers=self.headers, timeout=30)
        if r.status_code != status:
            raise RuntimeError(f"POST {url}: {r.status_code} {r.text[:200]}")
        return r.json()

    def review(self, url: str, i: int) -> int:
        body = {"cardId": self.cards[i % len(self.cards)], "rating": 3, "reviewId": uuid.uuid4().hex}
        return self.session.post(url, json=body, headers=self.headers, timeout=60).status_code


def measure(instance: Instance, students: list[Student], seconds: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(student: Student) -> None:
        nonlocal errors
        student.review(instance.url, 0)  # warm: connection, token cache
        i = 1
        while time.monotonic() < stop:
            t = time.perf_counter()
            status = student.review(instance.url, i)
            ms = (time.perf_counter() - t) * 1000
            with lock:
                latencies.append(ms)
                errors += status != 200
            i += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(s,)) for s in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--levels", default="1,8,32")
    args = parser.parse_args()
    gateway = need("GATEWAY_URL").rstrip("/")
    auth_host = need("FIREBASE_AUTH_EMULATOR_HOST")
    need("FIRESTORE_EMULATOR_HOST")
    levels = [int(x) for x in args.levels.split(",")]
    students = [Student(gateway, auth_host, cards=5) for _ in range(max(levels))]
    print(f"cores: {os.cpu_count()}  seconds per row: {args.seconds:g}")
    print(f"{'concurrency':>11} {'n':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}")
    for level in levels:
        instance = Instance(level)
        try:
            latencies, errors, elapsed = measure(instance, students[:level], args.seconds)
        finally:
            instance.stop()
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        print(
            f"{level:>11} {len(ordered):>6} {len(ordered) / elapsed:>7.1f} "
            f"{statistics.median(ordered):>7.1f} {p99:>7.1f} {errors:>6}",
            flush=True,
        )


if __name__ == "__main__":
    main()
