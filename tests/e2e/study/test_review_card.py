"""review-card through the gateway, with real Auth-emulator users and the Firestore
emulator: py-fsrs parity, concurrency, idempotency, cost, errors, undo."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier
from typing import Any

import fsrs
import pytest

from tests.e2e.study.conftest import Client, Counters

pytestmark = pytest.mark.stack

STATE_NAMES = {fsrs.State.Learning: "learning", fsrs.State.Review: "review", fsrs.State.Relearning: "relearning"}


def fuzz_off(firestore_db: Any, uid: str) -> None:
    """Turn fuzz off for this user (the hidden ``fsrs`` map of ``users/{uid}``)."""
    firestore_db.collection("users").document(uid).set({"fsrs": {"enableFuzzing": False}}, merge=True)


def card_doc(firestore_db: Any, uid: str, card_id: str) -> dict[str, Any]:
    return firestore_db.collection("users").document(uid).collection("cards").document(card_id).get().to_dict()


def user_doc(firestore_db: Any, uid: str) -> dict[str, Any]:
    return firestore_db.collection("users").document(uid).get().to_dict() or {}


def logs_of(firestore_db: Any, uid: str, card_id: str) -> list[dict[str, Any]]:
    col = firestore_db.collection("users").document(uid).collection("reviews")
    return [s.to_dict() for s in col.stream() if s.to_dict().get("cardId") == card_id]


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def assert_matches(stored: dict[str, Any], expected: fsrs.Card) -> None:
    assert stored["state"] == STATE_NAMES[expected.state]
    assert stored["step"] == expected.step
    assert stored["stability"] == expected.stability
    assert stored["difficulty"] == expected.difficulty
    assert stored["due"] == expected.due
    assert stored["lastReview"] == expected.last_review


def test_stored_card_equals_py_fsrs_for_a_scripted_sequence(client: Client, firestore_db: Any) -> None:
    settings = {"desiredRetention": 0.85, "learningStepsMinutes": [1, 10], "relearningStepsMinutes": [10]}
    client.ok("PATCH", "/account", json={"settings": settings})
    fuzz_off(firestore_db, client.user.uid)
    card_id = client.card(client.deck())
    scheduler = fsrs.Scheduler(
        desired_retention=0.85,
        learning_steps=(timedelta(minutes=1), timedelta(minutes=10)),
        relearning_steps=(timedelta(minutes=10),),
        enable_fuzzing=False,
    )
    # within the accepted 30 days: learning, graduation, a lapse, relearning, long gaps
    script = [(3, 0), (3, 2), (3, 15), (1, 60 * 24 * 4), (3, 12), (2, 60 * 24 * 3), (4, 60 * 24 * 9), (3, 60 * 24 * 11)]
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=29)
    expected = fsrs.Card(card_id=1)
    for rating, minutes in script:
        at += timedelta(minutes=minutes)
        response = client.review(card_id, rating, reviewedAt=iso(at), durationMs=1200)
        assert response.status_code == 200, response.text
        expected, _ = scheduler.review_card(expected, fsrs.Rating(rating), review_datetime=at)
        stored = card_doc(firestore_db, client.user.uid, card_id)
        assert_matches(stored, expected)
        body = response.json()["card"]
        assert body["state"] == STATE_NAMES[expected.state]
        assert datetime.fromisoformat(body["due"]) == expected.due
    assert stored["reps"] == len(script)
    assert stored["lapses"] == 1
    logs = logs_of(firestore_db, client.user.uid, card_id)
    assert len(logs) == len(script)
    assert {log["durationMs"] for log in logs} == {1200}


def test_two_clients_reviewing_the_same_card_at_once_both_apply_in_order(client: Client, firestore_db: Any) -> None:
    fuzz_off(firestore_db, client.user.uid)
    card_id = client.card(client.deck())
    for attempt in range(3):  # several rounds, so the race really happens
        start = Barrier(2)

        def go(rating: int, start: Barrier = start) -> int:
            start.wait()
            return client.review(card_id, rating).status_code

        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(go, [3, 1])) == [200, 200], attempt
    logs = sorted(logs_of(firestore_db, client.user.uid, card_id), key=lambda log: log["after"]["reps"])
    assert [log["after"]["reps"] for log in logs] == [1, 2, 3, 4, 5, 6]
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    expected = fsrs.Card(card_id=1)
    for previous, log in zip([None, *logs], logs, strict=False):
        if previous is not None:  # each review started from the state the one before left, later
            assert log["before"] == previous["after"]
            assert log["reviewedAt"] >= previous["reviewedAt"]
        expected, _ = scheduler.review_card(expected, fsrs.Rating(log["rating"]), review_datetime=log["reviewedAt"])
    assert_matches(card_doc(firestore_db, client.user.uid, card_id), expected)
    assert user_doc(firestore_db, client.user.uid)["stats"]["totalReviews"] == 6


def test_eight_concurrent_reviewers_on_different_cards_keep_exact_stats(client: Client, firestore_db: Any) -> None:
    deck = client.deck()
    cards = [client.card(deck) for _ in range(8)]
    rounds = 3
    start = Barrier(8)

    def reviewer(card_id: str) -> list[int]:
        start.wait()
        return [client.review(card_id, 3 if i % 2 else 1).status_code for i in range(rounds)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for result in pool.map(reviewer, cards) for s in result]
    assert statuses == [200] * 8 * rounds
    stats = user_doc(firestore_db, client.user.uid)["stats"]
    assert stats["totalReviews"] == 8 * rounds
    assert sum(day["reviews"] for day in stats["days"].values()) == 8 * rounds
    assert stats["byRating"]["again"] == 8 * 2
    assert stats["byRating"]["good"] == 8 * 1
    assert sum(day["newCards"] for day in stats["days"].values()) == 8
    for card_id in cards:
        assert card_doc(firestore_db, client.user.uid, card_id)["reps"] == rounds
    body = client.ok("GET", "/stats", params={"days": 2})
    assert body["totalReviews"] == 8 * rounds
    assert body["cards"]["total"] == 8


def test_the_same_review_five_times_is_applied_once(client: Client, firestore_db: Any) -> None:
    card_id = client.card(client.deck())
    review_id = uuid.uuid4().hex
    start = Barrier(3)

    def send(_: int) -> tuple[int, dict[str, Any], str]:
        start.wait()
        r = client.review(card_id, "good", review_id)
        return r.status_code, r.json(), r.headers.get("Idempotent-Replayed", "")

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(send, range(3)))
    for _ in range(2):
        r = client.review(card_id, "good", review_id)
        answers.append((r.status_code, r.json(), r.headers.get("Idempotent-Replayed", "")))
    assert {a[0] for a in answers} == {200}
    assert all(a[1] == answers[0][1] for a in answers)  # the first result, every time
    assert sorted(a[2] for a in answers) == ["false"] + ["true"] * 4
    assert len(logs_of(firestore_db, client.user.uid, card_id)) == 1
    assert card_doc(firestore_db, client.user.uid, card_id)["reps"] == 1
    assert user_doc(firestore_db, client.user.uid)["stats"]["totalReviews"] == 1
    # a retry after a later review still answers the first result and changes nothing
    assert client.review(card_id, "easy").status_code == 200
    again = client.review(card_id, "good", review_id)
    assert again.json() == answers[0][1]
    assert card_doc(firestore_db, client.user.uid, card_id)["reps"] == 2
    # the same review id for another card is a conflict
    other = client.card(client.deck())
    assert client.review(other, "good", review_id).status_code == 409


def test_a_review_costs_at_most_two_reads_and_three_writes(
    client: Client, firestore_db: Any, counters: Counters
) -> None:
    card_id = client.card(client.deck())
    client.ok("PATCH", "/account", json={"settings": {"timezone": "Europe/Oslo"}})
    assert client.review(card_id, 3).status_code == 200  # warm the function instance
    measured = []
    for rating in (3, 1, 4):
        counters.reset()
        assert client.review(card_id, rating).status_code == 200
        measured.append(counters.read())
    for ops in measured:
        assert ops["reads"] <= 2, measured
        assert ops["writes"] == 3, measured
        assert ops["deletes"] == 0, measured
    # a replay writes nothing and reads the stored log once more
    review_id = uuid.uuid4().hex
    assert client.review(card_id, 3, review_id).status_code == 200
    counters.reset()
    assert client.review(card_id, 3, review_id).headers["Idempotent-Replayed"] == "true"
    replay = counters.read()
    assert replay["writes"] == 0
    assert replay["reads"] <= 3
    print(f"\nreview-card cost per review: {measured}; replay: {replay}")


def test_bad_reviews_are_clear_4xx_and_write_nothing(client: Client, firestore_db: Any, counters: Counters) -> None:
    deck = client.deck()
    card_id = client.card(deck)
    now = datetime.now(UTC)
    cases = [
        (client.review(card_id, 5), 400, "invalid_rating"),
        (client.review(card_id, "meh"), 400, "invalid_rating"),
        (client.review(card_id, 3, reviewedAt=iso(now + timedelta(minutes=5))), 400, "reviewed_at_in_future"),
        (client.review(card_id, 3, reviewedAt=iso(now - timedelta(days=40))), 400, "reviewed_at_too_old"),
        (client.review(card_id, 3, reviewId="short"), 400, "invalid_argument"),
        (client.review("no-such-card", 3), 404, "card_not_found"),
        (client.call("POST", "/review-card", json={"cardId": card_id, "rating": 3}), 400, "invalid_argument"),
        (
            client.call("POST", "/review-card", json={"cardId": card_id, "rating": 3, "reviewId": "x" * 10, "oops": 1}),
            400,
            "invalid_argument",
        ),
    ]
    client.ok("POST", f"/cards/{card_id}/suspend")
    counters.reset()
    cases.append((client.review(card_id, 3), 409, "card_suspended"))
    assert counters.read()["writes"] == 0
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
    assert logs_of(firestore_db, client.user.uid, card_id) == []
    assert card_doc(firestore_db, client.user.uid, card_id)["reps"] == 0
    assert "stats" not in user_doc(firestore_db, client.user.uid)
    client.ok("DELETE", f"/cards/{card_id}")
    assert client.review(card_id, 3).status_code == 404


def test_leech_is_tagged_and_suspended_when_set(client: Client, firestore_db: Any) -> None:
    client.ok("PATCH", "/account", json={"settings": {"leechThreshold": 2, "leechAction": "suspend"}})
    card_id = client.card(client.deck())
    ref = firestore_db.collection("users").document(client.user.uid).collection("cards").document(card_id)
    past = datetime.now(UTC) - timedelta(days=5)
    ref.update({"state": "review", "queue": "review", "stability": 3.0, "difficulty": 5.0, "due": past,
                "lastReview": past - timedelta(days=3), "lapses": 1, "reps": 4})  # fmt: skip
    review_id = uuid.uuid4().hex
    body = client.review(card_id, "again", review_id).json()
    assert body["leech"] is True
    assert body["card"]["suspended"] is True
    assert "leech" in body["card"]["tags"]
    assert card_doc(firestore_db, client.user.uid, card_id)["queue"] == "suspended"
    retry = client.review(card_id, "again", review_id)  # the retry still gets its answer
    assert retry.status_code == 200
    assert retry.json() == body


def test_undo_restores_the_card_and_the_stats(client: Client, firestore_db: Any) -> None:
    card_id = client.card(client.deck())
    first = uuid.uuid4().hex
    assert client.review(card_id, 3, first).status_code == 200
    card_after_first = card_doc(firestore_db, client.user.uid, card_id)
    stats_after_first = user_doc(firestore_db, client.user.uid)["stats"]
    second = uuid.uuid4().hex
    assert client.review(card_id, 1, second).status_code == 200
    undone = client.ok("POST", "/review-card/undo", json={"cardId": card_id})
    assert undone["reviewId"] == second
    restored = card_doc(firestore_db, client.user.uid, card_id)
    for key in ("state", "step", "stability", "difficulty", "due", "lastReview", "reps", "lapses", "lastReviewId"):
        assert restored[key] == card_after_first[key], key
    assert user_doc(firestore_db, client.user.uid)["stats"] == stats_after_first
    again = client.ok("POST", "/review-card/undo", json={"cardId": card_id, "reviewId": second})
    assert again["reviewId"] == second  # undoing the same review twice is harmless
    assert user_doc(firestore_db, client.user.uid)["stats"] == stats_after_first
    # the retried (undone) review is not applied again
    assert client.review(card_id, 1, second).status_code == 200
    assert card_doc(firestore_db, client.user.uid, card_id)["reps"] == 1
    client.ok("POST", "/review-card/undo", json={"cardId": card_id})  # the first one
    assert card_doc(firestore_db, client.user.uid, card_id)["state"] == "new"
    nothing = client.call("POST", "/review-card/undo", json={"cardId": card_id})
    assert nothing.status_code == 409
    assert nothing.json()["error"]["code"] == "nothing_to_undo"
    assert client.ok("GET", f"/review-card/{first}")["cardId"] == card_id
