"""Quizzes from documents through the local stack: a PDF uploaded and processed, a quiz job
run by the Cloud Tasks emulator on run-generation ('quiz' steps, offline provider), every
question citing its document and page; unready documents, quotas, duplicate steps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from aksio.quizzes import jobs
from aksio.usage import period_key
from tests.conftest import User
from tests.e2e.ai.conftest import OFFLINE_ONLY
from tests.e2e.quizzes.conftest import Client, key_of, stored_quiz
from tests.unit.quizzes.corpus import lines, make_pdf

pytestmark = [pytest.mark.stack, OFFLINE_ONLY]
PDF = "application/pdf"


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return make_pdf(8)


def ready_pdf(client: Client, pdf: bytes) -> str:
    doc = client.upload("reader.pdf", PDF, pdf)
    assert client.wait_document(doc)["status"] == "ready"
    return doc


def test_a_quiz_from_a_pdf_runs_through_the_queue_and_cites_pages(
    client: Client, user: User, firestore_db: Any, pdf: bytes
) -> None:
    doc = ready_pdf(client, pdf)
    created = client.call("POST", "/quizzes", json={"documentIds": [doc], "count": 12, "timeLimitSeconds": 600})
    assert created.status_code == 202, created.text
    assert created.json()["status"] == "generating"
    assert created.headers["Location"] == f"/quizzes/{created.json()['id']}"
    quiz = client.wait_quiz(created.json()["id"])
    assert quiz["status"] == "ready", quiz
    assert quiz["progress"] == {"stepsDone": 3, "stepsTotal": 3}
    assert quiz["questionCount"] == 12
    assert quiz["provider"] == "offline"
    assert quiz["tokensUsed"]["total"] > 0
    assert quiz["title"] == "reader.pdf"
    assert {q["kind"] for q in quiz["questions"]} == {"multiple_choice", "true_false", "short_answer"}
    key = key_of(firestore_db, user.uid, quiz["id"])
    text = " ".join(" ".join(page) for page in lines(8)).lower()
    for q in key.values():
        assert q["source"]["documentId"] == doc
        assert 1 <= q["source"]["page"] <= 8
        assert q["source"]["quote"]
        if q["kind"] == "multiple_choice":
            options = [o["text"] for o in q["options"]]
            assert len(set(options)) == 4
            assert sum(o["id"] == q["answer"] for o in q["options"]) == 1
            assert all(o.lower() in text for o in options), options  # every distractor comes from the document
    # taken and graded like any quiz, with the page in the result
    attempt = client.start(quiz["id"])
    assert attempt["expiresAt"]
    submitted = client.submit(quiz["id"], attempt["id"]).json()
    assert submitted["result"]["score"] == 0
    assert all(r["citation"]["documentId"] == doc and r["citation"]["page"] for r in submitted["result"]["questions"])
    month = firestore_db.document(f"users/{user.uid}/usage/{period_key('month', datetime.now(UTC))}").get().to_dict()
    assert month["quizGenerations"] == 1
    assert month["tokens"] == quiz["tokensUsed"]["total"]


def test_unready_documents_and_bad_counts_are_refused(client: Client, user: User, firestore_db: Any) -> None:
    pending = client.ok(
        "POST", "/create-upload", 201, json={"filename": "a.pdf", "contentType": PDF, "sizeBytes": 1000}
    )["document"]["id"]
    r = client.call("POST", "/quizzes", json={"documentIds": [pending], "count": 5})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "document_not_ready")
    empty = client.upload("empty.txt", "text/plain", b"   \n\n  ")
    client.wait_document(empty)
    r = client.call("POST", "/quizzes", json={"documentIds": [empty], "count": 5})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "document_not_ready")
    r = client.call("POST", "/quizzes", json={"documentIds": ["missing"], "count": 5})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "document_not_found")
    for count in (0, 51):
        assert client.call("POST", "/quizzes", json={"documentIds": [pending], "count": count}).status_code == 400
    assert client.ok("GET", "/quizzes")["quizzes"] == []
    assert not firestore_db.document(f"users/{user.uid}/usage/{period_key('month', datetime.now(UTC))}").get().exists


def test_over_the_monthly_quota_is_429_with_the_reset(
    client: Client, user: User, firestore_db: Any, pdf: bytes
) -> None:
    doc = ready_pdf(client, pdf)
    now = datetime.now(UTC)
    ref = firestore_db.document(f"users/{user.uid}/usage/{period_key('month', now)}")
    ref.set({"quizGenerations": 10}, merge=True)  # the free plan's monthly limit
    r = client.call("POST", "/quizzes", json={"documentIds": [doc], "count": 5})
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert error["details"]["quota"] == "quizGenerations"
    assert error["details"]["resetsAt"].startswith(f"{now.year + (now.month == 12)}-")
    assert int(r.headers["Retry-After"]) > 0
    assert client.ok("GET", "/quizzes")["quizzes"] == []
    # a deck quiz makes no model call and is not counted
    deck = client.deck_with_cards()
    assert client.quiz(deckId=deck, count=3)["status"] == "ready"
    assert ref.get().to_dict()["quizGenerations"] == 10


def test_late_step_deliveries_after_the_job_ended_change_nothing(
    client: Client, user: User, firestore_db: Any, pdf: bytes
) -> None:
    doc = ready_pdf(client, pdf)
    quiz = client.wait_quiz(client.quiz(202, id="dup-steps-1", documentIds=[doc], count=6)["id"])
    before = stored_quiz(firestore_db, user.uid, quiz["id"])
    queued: list[int] = []
    outcomes = [
        jobs.run_step(firestore_db, user.uid, quiz["id"], s, enqueue=lambda u, q, s: queued.append(s) or True)
        for s in (0, 1)
    ]
    assert outcomes == ["finished", "finished"]  # the job ended: late deliveries change nothing
    after = stored_quiz(firestore_db, user.uid, quiz["id"])
    assert after["questions"] == before["questions"]
    assert after["tokens"] == before["tokens"]
    # a retried create answers the same quiz
    assert client.quiz(200, id="dup-steps-1", documentIds=[doc], count=6)["id"] == quiz["id"]


def test_a_quiz_from_a_courses_documents_belongs_to_that_course(client: Client, pdf: bytes) -> None:
    course = client.ok("POST", "/courses", 201, json={"name": "Reading"})["id"]
    doc = ready_pdf(client, pdf)
    outside = client.call("POST", "/quizzes", json={"documentIds": [doc], "count": 3})
    assert outside.status_code == 202, outside.text
    assert outside.json().get("courseId") is None  # not in a course yet
    client.ok("PATCH", f"/documents/{doc}", json={"courseId": course})
    inside = client.call("POST", "/quizzes", json={"documentIds": [doc], "count": 3})
    assert inside.status_code == 202, inside.text
    assert inside.json()["courseId"] == course
    listed = client.ok("GET", "/quizzes", params={"courseId": course})["quizzes"]
    assert [q["id"] for q in listed] == [inside.json()["id"]]
