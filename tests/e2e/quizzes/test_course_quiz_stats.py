"""Per-course quiz statistics: a course's quizzes together (how many, taken, attempts, mean
best and last score), only the course's, and a reserved id."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import User
from tests.e2e.quizzes.conftest import Client, key_of, right_body, wrong_body

pytestmark = [pytest.mark.stack]


def take(client: Client, db: Any, uid: str, quiz_id: str, right: int) -> float:
    """Take the quiz answering ``right`` questions right and the rest wrong; its percent."""
    attempt = client.start(quiz_id)["id"]
    for i, (qid, q) in enumerate(key_of(db, uid, quiz_id).items()):
        body = right_body(q) if i < right else wrong_body(q)
        assert client.put_answer(quiz_id, attempt, qid, **body).status_code == 200
    result = client.submit(quiz_id, attempt)
    assert result.status_code == 200, result.text
    return float(result.json()["result"]["percent"])


def test_a_courses_quizzes_are_summed_up_and_other_quizzes_left_out(
    client: Client, user: User, firestore_db: Any
) -> None:
    course = client.ok("POST", "/courses", 201, json={"name": "Geography"})["id"]
    deck = client.deck_with_cards()
    client.ok("PATCH", f"/decks/{deck}", json={"courseId": course})
    outside = client.deck_with_cards(name="Elsewhere")
    empty = client.ok("GET", "/quizzes/stats", params={"courseId": course})
    assert (empty["quizzes"], empty["taken"], empty.get("meanBestPercent")) == (0, 0, None)

    first = client.quiz(deckId=deck, count=4, kinds=["multiple_choice"])["id"]
    second = client.quiz(deckId=deck, count=4, kinds=["multiple_choice"])["id"]
    other = client.quiz(deckId=outside, count=4, kinds=["multiple_choice"])["id"]
    a = take(client, firestore_db, user.uid, first, right=4)
    b = take(client, firestore_db, user.uid, first, right=1)
    c = take(client, firestore_db, user.uid, second, right=2)
    take(client, firestore_db, user.uid, other, right=0)
    client.start(second)  # started, not submitted

    stats = client.ok("GET", "/quizzes/stats", params={"courseId": course})
    assert stats["quizzes"] == 2
    assert stats["taken"] == 2
    assert stats["attempts"] == 4
    assert stats["submitted"] == 3
    assert stats["bestPercent"] == max(a, b, c)
    assert stats["meanBestPercent"] == round((max(a, b) + c) / 2, 1)
    assert stats["meanLastPercent"] == round((b + c) / 2, 1)


def test_stats_of_a_course_that_is_not_the_users_are_404(client: Client, new_user: Any, gateway_url: str) -> None:
    theirs = Client(gateway_url, new_user(), requests.Session())
    foreign = theirs.ok("POST", "/courses", 201, json={"name": "Theirs"})["id"]
    for course in (foreign, "no-such-course"):
        answer = client.call("GET", "/quizzes/stats", params={"courseId": course})
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == "course_not_found"
    gone = client.ok("POST", "/courses", 201, json={"name": "Gone"})["id"]
    client.ok("DELETE", f"/courses/{gone}")
    assert client.call("GET", "/quizzes/stats", params={"courseId": gone}).status_code == 404
    assert theirs.ok("GET", "/quizzes/stats", params={"courseId": foreign})["quizzes"] == 0


def test_stats_need_a_course_and_stats_is_not_a_quiz_id(client: Client) -> None:
    missing = client.call("GET", "/quizzes/stats")
    assert missing.status_code == 400
    deck = client.deck_with_cards()
    reserved = client.call("POST", "/quizzes", json={"id": "stats", "deckId": deck, "count": 4})
    assert reserved.status_code == 400
    assert reserved.json()["error"]["code"] == "reserved_id"
