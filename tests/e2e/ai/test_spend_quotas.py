"""Every quota at its last unit, under 20 concurrent requests through the stack's gateway (or,
for the reservations themselves, 20 threads on the Firestore emulator): exactly the allowed
number succeed, the others are 429 with the limit, and the counter ends exactly at the limit.

"Quotas are transactional": each of these fails if a quota is checked outside the transaction
that counts it (several requests would read the same last unit and all pass)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier
from typing import Any

import pytest
import requests

from aksio import plans, usage
from aksio.ai import bounds
from aksio.config import get_config
from tests.e2e.ai.conftest import Client
from tests.e2e.documents.conftest import Storage, post_event
from tests.unit.documents import samples

pytestmark = pytest.mark.stack
N = 20
FREE = plans.FREE.limits


def burst(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """``fn(i)`` on ``n`` threads released at once; what each returned (or raised)."""
    gate = Barrier(n)

    def run(i: int) -> Any:
        gate.wait()
        try:
            return fn(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def month_doc(db: Any, uid: str) -> Any:
    return db.document(f"users/{uid}/usage/{usage.period_key('month', datetime.now(UTC))}")


def split(responses: list[requests.Response], ok: int, quota: str) -> list[requests.Response]:
    """The successes, after checking every other answer is the quota's 429 with its limit."""
    good = [r for r in responses if r.status_code == ok]
    for r in responses:
        if r.status_code != ok:
            assert r.status_code == 429, r.text
            error = r.json()["error"]
            assert (error["code"], error["details"]["quota"]) == ("quota_exceeded", quota), error
            assert error["details"]["limit"] > 0
            assert int(r.headers["Retry-After"]) >= 1
    return good


def test_tutor_messages_at_the_last_one(client: Client, firestore_db: Any) -> None:
    uid = client.user.uid
    day = firestore_db.document(f"users/{uid}/usage/{usage.period_key('day', datetime.now(UTC))}")
    day.set({"tutorMessages": FREE.tutor_messages_per_day - 1})
    answers = burst(N, lambda i: client.call("POST", "/chat-reply", json={"message": f"What is ATP? ({i})"}))
    assert len(split(answers, 200, "tutorMessages")) == 1
    assert day.get().to_dict()["tutorMessages"] == FREE.tutor_messages_per_day
    assert len(client.ok("GET", "/chat-reply")["chats"]) == 1


def test_generation_jobs_at_the_last_one(client: Client, firestore_db: Any) -> None:
    uid = client.user.uid
    month_doc(firestore_db, uid).set({"generations": FREE.generations_per_month - 1})
    text = "Mitochondria make ATP. Ribosomes make proteins. The nucleus holds DNA."

    def start(i: int) -> requests.Response:
        body = {"text": text, "newDeckName": f"Deck {i}", "count": 2, "jobId": f"job{i}-{uuid.uuid4().hex[:8]}"}
        return client.call("POST", "/generate-flashcards", json=body)

    started = split(burst(N, start), 202, "generations")
    assert len(started) == 1
    assert month_doc(firestore_db, uid).get().to_dict()["generations"] == FREE.generations_per_month
    assert len(client.ok("GET", "/generate-flashcards")["jobs"]) == 1


def test_ai_tokens_at_the_last_reservation(client: Client, firestore_db: Any) -> None:
    """Room for exactly one answer's reservation (a user without documents: no passages, so
    every request reserves the same bound): one answer, 19 refusals, and after it settles
    (the unused part released) the counter holds what it really used."""
    uid = client.user.uid
    question = "What is the powerhouse of the cell?"
    need = bounds.answer_bound(question, [], [], get_config().chat_max_output_tokens) * bounds.attempts()
    start = FREE.ai_tokens_per_month - need
    month_doc(firestore_db, uid).set({"aiTokens": start})
    answers = burst(N, lambda i: client.call("POST", "/chat-reply", json={"message": question}))
    good = split(answers, 200, "aiTokens")
    assert len(good) == 1
    for r in answers:
        if r.status_code == 429:
            assert r.json()["error"]["details"]["needed"] == need
    chat = good[0].json()["chatId"]
    stored = [s.to_dict() for s in firestore_db.collection(f"users/{uid}/chats/{chat}/messages").stream()]
    used = next(m["usage"]["totalTokens"] for m in stored if m["role"] == "assistant")
    assert 0 < used <= need
    assert month_doc(firestore_db, uid).get().to_dict()["aiTokens"] == start + used


def test_document_pages_at_the_last_ones(client: Client, firestore_db: Any, gateway_url: str) -> None:
    """Twenty 3-page PDFs delivered at once with 3 pages left: one is processed, the others
    fail with page_quota_exceeded before anything is written or embedded."""
    uid = client.user.uid
    month_doc(firestore_db, uid).set({"pages": FREE.pages_per_month - 3})
    storage = Storage()
    objects = []
    for i in range(N):
        pdf = three_pages(i)  # each its own content (the same content twice is stored once, uncharged)
        created = client.ok(
            "POST",
            "/create-upload",
            201,
            json={"filename": f"p{i}.pdf", "contentType": samples.PDF, "sizeBytes": len(pdf)},
        )
        doc_id = created["document"]["id"]
        name = f"users/{uid}/documents/{doc_id}/p{i}.pdf"
        storage.write(name, pdf, samples.PDF)
        objects.append((doc_id, storage.obj(name)))
    burst(N, lambda i: post_event(gateway_url, objects[i][1]))  # with the bridge's own deliveries
    # an attempt that lost its delivery under this contention (a 5xx) holds its lease until it
    # lapses (DOCUMENTS_LEASE_SECONDS, 120 s): the redelivery then finishes the document
    docs = [client.wait_document(doc_id, timeout=180) for doc_id, _ in objects]
    assert sorted(d["status"] for d in docs) == ["failed"] * (N - 1) + ["ready"]
    assert {d["error"]["code"] for d in docs if d["status"] == "failed"} == {"page_quota_exceeded"}
    for d in docs:
        if d["status"] == "failed":
            chunks = firestore_db.collection(f"users/{uid}/documents/{d['id']}/chunks").limit(1).get()
            assert list(chunks) == []
    assert month_doc(firestore_db, uid).get().to_dict()["pages"] == FREE.pages_per_month


def three_pages(i: int) -> bytes:
    import io

    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, invariant=True)
    for page in range(1, 4):
        c.drawString(40, 800, f"Document {i}, page {page}: ribosomes make proteins from amino acids.")
        c.showPage()
    c.save()
    return out.getvalue()


@pytest.mark.parametrize(
    ("meter", "calls", "left", "each", "fit"),
    [
        (usage.AI_TOKENS, 0, 2500, 1000, 2),  # tokens: room for two reservations of 1,000
        (usage.EMBEDDING_TOKENS, 0, 999, 1000, 0),  # one token short: none
        (usage.AI_TOKENS, 1, None, 10, 1),  # the last AI call
    ],
    ids=["ai-tokens", "embedding-tokens", "ai-calls"],
)
def test_reservations_at_the_last_units(  # noqa: PLR0917
    firestore_db: Any, user: Any, meter: usage.Meter, calls: int, left: int | None, each: int, fit: int
) -> None:
    uid = user.uid
    limit = usage.limit_for(meter, {}, datetime.now(UTC))
    calls_limit = FREE.ai_calls_per_month
    start = {meter.field: limit - left if left is not None else 0, "aiCalls": calls_limit - 1 if calls else 0}
    month_doc(firestore_db, uid).set(start)
    results = burst(N, lambda i: usage.reserve(firestore_db, uid, meter, each, calls=calls))
    made = [r for r in results if isinstance(r, usage.Reservation)]
    refused = [r for r in results if isinstance(r, usage.OverQuota)]
    assert (len(made), len(refused)) == (fit, N - fit), results
    stored = month_doc(firestore_db, uid).get().to_dict()
    assert stored[meter.field] == start[meter.field] + fit * each
    assert stored["aiCalls"] == start["aiCalls"] + fit * calls
    for r in made:  # settling gives back what was not used
        usage.settle(firestore_db, r, each // 2, 0)
    after = month_doc(firestore_db, uid).get().to_dict()
    assert after[meter.field] == start[meter.field] + fit * (each // 2)
    assert after["aiCalls"] == start["aiCalls"]


def test_a_job_is_refused_at_once_when_no_ai_budget_is_left(client: Client, firestore_db: Any) -> None:
    uid = client.user.uid
    month_doc(firestore_db, uid).set({"aiTokens": FREE.ai_tokens_per_month})
    body = {"text": "Mitochondria make ATP.", "newDeckName": "Cells", "count": 2, "jobId": "late-job"}
    r = client.call("POST", "/generate-flashcards", json=body)
    assert r.status_code == 429, r.text
    assert (r.json()["error"]["details"]["quota"], r.json()["error"]["details"]["limit"]) == (
        "aiTokens",
        FREE.ai_tokens_per_month,
    )
    assert client.ok("GET", "/generate-flashcards")["jobs"] == []
    assert "generations" not in month_doc(firestore_db, uid).get().to_dict()
