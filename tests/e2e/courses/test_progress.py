"""A course's progress through the gateway: cards by state, reviews and time per day, mastery
and recall on the exam date from the aggregates the review keeps; a course of 5,000 cards
costs at most 20 Firestore reads (emulator counters); a review still costs 2 reads and 3
writes with the aggregates in its user write."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aksio.study.model import Content, new_card
from tests.e2e.courses.conftest import CourseClient
from tests.e2e.study.conftest import Counters

pytestmark = pytest.mark.stack


def bulk_cards(firestore_db: Any, uid: str, deck_id: str, n: int) -> None:
    """``n`` new cards written straight to the emulator (setup, not the subject)."""
    col = firestore_db.collection("users").document(uid).collection("cards")
    now = datetime.now(UTC) - timedelta(days=1)
    for start in range(0, n, 400):
        batch = firestore_db.batch()
        for i in range(start, min(n, start + 400)):
            card_id, doc = new_card(deck_id, Content(front=f"{deck_id} {i}", back="b"), note=None, tags=[], now=now)
            batch.set(col.document(card_id), doc)
        batch.commit()


def test_progress_of_a_course(client: CourseClient, firestore_db: Any, counters: Counters) -> None:
    exam = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    course = client.course("Physiology", examDate=exam, sections=[{"name": "Heart"}, {"name": "Lungs"}])
    heart, lungs = (s["id"] for s in course["sections"])
    decks = [client.deck("Heart"), client.deck("Lungs")]
    for deck, section in zip(decks, (heart, lungs), strict=True):
        client.ok("PATCH", f"/decks/{deck}", json={"courseId": course["id"], "sectionId": section})
    outside = client.deck("Outside")
    bulk_cards(firestore_db, client.user.uid, decks[0], 2500)
    bulk_cards(firestore_db, client.user.uid, decks[1], 2500)
    bulk_cards(firestore_db, client.user.uid, outside, 10)
    queue = client.ok("GET", "/study-queue", params={"courseId": course["id"], "sectionId": heart, "limit": 3})
    reviewed = [card["id"] for card in queue["cards"]]
    assert len(reviewed) == 3
    measured = []
    for card_id in reviewed:
        counters.reset()
        body = {"cardId": card_id, "rating": 3, "reviewId": uuid.uuid4().hex, "durationMs": 4000}
        client.ok("POST", "/review-card", json=body)
        measured.append(counters.read())
    assert all(m["reads"] <= 2 and m["writes"] == 3 for m in measured), measured
    outside_card = client.ok("GET", "/study-queue", params={"deckId": outside, "limit": 1})["cards"][0]["id"]
    client.ok("POST", "/review-card", json={"cardId": outside_card, "rating": 1, "reviewId": uuid.uuid4().hex})

    counters.reset()
    progress = client.ok("GET", f"/courses/{course['id']}/progress", params={"days": 7})
    reads = counters.read()["reads"]
    assert reads <= 20, reads
    assert progress["cards"]["total"] == 5000
    assert progress["cards"]["new"] == 4997
    assert progress["cards"]["learning"] == 3
    today = progress["reviewsPerDay"][-1]
    assert (today["reviews"], today["timeMs"]) == (3, 12000)
    mastery = progress["mastery"]
    assert mastery["seenCards"] == 3
    assert 0.9 < mastery["meanRecall"] <= 1.0
    assert progress["exam"]["date"] == exam
    assert progress["exam"]["recallIfNoReviews"] < mastery["meanRecall"]
    lungs_only = client.ok("GET", f"/courses/{course['id']}/progress", params={"sectionId": lungs})
    assert (lungs_only["cards"]["total"], lungs_only["mastery"]["seenCards"]) == (2500, 0)
    deck_only = client.ok("GET", f"/courses/{course['id']}/progress", params={"deckId": decks[0]})
    assert deck_only["mastery"]["seenCards"] == 3
    wrong = client.call("GET", f"/courses/{course['id']}/progress", params={"deckId": outside})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (404, "deck_not_found")
