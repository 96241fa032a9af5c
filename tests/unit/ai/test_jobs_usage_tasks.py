"""Pure parts of generation jobs, quotas, task names and the queue's authentication."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from tasks_emulator.oidc import CertServer, Issuer
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


ACCOUNT = "tasks@demo-aksio.iam.gserviceaccount.com"
AUDIENCE = "http://127.0.0.1:8000/run-generation"


@pytest.fixture(scope="module")
def issuer() -> Iterator[tuple[Issuer, CertServer]]:
    """A local OIDC issuer (the Tasks emulator's) and its certificates served over HTTP, as
    Google serves its own: the code fetches and checks them exactly as in production."""
    key = Issuer()
    server = CertServer(key).start()
    yield key, server
    server.stop()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, issuer: tuple[Issuer, CertServer]) -> Iterator[pytest.MonkeyPatch]:
    for name in ("RUN_GENERATION_URL", "TASKS_SERVICE_ACCOUNT", "TASKS_AUTH_SECRET", "RUN_GENERATION_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    for name in emulator_variables(os.environ):  # a production project refuses them
        monkeypatch.delenv(name)
    monkeypatch.setenv("GATEWAY_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-aksio")
    monkeypatch.setenv("TASKS_OIDC_CERTS_URL", issuer[1].url)
    reset_clients()
    yield monkeypatch
    reset_clients()


def test_task_names_are_deterministic_and_tasks_carry_an_oidc_token_request(env: pytest.MonkeyPatch) -> None:
    env.setenv("TASKS_AUTH_SECRET", "s3cret")
    env.setenv("TASKS_SERVICE_ACCOUNT", ACCOUNT)
    assert tasks.task_id("u1", "j1", 2) == tasks.task_id("u1", "j1", 2)
    assert tasks.task_id("u1", "j1", 2) != tasks.task_id("u2", "j1", 2)
    task = tasks.build_task("u1", "j1", 0)
    assert (
        task["name"] == f"projects/demo-aksio/locations/us-central1/queues/ai-jobs/tasks/{tasks.task_id('u1', 'j1', 0)}"
    )
    http = task["http_request"]
    assert http["url"] == AUDIENCE
    assert http["oidc_token"] == {"service_account_email": ACCOUNT, "audience": AUDIENCE}
    assert http["headers"] == {"Content-Type": "application/json"}  # no shared secret, ever


def test_production_tasks_carry_an_oidc_token(env: pytest.MonkeyPatch) -> None:
    env.setenv("GOOGLE_CLOUD_PROJECT", "aksio-prod")  # not demo-*: production
    env.setenv("RUN_GENERATION_URL", "https://run-generation-123.us-central1.run.app")
    env.setenv("TASKS_SERVICE_ACCOUNT", "tasks@demo.iam.gserviceaccount.com")
    reset_clients()
    http = tasks.build_task("u1", "j1", 0)["http_request"]
    assert http["url"] == "https://run-generation-123.us-central1.run.app"
    assert http["oidc_token"] == {
        "service_account_email": "tasks@demo.iam.gserviceaccount.com",
        "audience": "https://run-generation-123.us-central1.run.app",
    }
    assert http["headers"] == {"Content-Type": "application/json"}


def _request(headers: dict[str, str]) -> Request:
    return Request(EnvironBuilder(method="POST", path="/", headers=headers).get_environ())


def _refusal(headers: dict[str, str]) -> str:
    with pytest.raises(errors.Unauthenticated) as err:
        tasks.verify_task_caller(_request(headers))
    return str(err.value.code)


def test_a_signed_token_of_the_queue_account_for_our_audience_is_the_only_way_in(
    env: pytest.MonkeyPatch, issuer: tuple[Issuer, CertServer]
) -> None:
    key, _ = issuer
    env.setenv("TASKS_SERVICE_ACCOUNT", ACCOUNT)
    env.setenv("TASKS_AUTH_SECRET", "s3cret")  # the old shared secret opens nothing now
    reset_clients()
    assert tasks.verify_task_caller(_request({"Authorization": f"Bearer {key.mint(ACCOUNT, AUDIENCE)}"})) == "oidc"
    forged = Issuer().mint(ACCOUNT, AUDIENCE)  # right claims, another key
    expired = key.mint(ACCOUNT, AUDIENCE, now=time.time() - 7200)
    refused = {
        "nothing": _refusal({}),
        "the old shared secret": _refusal({"X-Aksio-Task-Secret": "s3cret"}),
        "not a JWT": _refusal({"Authorization": "Bearer not-a-jwt"}),
        "forged": _refusal({"Authorization": f"Bearer {forged}"}),
        "tampered": _refusal({"Authorization": f"Bearer {key.mint(ACCOUNT, AUDIENCE)[:-3]}AAA"}),
        "another audience": _refusal({"Authorization": f"Bearer {key.mint(ACCOUNT, 'https://elsewhere')}"}),
        "expired": _refusal({"Authorization": f"Bearer {expired}"}),
        "another issuer": _refusal({"Authorization": f"Bearer {key.mint(ACCOUNT, AUDIENCE, iss='https://evil')}"}),
        "another account": _refusal({"Authorization": f"Bearer {key.mint('x@demo.iam.test', AUDIENCE)}"}),
        "unverified email": _refusal({"Authorization": f"Bearer {key.mint(ACCOUNT, AUDIENCE, email_verified=False)}"}),
        "stripped signature": _refusal({"Authorization": _stripped(_claims(key.mint(ACCOUNT, AUDIENCE)))}),
    }
    assert refused == {
        "nothing": "task_auth_required",
        "the old shared secret": "task_auth_required",
        "not a JWT": "bad_task_token",
        "forged": "bad_task_token",
        "tampered": "bad_task_token",
        "another audience": "bad_task_token",
        "expired": "bad_task_token",
        "another issuer": "bad_task_token",
        "another account": "task_caller_denied",
        "unverified email": "task_caller_denied",
        "stripped signature": "bad_task_token",  # outside production a stripped token proves nothing
    }


def test_no_account_configured_is_closed(env: pytest.MonkeyPatch, issuer: tuple[Issuer, CertServer]) -> None:
    assert _refusal({"Authorization": f"Bearer {issuer[0].mint(ACCOUNT, AUDIENCE)}"}) == "task_auth_required"


def test_certificates_unreachable_is_a_retryable_503_not_a_401(env: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    env.setenv("TASKS_SERVICE_ACCOUNT", ACCOUNT)
    env.setenv("TASKS_OIDC_CERTS_URL", f"http://127.0.0.1:{port}/oauth2/v1/certs")
    reset_clients()
    token = Issuer().mint(ACCOUNT, AUDIENCE)
    with pytest.raises(errors.Unavailable):
        tasks.verify_task_caller(_request({"Authorization": f"Bearer {token}"}))


def test_certificates_are_cached_and_refetched_for_an_unknown_key(
    env: pytest.MonkeyPatch, issuer: tuple[Issuer, CertServer]
) -> None:
    key, server = issuer
    env.setenv("TASKS_SERVICE_ACCOUNT", ACCOUNT)
    reset_clients()
    tasks.verify_task_caller(_request({"Authorization": f"Bearer {key.mint(ACCOUNT, AUDIENCE)}"}))
    before = server.requests
    for _ in range(3):
        tasks.verify_task_caller(_request({"Authorization": f"Bearer {key.mint(ACCOUNT, AUDIENCE)}"}))
    assert server.requests == before  # served from the cache (max-age)


def _claims(token: str) -> dict[str, object]:
    import base64
    import json

    payload = token.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


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
    with pytest.raises(errors.Unauthenticated):
        tasks.verify_task_caller(_request({"Authorization": _stripped(good | {"email": "x@y.z"})}))


def test_a_quiz_step_goes_to_run_generation_under_a_name_of_its_own(env: pytest.MonkeyPatch) -> None:
    import json

    cards, quiz = tasks.build_task("u1", "j1", 0), tasks.build_task("u1", "j1", 0, kind="quiz")
    assert quiz["http_request"]["url"] == cards["http_request"]["url"]
    assert json.loads(quiz["http_request"]["body"]) == {"uid": "u1", "jobId": "j1", "step": 0, "kind": "quiz"}
    assert json.loads(cards["http_request"]["body"]) == {"uid": "u1", "jobId": "j1", "step": 0}
    assert quiz["name"].rsplit("/", 1)[1].startswith("quiz-")
    assert quiz["name"] != cards["name"]  # a quiz and a card job of the same id never share a task name
