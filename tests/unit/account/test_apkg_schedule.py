"""A deck exported as ``.apkg`` keeps each reviewed card's FSRS state where Anki reads it:
the package is opened with the official ``anki`` library (26.9.3), which must see the memory
state (stability, difficulty), the type, queue, interval and due of each card we wrote; a new
card stays new."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aksio.account import anki

LAST = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
CARDS: list[dict[str, Any]] = [
    {"id": "new", "kind": "basic", "front": "f0", "back": "b0", "state": "new"},
    {
        "id": "rev",
        "kind": "basic",
        "front": "f1",
        "back": "b1",
        "state": "review",
        "stability": 23.456789,
        "difficulty": 5.4321,
        "lastReview": LAST.isoformat(),
        "due": (LAST + timedelta(days=21)).isoformat(),
        "reps": 7,
        "lapses": 1,
    },
    {
        "id": "lrn",
        "kind": "cloze",
        "noteId": "n1",
        "clozeIndex": 2,
        "text": "{{c1::Oslo}} is in {{c2::Norway}}",
        "state": "relearning",
        "stability": 0.75,
        "difficulty": 8.123,
        "lastReview": LAST,
        "due": LAST + timedelta(minutes=10),
        "reps": 4,
        "lapses": 2,
    },
    {"id": "c1", "kind": "cloze", "noteId": "n1", "clozeIndex": 1, "text": "{{c1::Oslo}} is in {{c2::Norway}}"},
]


def open_with_anki(data: bytes, tmp: str) -> Any:
    from anki.collection import Collection

    path = os.path.join(tmp, "collection.anki2")
    with open(path, "wb") as f:
        f.write(zipfile.ZipFile(io.BytesIO(data)).read("collection.anki2"))
    return Collection(path)


def test_anki_reads_the_fsrs_state_of_each_reviewed_card_we_export() -> None:
    data = anki.package("d1", "Deck", CARDS, retention=0.85)
    with tempfile.TemporaryDirectory() as tmp:
        col = open_with_anki(data, tmp)
        try:
            crt = col.db.scalar("select crt from col")
            got: dict[tuple[str, int], Any] = {}
            for cid in col.find_cards(""):
                card = col.get_card(cid)
                got[(card.note().guid, card.ord)] = card
            assert len(got) == 4
            new = got[(anki.genanki_guid("new"), 0)]
            assert (new.type, new.queue, new.memory_state) == (0, 0, None)
            untouched = got[(anki.genanki_guid("n1"), 0)]
            assert (untouched.type, untouched.queue, untouched.memory_state) == (0, 0, None)

            rev = got[(anki.genanki_guid("rev"), 0)]
            assert (rev.type, rev.queue, rev.ivl, rev.reps, rev.lapses) == (2, 2, 21, 7, 1)
            assert rev.due == (int((LAST + timedelta(days=21)).timestamp()) - crt) // 86_400
            assert rev.memory_state.stability == pytest.approx(23.456789, rel=1e-6)
            assert rev.memory_state.difficulty == pytest.approx(5.4321, rel=1e-6)
            assert rev.desired_retention == pytest.approx(0.85, rel=1e-6)

            lrn = got[(anki.genanki_guid("n1"), 1)]
            assert (lrn.type, lrn.queue, lrn.ivl, lrn.reps, lrn.lapses) == (3, 1, 0, 4, 2)
            assert lrn.due == int((LAST + timedelta(minutes=10)).timestamp())
            assert lrn.memory_state.stability == pytest.approx(0.75, rel=1e-6)
            assert lrn.memory_state.difficulty == pytest.approx(8.123, rel=1e-6)
        finally:
            col.close()


def test_a_deck_without_reviews_is_written_as_genanki_writes_it() -> None:
    cards = [c for c in CARDS if c.get("state") in (None, "new")]
    data = anki.package("d1", "Deck", cards)
    with tempfile.TemporaryDirectory() as tmp:
        col = open_with_anki(data, tmp)
        try:
            assert col.db.scalar("select count() from cards where type != 0 or data != ''") == 0
        finally:
            col.close()
