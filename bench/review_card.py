"""review-card latency through the gateway, beside the floor on the same stack.

Rows (p50 / p99 / mean in ms, and requests per second):

* ``health``: GET /health through the gateway (HTTP, the pipeline, one Firestore read);
* ``raw transaction``: one Firestore transaction straight from this process, shaped like a
  review (get_all of 2 documents, 3 writes), no HTTP and no token check: the storage floor;
* ``review-card``: POST /review-card with a real Auth-emulator token (token check, the
  transaction, FSRS, the review log, the stats).

Each at 1 client and at 8 concurrent clients; for review-card the 8 clients are either 8
users (the normal case) or one user reviewing 8 different cards at once (every review
then contends for the same user document).

Run under the stack: ``.venv/bin/python local/stack exec -- .venv/bin/python bench/review_card.py``
(needs GATEWAY_URL, FIRESTORE_EMULATOR_HOST, FIREBASE_AUTH_EMULATOR_HOST).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
from _stack import need, sign_up  # noqa: E402


class Student:
    def __init__(self, gateway: str, auth_host: str) -> None:
        self.gateway = gateway
        self.session = requests.Session()
        self.uid, self.headers = sign_up(auth_host)
        deck = self.post("/decks", {"name": "bench"}, 201)["id"]
        self.deck = deck

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        r = self.session.post(f"{self.gateway}{path}", json=body, headers=self.headers, timeout=30)
        if r.status_code != status:
            raise RuntimeError(f"POST {path}: {r.status_code} {r.text}")
        return r.json()

    def card(self) -> str:
        body = {"deckId": self.deck, "front": uuid.uuid4().hex, "back": "b"}
        return str(self.post("/cards", body, 201)["cards"][0]["id"])

    def review(self, card_id: str) -> None:
        self.post("/review-card", {"cardId": card_id, "rating": 3, "reviewId": uuid.uuid4().hex})


def run(clients: int, per_client: int, make: Callable[[int], Callable[[], None]]) -> tuple[list[float], float]:
    """Latencies (ms) of ``clients`` threads each calling its own ``make(i)()`` ``per_client`` times."""
    calls = [make(i) for i in range(clients)]
    for call in calls:  # warm up: connections, function instances, caches
        call()

    def worker(i: int) -> list[float]:
        out = []
        for _ in range(per_client):
            t = time.perf_counter()
            calls[i]()
            out.append((time.perf_counter() - t) * 1000)
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [x for chunk in pool.map(worker, range(clients)) for x in chunk]
    return latencies, time.perf_counter() - started


def row(name: str, clients: int, latencies: list[float], seconds: float) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"{name:<34} {clients:>7} {len(ordered):>6} {p50:>8.1f} {p99:>8.1f} "
        f"{statistics.fmean(ordered):>8.1f} {len(ordered) / seconds:>8.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=200, help="requests per scenario (default 200)")
    args = parser.parse_args()
    gateway = need("GATEWAY_URL").rstrip("/")
    auth_host = need("FIREBASE_AUTH_EMULATOR_HOST")
    need("FIRESTORE_EMULATOR_HOST")
    from google.cloud import firestore

    from aksio.clients import firestore_client

    db = firestore_client()
    health = requests.Session()

    def health_call(_: int) -> Callable[[], None]:
        def call() -> None:
            r = health.get(f"{gateway}/health", timeout=30)
            r.raise_for_status()

        return call

    def raw_call(i: int) -> Callable[[], None]:
        user = db.collection("bench").document(f"u{uuid.uuid4().hex[:8]}")
        card = user.collection("cards").document(f"c{i}")
        card.set({"reps": 0})

        def call() -> None:
            @firestore.transactional
            def tx_fn(tx: Any) -> None:
                snaps = list(tx.get_all([card, user]))
                reps = (snaps[0].to_dict() or {}).get("reps", 0) if snaps else 0
                tx.update(card, {"reps": reps + 1, "due": firestore.SERVER_TIMESTAMP})
                tx.create(user.collection("reviews").document(uuid.uuid4().hex), {"rating": 3})
                tx.set(user, {"stats": {"totalReviews": reps + 1}}, merge=True)

            tx_fn(db.transaction(max_attempts=25))

        return call

    students = [Student(gateway, auth_host) for _ in range(8)]
    one = students[0]
    shared_cards = [one.card() for _ in range(8)]

    def review_own_user(i: int) -> Callable[[], None]:
        card = students[i].card()
        return lambda: students[i].review(card)

    def review_shared_user(i: int) -> Callable[[], None]:
        return lambda: one.review(shared_cards[i])

    n = args.requests
    print(f"{'scenario':<34} {'clients':>7} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'req/s':>8}")
    scenarios: list[tuple[str, int, Callable[[int], Callable[[], None]]]] = [
        ("health (gateway)", 1, health_call),
        ("raw Firestore transaction", 1, raw_call),
        ("review-card (gateway)", 1, review_own_user),
        ("health (gateway)", 8, health_call),
        ("raw Firestore transaction", 8, raw_call),
        ("review-card, 8 users", 8, review_own_user),
        ("review-card, 1 user x 8 cards", 8, review_shared_user),
    ]
    for name, clients, make in scenarios:
        latencies, seconds = run(clients, max(1, n // clients), make)
        print(row(name, clients, latencies, seconds), flush=True)


if __name__ == "__main__":
    main()
