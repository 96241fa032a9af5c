"""Importing an Anki package with its review history: wall time and peak memory.

The package is made by Anki's own library (tests/ankideck.py, in a child process so its
memory is not counted here): 2,000 notes (1,600 basic, 400 cloze of two deletions: 2,400
cards) and 20,000 review log rows. The import is the job's own code, ``imports.run`` (read the
upload from Storage, parse, turn each card's history into an FSRS memory state with
fsrs-rs, create the deck and the cards in Firestore, finish), run in this process against the
stack's Firestore and Storage emulators. Printed: the wall time of the whole import and of its
pure phases (parse, memory states) measured alone, the peak of Python's allocations during the
import (tracemalloc) and the peak resident set size of the process (which includes the Rust
side and the client libraries), and a check that every card was created with its schedule.

Run under the stack: ``.venv/bin/python local/stack exec -- .venv/bin/python bench/apkg_import.py``
(``--notes``, ``--reviews``).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT / "bench"))
from _stack import need  # noqa: E402

MAKE = """
import sys
sys.path.insert(0, {root!r})
from tests import ankideck
made = ankideck.package(notes={notes}, revlog={reviews})
open({out!r}, "wb").write(made.data)
"""


def make_package(notes: int, reviews: int) -> bytes:
    with tempfile.NamedTemporaryFile(suffix=".apkg") as f:
        code = MAKE.format(root=str(ROOT), notes=notes, reviews=reviews, out=f.name)
        subprocess.run([sys.executable, "-c", code], check=True, timeout=600)
        return Path(f.name).read_bytes()


def pure_phases(data: bytes) -> None:
    """Parsing and the memory states, timed alone."""
    from aksio.account import apkg, revlog

    t = time.perf_counter()
    package = apkg.parse(data)
    parse_s = time.perf_counter() - t
    histories = [h for of_note in package.histories for h in of_note.values()]
    t = time.perf_counter()
    revlog.schedules(histories, parameters=None, retention=0.9)
    states_s = time.perf_counter() - t
    print(f"notes {len(package.notes)}, cards {len(histories)}, review log rows {package.reviews}")
    print(f"parse: {parse_s:.2f} s; memory states (fsrs-rs, {len(histories)} histories): {states_s:.2f} s")


def cards_of(db: object, uid: str, deck_id: str) -> list[dict[str, object]]:
    from aksio import firestore as fs
    from aksio.study import queries as q

    out: list[dict[str, object]] = []
    cursor: str | None = None
    while True:
        snaps, cursor = q.page_cards(db, uid, deck_id, cursor, 500)  # type: ignore[arg-type]
        out += [fs.data_of(s) for s in snaps]
        if cursor is None:
            return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=2_000)
    parser.add_argument("--reviews", type=int, default=20_000)
    args = parser.parse_args()
    need("FIRESTORE_EMULATOR_HOST")
    need("STORAGE_EMULATOR_HOST")

    from aksio import firestore as fs
    from aksio.account import imports
    from aksio.account import repository as repo
    from aksio.clients import firestore_client, storage_client
    from aksio.config import get_config

    started = time.perf_counter()
    data = make_package(args.notes, args.reviews)
    print(f"package made by anki: {len(data) / 1e6:.2f} MB in {time.perf_counter() - started:.1f} s")

    pure_phases(data)

    db = firestore_client()
    bucket = storage_client().bucket(get_config().upload_bucket)

    def queued() -> tuple[str, str, dict[str, object]]:
        uid, import_id = f"bench-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
        now = fs.utcnow()
        doc = {"status": "queued", "filename": "deck.apkg", "deckName": "Bench", "deckId": import_id[:20]}
        repo.create_import(db, uid, import_id, doc | {"createdAt": now, "updatedAt": now})
        bucket.blob(imports.object_path(uid, import_id)).upload_from_string(data)
        return uid, import_id, doc

    uid, import_id, doc = queued()  # timed alone
    t = time.perf_counter()
    imports.run(db, uid, import_id)
    wall = time.perf_counter() - t

    uid, import_id, doc = queued()  # the same import again (another user) under tracemalloc
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    t = time.perf_counter()
    outcome = imports.run(db, uid, import_id)
    traced_wall = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    result = imports.get(db, uid, import_id)
    deck_cards = cards_of(db, uid, str(doc["deckId"]))
    scheduled = sum(1 for c in deck_cards if c.get("state") != "new")
    print(f"import: {outcome}, result {result.get('result')}")
    print(f"cards in Firestore: {len(deck_cards)}, with a schedule from their history: {scheduled}")
    print(f"import wall time: {wall:.2f} s ({traced_wall:.2f} s under tracemalloc)")
    print(f"peak Python allocations during the import (tracemalloc): {peak / 1e6:.1f} MB")
    print(f"peak RSS of the process: {rss:.0f} MB (before the import: {rss_before:.0f} MB)")


if __name__ == "__main__":
    main()
