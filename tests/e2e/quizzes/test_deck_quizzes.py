"""Quizzes from a deck through the gateway: made at once, taken without ever seeing the key,
answered idempotently (also concurrently), submitted once (also concurrently), time limits
on the server, another user's quiz not found, bad input refused, misses back as cards."""

from __future__ import annotations

import concurrent.futures
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import User
from tests.e2e.quizzes.conftest import Client, key_of, right_body, stored_attempt, stored_quiz, wrong_body

pytestmark = [pytest.mark.stack]

# What the key is made of: none of these may appear in a body before submission.
KEY_FIELDS = {
    "answer",
    "accepted",
    "explanation",
    "rightAnswer",
    "rightOptionId",
    "correct",
    "result",
    "fact",
    "citation",
}


def walk_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in walk_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in walk_keys(v)}
    return set()


def short_questions(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        own = [value] if value.get("kind") == "short_answer" and "prompt" in value else []
        return own + [q for v in value.values() for q in short_questions(v)]
    if isinstance(value, list):
        return [q for v in value for q in short_questions(v)]
    return []


def test_a_deck_quiz_is_taken_without_the_key_then_graded_with_explanations(
    client: Client, user: User, firestore_db: Any
) -> None:
    deck = client.deck_with_cards()
    bodies: list[Any] = []
    created = client.call(
        "POST",
        "/quizzes",
        json={"deckId": deck, "count": 9, "kinds": ["multiple_choice", "true_false", "short_answer"]},
    )
    assert created.status_code == 201, created.text
    quiz = created.json()
    bodies.append(quiz)
    assert (quiz["status"], quiz["source"], quiz["questionCount"], quiz["title"]) == ("ready", "deck", 9, "Geography")
    assert [q["kind"] for q in quiz["questions"]] == ["multiple_choice", "true_false", "short_answer"] * 3
    for q in quiz["questions"]:
        if q["kind"] == "multiple_choice":
            assert len({o["text"] for o in q["options"]}) == 4
        if q["kind"] == "true_false":
            assert [o["id"] for o in q["options"]] == ["true", "false"]
    bodies.append(client.ok("GET", f"/quizzes/{quiz['id']}"))
    bodies.append(client.ok("GET", "/quizzes"))
    attempt = client.start(quiz["id"])
    bodies.append(attempt)
    key = key_of(firestore_db, user.uid, quiz["id"])
    ids = [q["id"] for q in quiz["questions"]]
    # all right except the first two
    for n, qid in enumerate(ids):
        body = wrong_body(key[qid]) if n < 2 else right_body(key[qid])
        response = client.put_answer(quiz["id"], attempt["id"], qid, **body)
        assert response.status_code == 200, response.text
        bodies.append(response.json())
    bodies.append(client.ok("GET", f"/quizzes/{quiz['id']}/attempts/{attempt['id']}"))
    bodies.append(client.ok("GET", f"/quizzes/{quiz['id']}/attempts"))

    # the walk: no key field anywhere, and no short-answer question carrying its answer
    shorts = {qid: q["answer"] for qid, q in key.items() if q["kind"] == "short_answer"}
    assert shorts
    for body in bodies:
        assert walk_keys(body) & KEY_FIELDS == set(), body
        for question in short_questions(body):
            assert shorts[question["id"]] not in json.dumps(question), question

    submitted = client.submit(quiz["id"], attempt["id"])
    assert submitted.status_code == 200, submitted.text
    result = submitted.json()
    assert result["status"] == "submitted"
    assert (result["result"]["score"], result["result"]["total"]) == (7, 9)
    rows = result["result"]["questions"]
    assert [r["correct"] for r in rows] == [False, False] + [True] * 7
    for r in rows:
        assert r["rightAnswer"]
        assert r["explanation"]
        assert r["citation"]["cardId"]
    again = client.submit(quiz["id"], attempt["id"])
    assert again.status_code == 200
    assert again.json() == result
    history = client.ok("GET", f"/quizzes/{quiz['id']}/attempts")
    assert history["bestPercent"] == history["lastPercent"] == 77.8
    assert [a["score"] for a in history["attempts"]] == [7]
    assert client.ok("GET", f"/quizzes/{quiz['id']}")["stats"] == {
        "attempts": 1,
        "submitted": 1,
        "bestPercent": 77.8,
        "lastPercent": 77.8,
        "lastSubmittedAt": result["submittedAt"],
    }


def test_the_same_answer_sent_five_times_at_once_is_recorded_once(
    client: Client, user: User, firestore_db: Any
) -> None:
    quiz = client.quiz(deckId=client.deck_with_cards(), count=3, kinds=["multiple_choice"])
    attempt = client.start(quiz["id"])
    qid = quiz["questions"][0]["id"]
    option = quiz["questions"][0]["options"][2]["id"]
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        responses = list(
            pool.map(lambda _: client.put_answer(quiz["id"], attempt["id"], qid, optionId=option), range(5))
        )
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert sorted(r.json()["changed"] for r in responses) == [False] * 4 + [True]
    assert {r.json()["revision"] for r in responses} == {1}
    stored = stored_attempt(firestore_db, user.uid, quiz["id"], attempt["id"])
    assert stored["answerWrites"] == 1
    assert stored["answers"][qid]["optionId"] == option
    assert stored["answers"][qid]["revision"] == 1
    # a change before submission is allowed
    other = quiz["questions"][0]["options"][1]["id"]
    changed = client.put_answer(quiz["id"], attempt["id"], qid, optionId=other).json()
    assert (changed["changed"], changed["revision"]) == (True, 2)


def test_two_concurrent_submits_give_one_result(client: Client, user: User, firestore_db: Any) -> None:
    quiz = client.quiz(deckId=client.deck_with_cards(), count=4, kinds=["multiple_choice", "short_answer"])
    attempt = client.start(quiz["id"])
    key = key_of(firestore_db, user.uid, quiz["id"])
    for qid, q in key.items():
        assert client.put_answer(quiz["id"], attempt["id"], qid, **right_body(q)).status_code == 200
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda _: client.submit(quiz["id"], attempt["id"]), range(2)))
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    assert responses[0].json() == responses[1].json()
    assert responses[0].json()["result"]["score"] == 4
    stats = stored_quiz(firestore_db, user.uid, quiz["id"])["stats"]
    assert (stats["attempts"], stats["submitted"], stats["lastPercent"]) == (1, 1, 100.0)


def test_answers_after_submission_or_time_limit_are_refused_409(client: Client, firestore_db: Any, user: User) -> None:
    deck = client.deck_with_cards()
    quiz = client.quiz(deckId=deck, count=2, kinds=["true_false"])
    attempt = client.start(quiz["id"])
    qid = quiz["questions"][0]["id"]
    assert client.put_answer(quiz["id"], attempt["id"], qid, optionId="true").status_code == 200
    assert client.submit(quiz["id"], attempt["id"]).status_code == 200
    late = client.put_answer(quiz["id"], attempt["id"], qid, optionId="false")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "attempt_submitted"
    assert stored_attempt(firestore_db, user.uid, quiz["id"], attempt["id"])["answers"][qid]["optionId"] == "true"

    timed = client.quiz(deckId=deck, count=2, kinds=["true_false"], timeLimitSeconds=1)
    assert timed["timeLimitSeconds"] == 1
    run = client.start(timed["id"])
    expires = datetime.fromisoformat(run["expiresAt"].replace("Z", "+00:00"))
    started = datetime.fromisoformat(run["startedAt"].replace("Z", "+00:00"))
    assert (expires - started).total_seconds() == 1
    qid = timed["questions"][0]["id"]
    while True:  # wait for the server's clock to pass the limit: the 409 is the signal
        response = client.put_answer(timed["id"], run["id"], qid, optionId="true")
        if response.status_code == 409:
            break
        assert response.status_code == 200, response.text
        time.sleep(0.2)
    assert response.json()["error"]["code"] == "time_limit_passed"
    assert client.ok("GET", f"/quizzes/{timed['id']}/attempts/{run['id']}")["status"] == "expired"
    graded = client.submit(timed["id"], run["id"]).json()  # what was answered in time is graded
    assert graded["status"] == "submitted"
    assert graded["result"]["total"] == 2


def test_bad_input_is_refused_and_changes_nothing(client: Client, user: User, firestore_db: Any) -> None:
    deck = client.deck_with_cards()
    for count in (0, 51, -1):
        r = client.call("POST", "/quizzes", json={"deckId": deck, "count": count})
        assert r.status_code == 400, r.text
    assert client.call("POST", "/quizzes", json={"deckId": deck, "documentIds": ["d1"]}).status_code == 400
    assert client.call("POST", "/quizzes", json={"deckId": deck, "kinds": ["essay"]}).status_code == 400
    missing = client.call("POST", "/quizzes", json={"deckId": "nodeck"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "deck_not_found")
    empty = client.ok("POST", "/decks", 201, json={"name": "Empty"})["id"]
    r = client.call("POST", "/quizzes", json={"deckId": empty})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "deck_empty")
    assert client.ok("GET", "/quizzes")["quizzes"] == []

    quiz = client.quiz(deckId=deck, count=3, kinds=["multiple_choice", "short_answer"])
    attempt = client.start(quiz["id"])
    mc, short = quiz["questions"][0], quiz["questions"][1]
    cases = [
        ("q99", {"optionId": "a"}, "unknown_question"),
        (mc["id"], {"optionId": "z"}, "unknown_option"),
        (mc["id"], {"text": "Paris"}, "invalid_answer"),
        (short["id"], {"optionId": "a"}, "invalid_answer"),
    ]
    for qid, body, code in cases:
        r = client.put_answer(quiz["id"], attempt["id"], qid, **body)
        assert (r.status_code, r.json()["error"]["code"]) == (400, code), r.text
    for body in ({}, {"optionId": "a", "text": "x"}, {"text": "   "}):
        assert client.put_answer(quiz["id"], attempt["id"], mc["id"], **body).status_code == 400
    assert stored_attempt(firestore_db, user.uid, quiz["id"], attempt["id"])["answers"] == {}


def test_another_users_quiz_and_attempt_are_not_found(
    client: Client, client_for: Callable[[User], Client], new_user: Callable[[], User]
) -> None:
    quiz = client.quiz(deckId=client.deck_with_cards(), count=2, kinds=["true_false"])
    attempt = client.start(quiz["id"])
    other = client_for(new_user())
    base = f"/quizzes/{quiz['id']}"
    for method, path, body in [
        ("GET", base, None),
        ("DELETE", base, None),
        ("POST", f"{base}/attempts", {}),
        ("GET", f"{base}/attempts", None),
        ("GET", f"{base}/attempts/{attempt['id']}", None),
        ("PUT", f"{base}/attempts/{attempt['id']}/answers/q01", {"optionId": "true"}),
        ("POST", f"{base}/attempts/{attempt['id']}/submit", None),
    ]:
        r = other.call(method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
    mine = client.ok("GET", f"{base}/attempts/{attempt['id']}")
    assert mine["status"] == "open"
    assert mine["answers"] == {}
    assert client.call("GET", f"{base}/attempts/nope").status_code == 404


def test_a_retried_create_answers_the_same_quiz_and_another_body_conflicts(client: Client) -> None:
    deck = client.deck_with_cards()
    first = client.quiz(201, id="quiz-retry-1", deckId=deck, count=4)
    assert client.quiz(200, id="quiz-retry-1", deckId=deck, count=4) == first
    r = client.call("POST", "/quizzes", json={"id": "quiz-retry-1", "deckId": deck, "count": 5})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "quiz_exists")
    a = client.start(first["id"], 201, id="attempt-retry-1")
    assert client.start(first["id"], 200, id="attempt-retry-1")["id"] == a["id"]
    assert client.ok("GET", f"/quizzes/{first['id']}")["stats"]["attempts"] == 1


def test_misses_become_cards_in_a_chosen_deck_once(client: Client, user: User, firestore_db: Any) -> None:
    deck = client.deck_with_cards()
    quiz = client.quiz(deckId=deck, count=4, kinds=["multiple_choice", "true_false"])
    attempt = client.start(quiz["id"])
    key = key_of(firestore_db, user.uid, quiz["id"])
    ids = list(key)
    for n, qid in enumerate(ids):
        client.put_answer(quiz["id"], attempt["id"], qid, **(wrong_body(key[qid]) if n < 2 else right_body(key[qid])))
    path = f"/quizzes/{quiz['id']}/attempts/{attempt['id']}/misses-to-cards"
    early = client.call("POST", path, json={"deckId": deck})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "attempt_not_submitted")
    client.submit(quiz["id"], attempt["id"])
    # into the quiz's own deck: the missed cards are there already
    same = client.ok("POST", path, json={"deckId": deck})
    assert (same["misses"], same["created"], same["alreadyPresent"]) == (2, 0, 2)
    review = client.ok("POST", "/decks", 201, json={"name": "Misses"})["id"]
    added = client.ok("POST", path, json={"deckId": review})
    assert (added["misses"], added["created"], added["alreadyPresent"]) == (2, 2, 0)
    again = client.ok("POST", path, json={"deckId": review})
    assert (again["created"], again["alreadyPresent"]) == (0, 2)
    cards = client.ok("GET", "/cards", params={"deckId": review})["cards"]
    assert len(cards) == 2
    facts = {(key[q]["fact"][0], key[q]["fact"][1]) for q in ids[:2]}
    assert {(c["front"], c["back"]) for c in cards} == facts
    for c in cards:
        assert c["source"]["quizId"] == quiz["id"]
        assert c["tags"] == ["quiz-miss"]
    assert client.call("POST", path, json={"deckId": "nodeck"}).status_code == 404


def test_a_quiz_takes_its_decks_course_and_lists_by_course(client: Client, user: User, firestore_db: Any) -> None:
    in_course, other = client.deck_with_cards(), client.deck_with_cards()
    # what the courses domain writes on a deck it holds
    firestore_db.document(f"users/{user.uid}/decks/{in_course}").update({"courseId": "bio101"})
    mine = client.quiz(deckId=in_course, count=2, kinds=["true_false"])
    client.quiz(deckId=other, count=2, kinds=["true_false"])
    assert mine["courseId"] == "bio101"
    listed = client.ok("GET", "/quizzes", params={"courseId": "bio101"})["quizzes"]
    assert [q["id"] for q in listed] == [mine["id"]]
    assert len(client.ok("GET", "/quizzes")["quizzes"]) == 2
    assert client.call("GET", "/quizzes", params={"courseId": "bad id!"}).status_code == 400
