"""The review and undo rules as services, on an in-memory repository: no I/O, milliseconds.

The same services run on Firestore in production (tests/e2e/study cover that path); here
each rule is pinned down, including what a concurrent commit between a transaction's reads
and its commit does to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aksio import errors
from aksio.study import api, reviews
from aksio.study.model import Content, new_card
from tests.service.memory import ATTEMPTS, USER, Memory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def memory_with_card(front: str = "What is ATP?", **settings: object) -> tuple[Memory, str]:
    memory = Memory()
    card_id, doc = new_card("d1", Content(front=front, back="energy"), note=None, tags=[], now=T0 - timedelta(days=1))
    memory.put(("decks", "d1"), {"name": "Biology"})
    memory.put(("cards", card_id), doc)
    if settings:
        memory.put(USER, {"settings": settings})
    return memory, card_id


def review(memory: Memory, card_id: str, review_id: str, rating: int | str = 3, clock: Clock | None = None):  # type: ignore[no-untyped-def]
    body = api.ReviewRequest(card_id=card_id, rating=rating, review_id=review_id)
    return reviews.review_card(memory, body, clock=clock or Clock())


def test_a_review_changes_the_card_logs_it_and_counts_it_in_one_commit() -> None:
    memory, card_id = memory_with_card()
    result, replayed = review(memory, card_id, "review-0001", rating="good")
    assert not replayed
    assert memory.commits == 1
    card = memory.get(("cards", card_id))
    assert card is not None
    assert (card["reps"], card["lastReviewId"], card["state"]) == (1, "review-0001", result.card.state)
    assert card["due"] == result.card.due > T0
    log = memory.get(("reviews", "review-0001"))
    assert log is not None
    assert (log["cardId"], log["rating"], log["before"]["state"]) == (card_id, 3, "new")
    user = memory.get(USER)
    assert user is not None
    assert user["stats"]["totalReviews"] == 1
    assert user["nextDueAt"] == card["due"]
    assert user["nextReminderAt"] == datetime(2026, 3, 2, 18, tzinfo=UTC)  # the first reminder: 18:00 UTC today


def test_the_first_reminder_instant_is_set_once_in_the_same_write() -> None:
    memory, card_id = memory_with_card(timezone="Europe/Oslo", reminderHour=7)
    review(memory, card_id, "review-0001")
    assert memory.get(USER)["nextReminderAt"] == datetime(2026, 3, 3, 6, tzinfo=UTC)  # type: ignore[index]
    memory.put(USER, memory.get(USER) | {"nextReminderAt": T0})  # type: ignore[operator]
    clock = Clock()
    clock.advance(days=3)
    review(memory, card_id, "review-0002", clock=clock)
    assert memory.get(USER)["nextReminderAt"] == T0  # type: ignore[index]  # the run owns it once set


def test_the_same_review_id_again_is_a_replay_that_writes_nothing() -> None:
    memory, card_id = memory_with_card()
    first, _ = review(memory, card_id, "review-0001")
    again, replayed = review(memory, card_id, "review-0001", rating=1)  # even with another rating
    assert replayed
    assert again == first
    assert memory.commits == 1
    assert memory.get(USER)["stats"]["totalReviews"] == 1  # type: ignore[index]


def test_a_review_id_used_for_another_card_is_a_conflict() -> None:
    memory, card_id = memory_with_card()
    other_id, other = new_card("d1", Content(front="Q2", back="A2"), note=None, tags=[], now=T0)
    memory.put(("cards", other_id), other)
    review(memory, card_id, "review-0001")
    with pytest.raises(errors.Conflict) as info:
        review(memory, other_id, "review-0001")
    assert info.value.code == "review_id_conflict"
    assert memory.get(("cards", other_id))["reps"] == 0  # type: ignore[index]


def test_a_duplicate_delivery_committing_first_makes_the_other_a_replay() -> None:
    memory, card_id = memory_with_card()
    outcomes = []
    memory.interleave = lambda m: outcomes.append(review(m, card_id, "review-0001"))  # lands between reads and commit
    result, replayed = review(memory, card_id, "review-0001")
    assert replayed
    assert outcomes[0] == (result, False)
    assert memory.paths("reviews") == [("reviews", "review-0001")]
    assert memory.get(("cards", card_id))["reps"] == 1  # type: ignore[index]
    assert memory.get(USER)["stats"]["totalReviews"] == 1  # type: ignore[index]


def test_two_different_reviews_racing_on_one_card_both_apply_in_order() -> None:
    memory, card_id = memory_with_card()
    clock = Clock()
    memory.interleave = lambda m: review(m, card_id, "review-000a", rating=1, clock=clock)
    clock.advance(seconds=30)
    result, replayed = review(memory, card_id, "review-000b", rating=3, clock=clock)
    assert not replayed
    card = memory.get(("cards", card_id))
    assert card is not None
    assert (card["reps"], card["lastReviewId"]) == (2, "review-000b")
    b_log = memory.get(("reviews", "review-000b"))
    assert b_log is not None
    assert b_log["before"]["lastReviewId"] == "review-000a"  # the retried attempt read the card after r-a
    assert memory.get(USER)["stats"]["byRating"] == {"again": 1, "hard": 0, "good": 1, "easy": 0}  # type: ignore[index]
    assert result.card.reps == 2


def test_endless_contention_is_a_contention_error_and_writes_nothing() -> None:
    memory, card_id = memory_with_card()
    stamp = iter(range(1000))

    def touch(m: Memory) -> None:
        m.put(("cards", card_id), m.get(("cards", card_id)) | {"touched": next(stamp)})  # type: ignore[operator]
        m.interleave = touch  # again before every attempt's commit

    memory.interleave = touch
    with pytest.raises(errors.Contention):
        review(memory, card_id, "review-0001")
    assert memory.attempts == ATTEMPTS
    assert memory.paths("reviews") == []
    assert memory.get(("cards", card_id))["reps"] == 0  # type: ignore[index]


def test_a_bad_rating_or_time_is_refused_before_anything_is_read() -> None:
    memory, card_id = memory_with_card()
    with pytest.raises(errors.Invalid):
        review(memory, card_id, "review-0001", rating=5)
    future = api.ReviewRequest(card_id=card_id, rating=3, review_id="review-0002", reviewed_at=T0 + timedelta(days=2))
    with pytest.raises(errors.Invalid):
        reviews.review_card(memory, future, clock=Clock())
    assert memory.attempts == 0


def test_a_missing_card_is_not_found_but_a_retry_after_deletion_gets_its_answer() -> None:
    memory, card_id = memory_with_card()
    with pytest.raises(errors.NotFound):
        review(memory, "c-missing", "review-0000")
    first, _ = review(memory, card_id, "review-0001")
    del memory.docs[("cards", card_id)]
    again, replayed = review(memory, card_id, "review-0001")
    assert (again, replayed) == (first, True)


def test_a_suspended_card_cannot_be_reviewed_but_the_review_that_suspended_it_replays() -> None:
    memory, card_id = memory_with_card(leechThreshold=1, leechAction="suspend")
    clock = Clock()
    review(memory, card_id, "review-0001", rating=3, clock=clock)
    clock.advance(days=30)
    review(memory, card_id, "review-0002", rating=3, clock=clock)
    clock.advance(days=90)
    lapse, _ = review(memory, card_id, "review-0003", rating=1, clock=clock)  # a lapse at threshold 1: a leech
    assert lapse.leech
    card = memory.get(("cards", card_id))
    assert card is not None
    assert card["suspended"]
    again, replayed = review(memory, card_id, "review-0003", rating=1, clock=clock)
    assert (again, replayed) == (lapse, True)
    with pytest.raises(errors.Conflict) as info:
        review(memory, card_id, "review-0004", clock=clock)
    assert info.value.code == "card_suspended"


def test_undo_restores_the_card_and_the_stats_and_keeps_the_log_marked() -> None:
    memory, card_id = memory_with_card()
    before = memory.get(("cards", card_id))
    review(memory, card_id, "review-0001")
    undone = reviews.undo(memory, api.UndoRequest(card_id=card_id), clock=Clock())
    assert undone.review_id == "review-0001"
    card = memory.get(("cards", card_id))
    assert card is not None
    assert before is not None
    assert (card["state"], card["reps"], card["due"], card["lastReviewId"]) == (
        before["state"],
        before["reps"],
        before["due"],
        None,
    )
    assert memory.get(USER)["stats"]["totalReviews"] == 0  # type: ignore[index]
    assert memory.get(("reviews", "review-0001"))["undoneAt"] == T0  # type: ignore[index]
    again = reviews.undo(memory, api.UndoRequest(card_id=card_id, review_id="review-0001"), clock=Clock())
    assert again == undone
    commits = memory.commits
    _, replayed = review(memory, card_id, "review-0001")  # a late retry of the undone review stays undone
    assert replayed
    assert memory.get(("cards", card_id))["reps"] == 0  # type: ignore[index]
    assert memory.commits == commits


def test_only_the_last_review_can_be_undone() -> None:
    memory, card_id = memory_with_card()
    with pytest.raises(errors.Conflict) as info:
        reviews.undo(memory, api.UndoRequest(card_id=card_id), clock=Clock())
    assert info.value.code == "nothing_to_undo"
    clock = Clock()
    review(memory, card_id, "review-0001", clock=clock)
    clock.advance(days=3)
    review(memory, card_id, "review-0002", clock=clock)
    with pytest.raises(errors.Conflict) as info:
        reviews.undo(memory, api.UndoRequest(card_id=card_id, review_id="review-0001"), clock=clock)
    assert info.value.code == "not_last_review"
    with pytest.raises(errors.NotFound):
        reviews.undo(memory, api.UndoRequest(card_id=card_id, review_id="review-000x"), clock=clock)
    assert memory.get(("cards", card_id))["reps"] == 2  # type: ignore[index]
