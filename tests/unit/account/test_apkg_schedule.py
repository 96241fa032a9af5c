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


def log(at: datetime, rating: int, before: str, due: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "rating": rating,
        "reviewedAt": at.isoformat(),
        "durationMs": 4_200,
        "before": {"state": before},
        "after": {"state": "review" if due - at >= timedelta(days=1) else "relearning", "due": due.isoformat()},
    } | extra


REVIEWS = {
    "rev": [
        log(LAST - timedelta(days=30), 3, "new", LAST - timedelta(days=27)),
        log(LAST - timedelta(days=27), 3, "review", LAST),
        log(LAST - timedelta(days=27, seconds=-5), 1, "review", LAST, undoneAt="2026-10-05T00:00:00Z"),
        log(LAST, 3, "review", LAST + timedelta(days=21)),
    ],
    "lrn": [
        log(LAST - timedelta(days=3), 3, "new", LAST),
        log(LAST, 1, "review", LAST + timedelta(minutes=10)),
    ],
}


def test_the_review_logs_go_into_the_revlog_and_the_state_comes_back_exactly_on_import() -> None:
    from aksio.account import apkg, revlog

    data = anki.package("d1", "Deck", CARDS, reviews=REVIEWS)
    with tempfile.TemporaryDirectory() as tmp:
        col = open_with_anki(data, tmp)
        try:
            sql = "select r.ease, r.type, r.ivl, r.time, c.ord, c.type from revlog r join cards c on c.id = r.cid"
            rows = col.db.all(sql)
        finally:
            col.close()
    # the undone review is not exported; Anki's revlog type follows the state before
    rev = [(3, 0, 3, 4_200, 0, 2), (3, 1, 27, 4_200, 0, 2), (3, 1, 21, 4_200, 0, 2)]
    lrn = [(3, 0, 3, 4_200, 1, 3), (1, 1, -600, 4_200, 1, 3)]
    assert sorted(map(tuple, rows)) == sorted(rev + lrn)
    package = apkg.parse(data)
    assert package.reviews == 5
    histories = [h for of_note in package.histories for h in of_note.values()]
    got = {
        (h.card_type, s.reps): s
        for h, s in zip(histories, revlog.schedules(histories, parameters=None, retention=0.9), strict=True)
        if s is not None
    }
    assert set(got) == {(2, 3), (3, 2)}
    # the memory state read from the package is ours exactly (recomputing it from 3 reviews would not be)
    assert (got[(2, 3)].state, got[(2, 3)].stability, got[(2, 3)].difficulty) == ("review", 23.456789, 5.4321)
    assert (got[(3, 2)].state, got[(3, 2)].stability, got[(3, 2)].difficulty) == ("relearning", 0.75, 8.123)
    assert got[(2, 3)].last_review == LAST
    assert got[(2, 3)].due == LAST + timedelta(days=21)
    # a revlog id is unique: the other card's review at the same ms took it, this one moved a ms on
    assert got[(3, 2)].last_review == LAST + timedelta(milliseconds=1)
    assert got[(3, 2)].due == LAST + timedelta(minutes=10, milliseconds=1)


def test_a_package_data_that_is_not_a_memory_state_is_ignored() -> None:
    from aksio.account import revlog

    assert revlog.memory_of('{"s": 3.5, "d": 4.0, "dr": 0.9}') == (3.5, 4.0)
    for bad in ("", "{", "[]", '{"s": 3.5}', '{"s": -1, "d": 4}', '{"s": 3, "d": 11}', '{"s": true, "d": 4}', None):
        assert revlog.memory_of(bad) is None
