"""A course's progress on the local stack: Firestore reads (the emulator's counters) and
latency of GET /courses/{id}/progress for a course of 5,000 cards in two decks (after a few
reviews, so the aggregates are there), beside GET /stats of the same course.

Run under the stack:
``.venv/bin/python local/stack exec -- .venv/bin/python bench/course_progress.py [--cards 5000] [--runs 30]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
from _stack import need, sign_up  # noqa: E402

from aksio.study.model import Content, new_card  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    gateway, auth_host = need("GATEWAY_URL"), need("FIREBASE_AUTH_EMULATOR_HOST")
    host = need("FIRESTORE_EMULATOR_HOST")
    project = os.environ.get("GOOGLE_CLOUD_PROJECT") or "demo-aksio"
    stats_url = f"http://{host}/emulator/v1/projects/{project}:stats"
    session = requests.Session()
    uid, headers = sign_up(auth_host)

    def call(method: str, path: str, status: int = 200, **kw: Any) -> Any:
        r = session.request(method, f"{gateway}{path}", headers=headers, timeout=60, **kw)
        if r.status_code != status:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json()

    exam = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    course = call("POST", "/courses", 201, json={"name": "Bench", "examDate": exam})["id"]
    decks = [call("POST", "/decks", 201, json={"name": f"D{i}"})["id"] for i in range(2)]
    for deck in decks:
        call("PATCH", f"/decks/{deck}", json={"courseId": course})
    from google.cloud import firestore

    db = firestore.Client(project=project)
    col = db.collection("users").document(uid).collection("cards")
    now = datetime.now(UTC) - timedelta(days=1)
    for start in range(0, args.cards, 400):
        batch = db.batch()
        for i in range(start, min(args.cards, start + 400)):
            cid, doc = new_card(decks[i % 2], Content(front=f"q{i}", back="a"), note=None, tags=[], now=now)
            batch.set(col.document(cid), doc)
        batch.commit()
    queue = call("GET", "/study-queue", params={"courseId": course, "limit": 20})["cards"]
    for card in queue:
        call("POST", "/review-card", json={"cardId": card["id"], "rating": 3, "reviewId": uuid.uuid4().hex})
    print(f"course of {args.cards} cards in 2 decks, {len(queue)} reviewed, exam in 30 days")
    for label, path, params in (
        ("progress", f"/courses/{course}/progress", {}),
        ("stats?courseId", "/stats", {"courseId": course}),
    ):
        session.delete(stats_url, timeout=10).raise_for_status()
        call("GET", path, params=params)
        reads = int(session.get(stats_url, timeout=10).json().get("reads", 0))
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            call("GET", path, params=params)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"{label:>16}: {reads} Firestore reads; p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
