"""The OpenAI path of quizzes against the local OpenAI wire-format server (the real ``openai``
client runs): questions from a PDF by structured output, validated; duplicate steps; a
model that fails or answers badly; short answers judged by the rubric, and a grading
failure that keeps the attempt."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from aksio import errors
from aksio.generation.steps import StepRetry
from aksio.quizzes import api, jobs, results, service
from aksio.usage import period_key
from tests.conftest import User
from tests.e2e.ai.wire import Scripted, WireServer
from tests.e2e.quizzes.conftest import Client, key_of, stored_quiz
from tests.unit.quizzes.corpus import make_pdf

pytestmark = [pytest.mark.stack]


class Queue:
    def __init__(self) -> None:
        self.steps: list[int] = []

    def enqueue(self, uid: str, quiz_id: str, step: int) -> bool:
        self.steps.append(step)
        return True


def doc_quiz(client: Client, db: Any, uid: str, queue: Queue, count: int = 20) -> str:
    doc = client.upload("reader.pdf", "application/pdf", make_pdf(10))
    assert client.wait_document(doc)["status"] == "ready"
    body = api.NewQuiz.model_validate({"documentIds": [doc], "count": count})
    quiz, created = service.create_quiz(db, uid, body, enqueue=queue.enqueue)
    assert created
    assert quiz.status == "generating"
    return quiz.id


def test_a_document_quiz_from_the_model_is_validated_counted_and_steps_commit_once(
    client: Client, user: User, firestore_db: Any, wire: WireServer, openai_for: Callable[..., Any]
) -> None:
    queue = Queue()
    quiz_id = doc_quiz(client, firestore_db, user.uid, queue)
    provider = openai_for()
    assert jobs.run_step(firestore_db, user.uid, quiz_id, 0, provider=provider, enqueue=queue.enqueue) == "done"
    first = stored_quiz(firestore_db, user.uid, quiz_id)
    assert jobs.run_step(firestore_db, user.uid, quiz_id, 0, provider=provider, enqueue=queue.enqueue) == "duplicate"
    assert stored_quiz(firestore_db, user.uid, quiz_id)["questions"] == first["questions"]
    assert wire.calls == 1  # the duplicate made no model call
    for step in (1, 2, 3):
        assert jobs.run_step(firestore_db, user.uid, quiz_id, step, provider=provider, enqueue=queue.enqueue) == "done"
    assert queue.steps == [0, 1, 1, 2, 3]
    quiz = service.get_quiz(firestore_db, user.uid, quiz_id)
    assert quiz.status == "ready"
    assert quiz.question_count == 20
    assert quiz.provider == "openai"
    assert quiz.model_calls == wire.calls == 4
    assert quiz.tokens_used is not None
    assert quiz.tokens_used.total > 0
    month = firestore_db.document(f"users/{user.uid}/usage/{period_key('month', datetime.now(UTC))}").get().to_dict()
    assert (month["modelCalls"], month["tokens"]) == (4, quiz.tokens_used.total)
    for q in key_of(firestore_db, user.uid, quiz_id).values():
        assert q["source"]["documentId"]
        assert q["source"]["page"] >= 1
        if q["kind"] == "multiple_choice":
            assert len({o["text"] for o in q["options"]}) == 4


def test_bad_questions_are_dropped_with_reasons_and_unusable_replies_retried(
    client: Client, user: User, firestore_db: Any, wire: WireServer, openai_for: Callable[..., Any]
) -> None:
    queue = Queue()
    quiz_id = doc_quiz(client, firestore_db, user.uid, queue, count=5)
    provider = openai_for(max_retries=0)
    bad = {
        "kind": "multiple_choice",
        "prompt": "Which?",
        "options": ["A", "B", "C", "C"],
        "answer": "A",
        "accepted": [],
        "explanation": "",
        "passage": 1,
        "quote": "",
    }
    good = bad | {"options": ["A", "B", "C", "D"], "answer": "B"}
    wrong_answer = bad | {"prompt": "Other?", "options": ["A", "B", "C", "D"], "answer": "E"}
    import json

    wire.script = [Scripted(content=json.dumps({"questions": [bad, good, wrong_answer]}))]
    assert jobs.run_step(firestore_db, user.uid, quiz_id, 0, provider=provider, enqueue=queue.enqueue) == "done"
    quiz = stored_quiz(firestore_db, user.uid, quiz_id)
    assert [q["prompt"] for q in quiz["questions"]] == ["Which?"]
    assert quiz["questions"][0]["answer"] == "b"
    assert quiz["status"] == "ready"
    step = firestore_db.document(f"users/{user.uid}/quizzes/{quiz_id}/steps/0000").get().to_dict()
    assert sorted(step["rejected"]) == [
        "multiple choice whose answer is not exactly one of its options",
        "multiple choice without 4 distinct options",
    ]

    other = doc_quiz(client, firestore_db, user.uid, Queue(), count=5)
    wire.script = [Scripted(content="not json at all"), Scripted(content='{"questions": [{"kind": "essay"}]}')]
    with pytest.raises(StepRetry) as retry:
        jobs.run_step(firestore_db, user.uid, other, 0, provider=provider, enqueue=queue.enqueue)
    assert retry.value.code == "malformed_output"
    assert stored_quiz(firestore_db, user.uid, other)["lastError"]["code"] == "malformed_output"
    wire.script = [Scripted(status=500)] * 2
    from aksio.generation.steps import max_attempts

    last = max_attempts() - 1
    assert jobs.run_step(firestore_db, user.uid, other, 0, provider=provider, attempt=last) == "failed"
    failed = service.get_quiz(firestore_db, user.uid, other)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code == "model_unavailable"
    month = firestore_db.document(f"users/{user.uid}/usage/{period_key('month', datetime.now(UTC))}").get().to_dict()
    assert month["quizGenerations"] == 1  # the failed quiz gave its charge back


def test_short_answers_are_judged_by_the_rubric_and_a_grading_failure_keeps_the_attempt(
    client: Client, user: User, firestore_db: Any, wire: WireServer, openai_for: Callable[..., Any]
) -> None:
    deck = client.deck_with_cards()
    quiz = client.quiz(deckId=deck, count=3, kinds=["short_answer"])
    attempt = client.start(quiz["id"])
    key = key_of(firestore_db, user.uid, quiz["id"])
    q1, q2, q3 = list(key)
    client.put_answer(quiz["id"], attempt["id"], q1, text=key[q1]["answer"])  # exact: no model needed
    client.put_answer(quiz["id"], attempt["id"], q2, text=key[q2]["answer"][:4] + "xx")  # the rubric accepts it
    client.put_answer(quiz["id"], attempt["id"], q3, text="zzzz")  # wrong either way
    provider = openai_for(max_retries=0)
    wire.script = [Scripted(status=500), Scripted(content='{"verdicts": []}')]
    with pytest.raises(errors.Unavailable) as failed:
        results.submit_graded(firestore_db, user.uid, quiz["id"], attempt["id"], provider=provider)
    assert failed.value.code == "grading_unavailable"
    kept = client.ok("GET", f"/quizzes/{quiz['id']}/attempts/{attempt['id']}")
    assert kept["status"] == "open"
    assert set(kept["answers"]) == {q1, q2, q3}
    graded = results.submit_graded(firestore_db, user.uid, quiz["id"], attempt["id"], provider=provider)
    assert [r.correct for r in graded.result.questions] == [True, True, False]  # type: ignore[union-attr]
    assert [len(r["messages"]) for r in wire.requests[-1:]] == [2]
    sent = wire.requests[-1]["messages"][1]["content"]
    assert q1 not in sent  # only the answers the normalised match refused went to the model
