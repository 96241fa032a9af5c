"""One reminders run over many users of whom few are due: what it reads, writes and takes.

Seeds ``--users`` users (default 10,000) in the stack's Firestore emulator, ``--due`` of them
(default 300) with a reminder instant that has come and a card due, the others with their
next reminder tomorrow; each due user has one device. Then one run of
:func:`aksio.reminders.run.run` against the stack's FCM peer, with the emulator's operation
counters (Firestore bills) zeroed just before. Reads must follow the due users, not the total.

Run under the stack (scheduler clock off, so nothing else runs meanwhile)::

    AKSIO_SCHEDULER_CLOCK=off .venv/bin/python local/stack exec --free-ports -- .venv/bin/python bench/reminders.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stack import need

NOW = datetime(2026, 2, 2, 18, tzinfo=UTC)  # before the stack's real clock: no other user is due then


def counters_url() -> str:
    project = os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-aksio")
    return f"http://{need('FIRESTORE_EMULATOR_HOST')}/emulator/v1/projects/{project}:stats"


def seed(db: object, users: int, due: int, prefix: str) -> None:
    from aksio.study.model import Content, Schedule, new_card

    batch, pending = db.batch(), 0  # type: ignore[attr-defined]

    def add(ref: object, doc: dict[str, object]) -> None:
        nonlocal batch, pending
        batch.set(ref, doc)
        pending += 1
        if pending >= 450:
            batch.commit()
            batch, pending = db.batch(), 0  # type: ignore[attr-defined]

    col = db.collection("users")  # type: ignore[attr-defined]
    for n in range(users):
        uid = f"{prefix}{n:05d}"
        is_due = n < due
        at = NOW - timedelta(minutes=5) if is_due else NOW + timedelta(days=1)
        add(col.document(uid), {"settings": {"timezone": "UTC", "reminderHour": 18}, "nextReminderAt": at})
        if is_due:
            user = col.document(uid)
            add(user.collection("decks").document("d1"), {"name": "Cell biology"})
            cid, card = new_card("d1", Content(front=f"q{n}", back="a"), note=None, tags=[], now=NOW)
            card |= Schedule(state="review", due=NOW - timedelta(hours=1), stability=3.0, difficulty=5.0).to_stored()
            add(user.collection("cards").document(cid), card)
            add(user.collection("devices").document(f"dev{n}"), {"token": f"tok-{uid}", "platform": "android"})
    if pending:
        batch.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=300)
    args = parser.parse_args()
    need("FCM_API_BASE")
    from aksio.clients import firestore_client
    from aksio.reminders.run import run

    db = firestore_client()
    started = time.perf_counter()
    seed(db, args.users, args.due, f"bench-{uuid.uuid4().hex[:6]}-")
    seeded = time.perf_counter() - started
    requests.delete(counters_url(), timeout=10).raise_for_status()
    t = time.perf_counter()
    report = run(db, NOW, stop_at=time.monotonic() + 600)
    wall = time.perf_counter() - t
    ops = requests.get(counters_url(), timeout=10).json()
    print(f"users {args.users}, due {args.due}; seeded in {seeded:.1f} s")
    print(f"run: {wall:.2f} s, {report.reminded} reminded, pushes {report.pushes}, complete {report.complete}")
    print(
        f"Firestore: {ops['reads']} reads ({ops['reads'] / max(1, args.due):.1f} per due user), "
        f"{ops['writes']} writes, {ops['deletes']} deletes"
    )
    print(
        json.dumps(
            {
                "users": args.users,
                "due": args.due,
                "seconds": round(wall, 2),
                "reads": ops["reads"],
                "writes": ops["writes"],
                "reminded": report.reminded,
            }
        )
    )


if __name__ == "__main__":
    main()
