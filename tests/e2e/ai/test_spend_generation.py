"""A generation job's model calls are bounded, and so is a month of a user's AI: the real
``openai`` client against the local OpenAI wire server, the steps run in-process against the
Firestore emulator, the budget counted in the user's usage document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from aksio import plans, usage
from aksio.ai.openai_provider import OpenAIProvider
from aksio.generation import model as m
from tests.conftest import User
from tests.e2e.ai.conftest import Steps, new_deck, start_text_job
from tests.e2e.ai.wire import Scripted, WireServer

pytestmark = pytest.mark.stack
ONE_CARD = json.dumps(
    {
        "cards": [
            {
                "kind": "basic",
                "front": "What do ribosomes make?",
                "back": "Proteins",
                "text": "",
                "passage": 1,
                "quote": "",
            }
        ]
    }
)


def long_text(chunks: int) -> str:
    """``chunks`` paragraphs of about 800 tokens: one chunk each (3 chunks a step)."""
    return "\n\n".join(
        " ".join(f"Paragraph {p} sentence {s} about cells and ribosomes." for s in range(55)) for p in range(chunks)
    )


def month(db: Any, uid: str) -> dict[str, Any]:
    snap = db.document(f"users/{uid}/usage/{usage.period_key('month', datetime.now(UTC))}").get()
    return snap.to_dict() or {}


def test_a_job_whose_model_repeats_itself_stops_after_two_barren_steps(
    firestore_db: Any, user: User, wire: WireServer, openai_for: Any, steps: Steps
) -> None:
    """30 chunks (10 steps) and a model that always answers the same card: the first step
    makes it, the next two make nothing new, and the job ends there: 3 calls, not 10."""
    wire.script = [Scripted(content=ONE_CARD) for _ in range(20)]
    provider: OpenAIProvider = openai_for()
    deck = new_deck(firestore_db, user.uid)
    job_id = start_text_job(firestore_db, user.uid, steps, long_text(30), deck, count=20, types=["basic"])
    steps.drain(firestore_db, provider)
    job = firestore_db.document(f"users/{user.uid}/jobs/{job_id}").get().to_dict()
    assert job["stepsTotal"] == 10
    assert wire.calls == 1 + m.MAX_BARREN_STEPS
    assert (job["status"], job["cardsCreated"], job["tokens"]["calls"]) == ("succeeded", 1, 3)
    assert "stopped early" in job["rejectedReasons"][-1]
    used = month(firestore_db, user.uid)
    assert used["aiCalls"] == 3  # reserved 2 a step (the repair), settled to the 1 made
    assert 0 < used["aiTokens"] == job["tokens"]["totalTokens"]


def test_failed_calls_count_toward_the_jobs_bound(
    firestore_db: Any, user: User, wire: WireServer, openai_for: Any, steps: Steps
) -> None:
    """A model that keeps answering unusable output (each attempt: the call and its repair,
    both billed) makes the step retry; the job's calls stop at count + 3 (+1 repair)."""
    wire.script = [Scripted(content="not json at all") for _ in range(100)]
    provider = openai_for()
    deck = new_deck(firestore_db, user.uid)
    job_id = start_text_job(firestore_db, user.uid, steps, long_text(3), deck, count=1, types=["basic"])
    from aksio.generation import steps as gen_steps

    outcome = "retry"
    for _ in range(20):  # Cloud Tasks retrying step 0 (attempt 0 each time: never given up)
        try:
            outcome = gen_steps.run_step(firestore_db, user.uid, job_id, 0, provider=provider, enqueue=steps.enqueue)
        except gen_steps.StepRetry:
            continue
        break
    assert outcome == "done"
    assert wire.calls <= m.max_model_calls(1) + 1
    job = firestore_db.document(f"users/{user.uid}/jobs/{job_id}").get().to_dict()
    # a failed attempt counts the calls it may have made (its reservation: the repair call,
    # and the client's retries of each), never fewer than the server saw
    assert job["failedCalls"] >= wire.calls
    assert job["status"] == "succeeded"  # it stopped: the calls it may make are used
    assert month(firestore_db, user.uid)["aiCalls"] == job["failedCalls"]


@pytest.mark.parametrize(("tokens_left", "calls_left"), [(150_000, 25), (5_000, 1_000)], ids=["calls", "tokens"])
def test_a_month_of_any_requests_stays_within_the_free_budget(  # noqa: PLR0917
    firestore_db: Any, user: User, wire: WireServer, openai_for: Any, steps: Steps, tokens_left: int, calls_left: int
) -> None:
    """Close to the free plan's limits, a user sends jobs and questions until everything is
    refused: what the model server served (its own count of calls and tokens) never passes
    what the plan has left, and the counters end at or below the limits."""
    from aksio.chat import model as chat_model
    from aksio.chat import service as chat

    limits = plans.FREE.limits
    ref = firestore_db.document(f"users/{user.uid}/usage/{usage.period_key('month', datetime.now(UTC))}")
    ref.set({"aiTokens": limits.ai_tokens_per_month - tokens_left, "aiCalls": limits.ai_calls_per_month - calls_left})
    provider = openai_for()
    refused = 0
    for i in range(60):
        try:
            if i % 2:
                body = chat_model.ChatRequest.model_validate({"message": f"What is ATP? Tell me everything ({i})."})
                chat.complete(firestore_db, chat.prepare(firestore_db, user.uid, body), provider)
            else:
                deck = new_deck(firestore_db, user.uid, f"D{i}")
                start_text_job(firestore_db, user.uid, steps, long_text(6), deck, count=5, jobId=f"j{i}")
                steps.drain(firestore_db, provider)
        except usage.OverQuota:
            refused += 1
    assert refused > 0
    served_calls = wire.calls
    stored = ref.get().to_dict()
    assert stored["aiTokens"] <= limits.ai_tokens_per_month
    assert stored["aiCalls"] <= limits.ai_calls_per_month
    assert served_calls <= calls_left
    served_tokens = sum(wire_tokens(r) for r in wire.requests)
    print(f"\nserved {served_calls}/{calls_left} calls, {served_tokens}/{tokens_left} tokens; {refused} refused")
    assert served_tokens <= tokens_left


def wire_tokens(request: dict[str, Any]) -> int:
    """What the wire server billed for one request (its ``usage``: prompt and completion)."""
    from tests.e2e.ai.wire import completion, model_cards

    if request.get("path", "").endswith("/embeddings"):
        return 0
    content = json.dumps(model_cards(request)) if request.get("response_format") else WireServer._answer(request)
    return int(completion(content, request)["usage"]["total_tokens"])


def test_tutor_answers_carry_max_tokens(wire: WireServer, openai_for: Any) -> None:
    from aksio.ai.base import Passage

    provider = openai_for(chat_max_output_tokens=300)
    provider.answer("What is ATP?", [Passage(text="ATP stores energy.")])
    provider.answer("What is ATP?", [Passage(text="ATP stores energy.")], on_delta=lambda text: None)
    assert [r["max_tokens"] for r in wire.requests] == [300, 300]
    assert wire.requests[1]["stream"] is True


def test_a_request_the_client_sent_again_keeps_its_whole_reservation(
    firestore_db: Any, user: User, wire: WireServer, openai_for: Any
) -> None:
    """The openai client retries a 5xx by itself: the first send may have been billed and its
    usage is never reported, so the tokens reserved for both sends stay counted; calls: 2."""
    from aksio.ai import bounds
    from aksio.chat import model as chat_model
    from aksio.chat import service as chat

    wire.script = [Scripted(status=500)]
    provider = openai_for(max_retries=1)
    body = chat_model.ChatRequest.model_validate({"message": "What is ATP?"})
    prep = chat.prepare(firestore_db, user.uid, body)
    assert prep.tokens is not None
    assert prep.tokens.calls == bounds.attempts() == 2
    chat.complete(firestore_db, prep, provider)
    assert wire.calls == 2
    used = month(firestore_db, user.uid)
    assert (used["aiTokens"], used["aiCalls"]) == (prep.tokens.amount, 2)
