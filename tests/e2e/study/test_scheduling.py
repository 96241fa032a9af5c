"""Scheduling that learns, over HTTP through the stack: a user's reviews fitted by the
optimize-fsrs job (enqueued on the Cloud Tasks emulator by POST /scheduling/optimize), adopted
only when better, used by the next review, reset; load balancing's histogram kept by reviews."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Any

import fsrs_rs_python as rs
import pytest
import requests

from aksio.study import optimizer
from bench.fsrs_simulation import DEFAULT, Student
from tests.conftest import User, need_env
from tests.e2e.study.conftest import Client

pytestmark = pytest.mark.stack


def seed_reviews(db: Any, uid: str, reviews: int) -> None:
    """A student far from FSRS's defaults (forgets fast), their review logs written as the app
    writes them, and the user's review count."""
    true = list(DEFAULT)
    true[0:4] = [w * 0.25 for w in true[0:4]]
    true[20] = 0.5
    logs = Student(list(rs.check_and_fill_parameters(true)), random.Random(11)).study(reviews, DEFAULT)
    user = db.collection("users").document(uid)
    batch = db.batch()
    for i, entry in enumerate(logs):
        batch.set(user.collection("reviews").document(f"seed{i:05d}"), entry | {"undoneAt": None})
        if i % 400 == 399:
            batch.commit()
            batch = db.batch()
    batch.commit()
    user.set({"stats": {"totalReviews": len(logs)}}, merge=True)


def wait_for_run(client: Client, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.ok("GET", "/scheduling")
        if body.get("lastRun"):
            return body
        time.sleep(0.5)
    raise AssertionError("the optimizer job did not run")


def test_fitted_parameters_are_adopted_and_used_by_the_next_review_and_can_be_reset(
    client: Client, user: User, firestore_db: Any
) -> None:
    before = client.ok("GET", "/scheduling")
    assert before["usingDefaults"] is True
    assert before["parameters"] is None
    seed_reviews(firestore_db, user.uid, 1500)
    queued = client.ok("POST", "/scheduling/optimize", 202)
    assert queued["queued"] is True
    after = wait_for_run(client)
    run = after["lastRun"]
    assert run["outcome"] == "adopted", run
    assert run["fitted"]["logLoss"] < run["current"]["logLoss"]
    assert after["usingDefaults"] is False
    assert len(after["parameters"]) == len(optimizer.DEFAULT_PARAMETERS)
    assert 0.70 <= after["suggestedRetention"] <= 0.95

    # the next first review of a new card starts from the fitted initial stability (w[2] for good)
    deck = client.deck()
    card = client.card(deck)
    review = client.review(card, 3)
    assert review.status_code == 200, review.text
    assert review.json()["card"]["stability"] == pytest.approx(after["parameters"][2], rel=1e-6)

    reset = client.ok("DELETE", "/scheduling/parameters")
    assert reset["usingDefaults"] is True
    assert reset["lastRun"]["outcome"] == "adopted"  # the history stays
    other = client.review(client.card(deck), 3)
    assert other.json()["card"]["stability"] == pytest.approx(optimizer.DEFAULT_PARAMETERS[2], rel=1e-3)


def test_a_fit_needs_enough_reviews(client: Client) -> None:
    r = client.call("POST", "/scheduling/optimize")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "not_enough_reviews"


def test_only_the_queue_may_run_a_fit(gateway_url: str, user: User) -> None:
    r = requests.post(f"{gateway_url}/optimize-fsrs", json={"uid": user.uid}, timeout=30)
    assert r.status_code == 401
    signed_in = requests.post(
        f"{gateway_url}/optimize-fsrs",
        json={"uid": user.uid},
        headers={"Authorization": f"Bearer {user.id_token}"},
        timeout=30,
    )
    assert signed_in.status_code == 401  # a user's ID token is not the queue's


def due_key(review: requests.Response) -> str:
    """The study day (UTC, starting at 4 am: the default settings) the reviewed card is due on."""
    due = datetime.fromisoformat(review.json()["card"]["due"].replace("Z", "+00:00"))
    return (due - timedelta(hours=4)).date().isoformat()


def test_reviews_keep_the_due_histogram_and_undo_takes_the_card_back(
    client: Client, user: User, firestore_db: Any
) -> None:
    def histogram() -> dict[str, int]:
        return dict(firestore_db.collection("users").document(user.uid).get().to_dict()["dueDays"])

    deck = client.deck()
    card, other = client.card(deck), client.card(deck)
    first = client.review(other, 3)
    assert histogram() == {due_key(first): 1}
    client.review(card, 3)
    second = client.review(card, 3)
    assert histogram() == {due_key(first): 1} | {due_key(second): 1 + (due_key(first) == due_key(second))}
    kept = histogram()
    third = client.review(card, 4)
    assert sum(histogram().values()) == 2  # the card moved, it was not counted twice
    assert histogram().get(due_key(third), 0) >= 1
    client.ok("POST", "/review-card/undo", json={"cardId": card, "reviewId": third.json()["reviewId"]})
    assert histogram() == kept


def test_a_review_that_reaches_the_refit_threshold_gets_the_user_fitted_by_the_daily_job(
    client: Client, user: User, firestore_db: Any
) -> None:
    seed_reviews(firestore_db, user.uid, 1500)  # past the first fit's threshold; the student a fit helps
    doc = firestore_db.collection("users").document(user.uid)
    assert not doc.get().to_dict().get("fsrsRefitDue")
    assert client.review(client.card(client.deck()), 3).status_code == 200  # the review marks the user
    assert doc.get().to_dict()["fsrsRefitDue"] is True

    env = need_env("SCHEDULER_URL")
    body = {"job": "refit-fsrs", "at": "2026-11-28T00:00:00Z", "retries": 0}
    run = requests.post(f"{env['SCHEDULER_URL']}/_test/run", json=body, timeout=120).json()
    assert run["status"] == 200, run
    assert run["json"]["enqueued"] >= 1
    fitted = wait_for_run(client)
    assert fitted["lastRun"]["outcome"] == "adopted"
    stored = doc.get().to_dict()
    assert stored["fsrsRefitDue"] is False
    assert fitted["lastRun"]["reviews"] == 1501
    assert stored["fsrsNextFitAt"] == int(1501 * 1.25)
