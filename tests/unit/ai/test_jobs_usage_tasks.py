"""Pure parts of generation jobs, quotas, task names and the queue's authentication."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from aksio import edge, errors, tasks, usage
from aksio.ai.base import CardDraft, Passage, Turn
from aksio.chat.model import trim_history
from aksio.clients import reset_clients
from aksio.config import emulator_variables
from aksio.generation import model as m
from aksio.generation.steps import build_cards

NOW = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)


def test_generate_request_validation() -> None:
    ok = m.GenerateRequest.model_validate({"text": "x", "newDeckName": " Bio ", "types": ["cloze", "cloze"]})
    assert (ok.count, ok.types, ok.new_deck_name) == (20, ["cloze"], "Bio")
    for bad in (
        {"text": "x"},
        {"text": "x", "documentIds": ["a"], "deckId": "d"},
        {"deckId": "d"},
        {"text": "\n ", "deckId": "d"},
        {"text": "x", "deckId": "d", "count": 101},
        {"documentIds": [], "deckId": "d"},
        {"documentIds": ["../x"], "deckId": "d"},
    ):
        with pytest.raises(ValidationError):
            m.GenerateRequest.model_validate(bad)


def test_split_text_and_steps() -> None:
    paragraph = "Cells divide. " * 100  # ~350 tokens: two paragraphs fit a chunk, three do not
    chunks = m.split_text("\n\n".join([paragraph] * 6))
    assert len(chunks) == 3
    assert all(len(c) > 0 for c in chunks)
    huge = m.split_text("A long sentence about cells. " * 2000)
    assert len(huge) > 5
    assert m.steps_for(7) == 3
    assert list(m.step_units(2, 7)) == [6]
    assert [m.cards_for_step(20, 3, s, done) for s, done in ((0, 0), (1, 7), (2, 14))] == [7, 7, 6]
    assert m.cards_for_step(20, 3, 2, 20) == 0
    assert m.cards_for_step(2, 5, 0, 0) == 1  # every chunk gets a chance


def test_dedupe_key_normalizes() -> None:
    assert m.dedupe_key("What is  a Cell?") == m.dedupe_key("what is a cell")
    assert m.dedupe_key("What is a cell?") != m.dedupe_key("What is a gene?")


def test_build_cards_dedupes_within_the_batch_and_keeps_sources() -> None:
    passages = [Passage(text="t", document_id="d1", chunk_id="00002", page=5, heading="Cells", title="Bio.pdf")]
    drafts = [
        CardDraft(kind="basic", front="What is a cell?", back="A unit", quote="A cell is a unit."),
        CardDraft(kind="basic", front="what is a CELL", back="Again"),
        CardDraft(kind="cloze", text="Cells divide by {{c1::mitosis}}."),
        CardDraft(kind="cloze", text="no deletion"),
        CardDraft(kind="basic", front="Q", back="A", passage=3),
    ]
    built = build_cards(drafts, passages, deck_id="deck1", job_id="job1", now=NOW)
    assert [doc["front"] for _, doc in built.cards] == ["What is a cell?", "Cells divide by [...]."]
    assert built.duplicates == 1
    assert len(built.rejected) == 2
    src = built.cards[0][1]["source"]
    assert src == {
        "kind": "document",
        "documentId": "d1",
        "chunkId": "00002",
        "page": 5,
        "heading": "Cells",
        "title": "Bio.pdf",
        "jobId": "job1",
        "key": m.dedupe_key("What is a cell?"),
        "quote": "A cell is a unit.",
    }
    assert built.cards[1][1]["kind"] == "cloze"
    assert built.cards[1][1]["noteId"]
    assert built.cards[0][1]["tags"] == ["generated"]


def test_periods_and_the_429() -> None:
    assert usage.period_key("month", NOW) == "2026-12"
    assert usage.period_key("day", NOW) == "2026-12-31"
    assert usage.period_end("month", NOW) == datetime(2027, 1, 1, tzinfo=UTC)
    assert usage.period_end("day", NOW) == datetime(2027, 1, 1, tzinfo=UTC)
    exc = usage.over_quota(usage.TUTOR_MESSAGES, 30, 30, NOW)
    assert isinstance(exc, errors.QuotaExceeded)
    assert edge.status_of(exc) == 429
    assert exc.details["resetsAt"] == "2027-01-01T00:00:00Z"
    assert edge.error_headers(exc)["Retry-After"] == str(90 * 60)
    assert usage.limit_for(usage.GENERATIONS, None, NOW) == 10
    pro = {"billing": {"plan": "pro", "status": "active"}}
    assert usage.limit_for(usage.GENERATIONS, pro, NOW) == 300


def test_trim_history() -> None:
    turns = [Turn("user", "q" * 4000), Turn("assistant", "a" * 400), Turn("user", "short?"), Turn("assistant", "ok")]
    kept = trim_history(turns, budget=200)
    assert kept == [Turn("user", "short?"), Turn("assistant", "ok")]
    assert trim_history(turns[1:2], budget=2000) == []  # never starts with an answer whose question is gone


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("RUN_GENERATION_URL", "TASKS_SERVICE_ACCOUNT", "TASKS_AUTH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name in emulator_variables(os.environ):  # a production project refuses them
        monkeypatch.delenv(name)
    monkeypatch.setenv("GATEWAY_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-aksio")
    reset_clients()
    yield monkeypatch
    reset_clients()


def test_task_names_are_deterministic_and_local_tasks_carry_the_secret(env: pytest.MonkeyPatch) -> None:
    env.setenv("TASKS_AUTH_SECRET", "s3cret")
    assert tasks.task_id("u1", "j1", 2) == tasks.task_id("u1", "j1", 2)
    assert tasks.task_id("u1", "j1", 2) != tasks.task_id("u2", "j1", 2)
    task = tasks.build_task("u1", "j1", 0)
    assert (
        task["name"] == f"projects/demo-aksio/locations/us-central1/queues/ai-jobs/tasks/{tasks.task_id('u1', 'j1', 0)}"
    )
    http = task["http_request"]
    assert http["url"] == "http://127.0.0.1:8000/run-generation"
    assert http["headers"]["X-Aksio-Task-Secret"] == "s3cret"
    assert "oidc_token" not in http


def test_production_tasks_carry_an_oidc_token_and_no_secret(env: pytest.MonkeyPatch) -> None:
    env.setenv("GOOGLE_CLOUD_PROJECT", "aksio-prod")  # not demo-*: production
    env.setenv("TASKS_AUTH_SECRET", "s3cret")
    env.setenv("RUN_GENERATION_URL", "https://run-generation-123.us-central1.run.app")
    env.setenv("TASKS_SERVICE_ACCOUNT", "tasks@demo.iam.gserviceaccount.com")
    reset_clients()
    http = tasks.build_task("u1", "j1", 0)["http_request"]
    assert http["url"] == "https://run-generation-123.us-central1.run.app"
    assert http["oidc_token"] == {
        "service_account_email": "tasks@demo.iam.gserviceaccount.com",
        "audience": "https://run-generation-123.us-central1.run.app",
    }
    assert "X-Aksio-Task-Secret" not in http["headers"]
    # and in production the shared secret opens nothing
    with pytest.raises(errors.Unauthenticated):
        tasks.verify_task_caller(_request({"X-Aksio-Task-Secret": "s3cret"}))
    env.setattr(
        tasks,
        "_verify_signed",
        lambda token, audience: {"email": "tasks@demo.iam.gserviceaccount.com", "email_verified": True},
    )
    assert tasks.verify_task_caller(_request({"Authorization": "Bearer t"})) == "oidc"
    env.setattr(tasks, "_verify_signed", lambda token, audience: {"email": "someone@else.com", "email_verified": True})
    with pytest.raises(errors.PermissionDenied):
        tasks.verify_task_caller(_request({"Authorization": "Bearer t"}))


def _request(headers: dict[str, str]) -> Request:
    return Request(EnvironBuilder(method="POST", path="/", headers=headers).get_environ())


def test_local_caller_check(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(errors.Unauthenticated):  # no secret configured: closed, never open
        tasks.verify_task_caller(_request({"X-Aksio-Task-Secret": ""}))
    env.setenv("TASKS_AUTH_SECRET", "s3cret")
    reset_clients()
    assert tasks.verify_task_caller(_request({"X-Aksio-Task-Secret": "s3cret"})) == "secret"
    for headers in ({}, {"X-Aksio-Task-Secret": "s3cre"}, {"Authorization": "Bearer x"}):
        with pytest.raises(errors.Unauthenticated):
            tasks.verify_task_caller(_request(headers))


def test_a_bad_oidc_token_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("TASKS_SERVICE_ACCOUNT", "tasks@demo.iam.gserviceaccount.com")
    env.setenv("RUN_GENERATION_URL", "https://run-generation.example")
    with pytest.raises(errors.Unauthenticated) as err:
        tasks.verify_task_caller(_request({"Authorization": "Bearer not-a-jwt"}))
    assert err.value.code == "bad_task_token"


def test_follow_up_questions_are_searched_with_the_question_before() -> None:
    from aksio.chat.grounding import search_query

    assert search_query("And its function?", "What is a ribosome?") == "And its function? What is a ribosome?"
    assert search_query("What does the cell membrane control?", "What is a ribosome?") == (
        "What does the cell membrane control?"
    )
    assert search_query("Why?", None) == "Why?"


def _stripped(claims: dict[str, object]) -> str:
    import base64
    import json

    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return "Bearer " + ".".join([part({"alg": "RS256"}), part(claims), "SIGNATURE_REMOVED_BY_GOOGLE"])


def test_the_token_cloud_run_forwards_after_its_iam_check(env: pytest.MonkeyPatch) -> None:
    import time

    account = "tasks@demo.iam.gserviceaccount.com"
    url = "https://run-generation-123.us-central1.run.app"
    env.setenv("TASKS_SERVICE_ACCOUNT", account)
    env.setenv("RUN_GENERATION_URL", url)
    good = {"iss": "https://accounts.google.com", "aud": url, "exp": time.time() + 600, "email": account}
    good["email_verified"] = True
    with pytest.raises(errors.Unauthenticated):  # outside production a stripped token proves nothing
        tasks.verify_task_caller(_request({"Authorization": _stripped(good)}))
    env.setenv("GOOGLE_CLOUD_PROJECT", "aksio-prod")  # not demo-*: production
    reset_clients()
    assert tasks.verify_task_caller(_request({"Authorization": _stripped(good)})) == "oidc"
    for bad in ({"aud": "https://elsewhere"}, {"exp": time.time() - 3600}, {"iss": "https://evil.example"}):
        with pytest.raises(errors.Unauthenticated):
            tasks.verify_task_caller(_request({"Authorization": _stripped(good | bad)}))
    with pytest.raises(errors.PermissionDenied):
        tasks.verify_task_caller(_request({"Authorization": _stripped(good | {"email": "x@y.z"})}))


def test_a_quiz_step_goes_to_run_generation_under_a_name_of_its_own(env: pytest.MonkeyPatch) -> None:
    import json

    cards, quiz = tasks.build_task("u1", "j1", 0), tasks.build_task("u1", "j1", 0, kind="quiz")
    assert quiz["http_request"]["url"] == cards["http_request"]["url"]
    assert json.loads(quiz["http_request"]["body"]) == {"uid": "u1", "jobId": "j1", "step": 0, "kind": "quiz"}
    assert json.loads(cards["http_request"]["body"]) == {"uid": "u1", "jobId": "j1", "step": 0}
    assert quiz["name"].rsplit("/", 1)[1].startswith("quiz-")
    assert quiz["name"] != cards["name"]  # a quiz and a card job of the same id never share a task name
