"""generate-flashcards and run-generation through the local stack (gateway, Cloud Tasks
emulator, Firestore), with the offline provider: jobs from text, duplicate task delivery,
the queue's authentication, quotas, drafts, and isolation between users."""

from __future__ import annotations

import concurrent.futures
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from tasks_emulator.oidc import Issuer

from aksio.usage import period_key
from tests.conftest import User, task_token
from tests.e2e.ai.conftest import OFFLINE_ONLY, Client, Steps, cards_of, new_deck, start_text_job, task_headers

pytestmark = [pytest.mark.stack, OFFLINE_ONLY]

NOTES = """Cell biology notes

The cell is the basic unit of life. Mitochondria are organelles that release energy from glucose.
Photosynthesis is the process by which plants convert light energy into chemical energy.

The phases of mitosis include prophase, metaphase, anaphase and telophase.
Robert Hooke first described cells in 1665. Chlorophyll absorbs mostly blue and red light.

The main parts of a cell:
- the nucleus
- the cytoplasm
- the cell membrane
"""


def test_text_job_runs_through_the_queue_and_makes_cited_cards(client: Client, firestore_db: Any) -> None:
    deck = client.deck("Biology")
    started = client.call("POST", "/generate-flashcards", json={"text": NOTES, "deckId": deck, "count": 8})
    assert started.status_code == 202, started.text
    body = started.json()
    assert (body["status"], body["deckId"]) == ("queued", deck)
    assert started.headers["Location"] == f"/generate-flashcards/{body['jobId']}"
    job = client.wait_job(body["jobId"])
    assert job["status"] == "succeeded", job
    assert job["progress"] == {"chunksDone": 1, "chunksTotal": 1, "stepsDone": 1, "stepsTotal": 1}
    assert job["cardsCreated"] == 8
    assert job["provider"] == "offline"
    assert job["tokensUsed"]["total"] > 0
    cards = client.ok("GET", "/cards", params={"deckId": deck, "limit": 100})["cards"]
    assert len(cards) == 8
    fronts = [c["front"] for c in cards]
    assert len(set(fronts)) == len(fronts)
    assert {c["kind"] for c in cards} == {"basic", "cloze"}
    for c in cards:
        assert c["tags"] == ["generated"]
        assert c["source"]["kind"] == "text"
        assert c["source"]["jobId"] == body["jobId"]
        assert c["source"]["quote"]
    assert "What is the cell?" in fronts
    # the same request again (a client retry with the same job id) is the same job
    again = {"text": NOTES, "deckId": deck, "count": 8, "jobId": "retry-me"}
    first = client.call("POST", "/generate-flashcards", json=again)
    second = client.call("POST", "/generate-flashcards", json=again)
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["jobId"] == "retry-me"
    clash = client.call("POST", "/generate-flashcards", json=again | {"count": 9})
    assert (clash.status_code, clash.json()["error"]["code"]) == (409, "job_exists")
    done = client.wait_job("retry-me")
    assert done["cardsCreated"] == 0  # everything it would make is already in the deck
    assert done["duplicatesSkipped"] == 8
    listed = client.ok("GET", "/generate-flashcards", params={"limit": 1})
    assert listed["jobs"][0]["id"] == "retry-me"
    assert listed["nextCursor"]


def test_new_deck_types_and_validation(client: Client) -> None:
    job_id = client.generate(text=NOTES, newDeckName="Cells (cloze)", count=5, types=["cloze"])
    job = client.wait_job(job_id)
    deck = client.ok("GET", f"/decks/{job['deckId']}")
    assert deck["name"] == "Cells (cloze)"
    assert deck["cardCount"] == 5
    cards = client.ok("GET", "/cards", params={"deckId": job["deckId"]})["cards"]
    assert {c["kind"] for c in cards} == {"cloze"}
    assert all("[...]" in c["front"] for c in cards)
    for bad in [
        {"text": "x"},
        {"deckId": "d"},
        {"text": "x", "documentIds": ["a"], "deckId": "d"},
        {"text": "   ", "deckId": "d"},
        {"text": "x", "deckId": "d", "count": 0},
        {"text": "x", "deckId": "d", "count": 101},
        {"text": "x", "deckId": "d", "types": ["essay"]},
        {"text": "x", "deckId": "d", "surprise": 1},
    ]:
        response = client.call("POST", "/generate-flashcards", json=bad)
        assert response.status_code == 400, bad
    missing = client.call("POST", "/generate-flashcards", json={"text": NOTES, "deckId": "nope"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "deck_not_found")


def test_duplicate_and_concurrent_task_deliveries_write_nothing_twice(
    gateway_url: str, firestore_db: Any, client: Client
) -> None:
    uid = client.user.uid
    deck = new_deck(firestore_db, uid)
    steps = Steps()  # the job is created without a task: the deliveries below are the only ones
    job_id = start_text_job(firestore_db, uid, steps, NOTES * 3, deck, count=30)
    body = json.dumps({"uid": uid, "jobId": job_id, "step": 0})

    def deliver() -> dict[str, Any]:
        response = requests.post(f"{gateway_url}/run-generation", data=body, headers=task_headers(), timeout=60)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = sorted(r["result"] for r in pool.map(lambda _: deliver(), range(4)))
    # one delivery commits; the others find the step's record (or, later, the finished job)
    assert results.count("done") == 1
    assert set(results) - {"done"} <= {"duplicate", "finished"}
    assert deliver()["result"] == "finished"  # and again, later: the job has ended, nothing is written
    job_ref = firestore_db.collection("users").document(uid).collection("jobs").document(job_id)
    job = job_ref.get().to_dict()
    cards = cards_of(firestore_db, uid, deck)
    assert job["status"] == "succeeded"
    assert job["cardsCreated"] == len(cards) > 0
    assert len(list(job_ref.collection("steps").stream())) == 1
    fronts = [c["front"] for c in cards]
    assert len(set(fronts)) == len(fronts)


def test_only_the_queue_may_call_run_generation(gateway_url: str, user: User) -> None:
    body = json.dumps({"uid": user.uid, "jobId": "j1", "step": 0})
    url = f"{gateway_url}/run-generation"
    none = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert (none.status_code, none.json()["error"]["code"]) == (401, "task_auth_required")
    secret = {"Content-Type": "application/json", "X-Aksio-Task-Secret": os.environ.get("TASKS_AUTH_SECRET", "x")}
    old_secret = requests.post(url, data=body, headers=secret, timeout=10)  # the removed shared-secret path
    assert (old_secret.status_code, old_secret.json()["error"]["code"]) == (401, "task_auth_required")
    refused = {}
    for what, token in (
        ("forged", Issuer().mint(os.environ["TASKS_SERVICE_ACCOUNT"], url)),  # right claims, another key
        ("another audience", task_token("https://run-generation.elsewhere.example")),
        ("another service account", task_token(url, email="other@demo-aksio.iam.gserviceaccount.com")),
    ):
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        response = requests.post(url, data=body, headers=headers, timeout=10)
        refused[what] = (response.status_code, response.json()["error"]["code"])
        print(f"run-generation with a {what} token -> {refused[what]}")
    assert refused == {
        "forged": (401, "bad_task_token"),
        "another audience": (401, "bad_task_token"),
        "another service account": (401, "task_caller_denied"),
    }
    as_user = requests.post(url, data=body, headers={"Content-Type": "application/json"} | user.headers, timeout=10)
    assert as_user.status_code == 401
    unknown = requests.post(url, data=body, headers=task_headers(), timeout=10)
    assert (unknown.status_code, unknown.json()["result"]) == (200, "no_job")
    garbage = requests.post(url, data=b"{}", headers=task_headers(), timeout=10)
    assert garbage.status_code == 400


def test_generation_quota_is_a_429_saying_when_it_resets(client: Client, firestore_db: Any) -> None:
    now = datetime.now(UTC)
    usage = firestore_db.collection("users").document(client.user.uid).collection("usage")
    usage.document(period_key("month", now)).set({"generations": 9})
    deck = client.deck()
    client.generate(text=NOTES, deckId=deck, count=2)  # the 10th of the free plan's 10
    over = client.call("POST", "/generate-flashcards", json={"text": NOTES, "deckId": deck, "count": 2})
    assert over.status_code == 429, over.text
    error = over.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert error["details"]["limit"] == 10
    assert error["details"]["used"] == 10
    resets = datetime.fromisoformat(error["details"]["resetsAt"].replace("Z", "+00:00"))
    assert resets > now
    assert resets.day == 1
    assert int(over.headers["Retry-After"]) > 0
    assert usage.document(period_key("month", now)).get().to_dict()["generations"] == 10


def test_drafts_wait_for_the_users_decision(client: Client) -> None:
    client.ok("PATCH", "/account", json={"settings": {"draftGeneratedCards": True}})
    deck = client.deck()
    job = client.wait_job(client.generate(text=NOTES, deckId=deck, count=6))
    assert (job["draft"], job["cardsCreated"], job["draftsPending"]) == (True, 6, 6)
    assert client.ok("GET", "/cards", params={"deckId": deck})["cards"] == []
    drafts = client.ok("GET", f"/generate-flashcards/{job['id']}/drafts")["drafts"]
    assert len(drafts) == 6
    assert all(d["source"]["jobId"] == job["id"] for d in drafts)
    keep = [d["id"] for d in drafts[:4]]
    accepted = client.ok("POST", f"/generate-flashcards/{job['id']}/drafts/accept", json={"cardIds": keep})
    assert (accepted["accepted"], sorted(accepted["cardIds"])) == (4, sorted(keep))
    rejected = client.ok("POST", f"/generate-flashcards/{job['id']}/drafts/reject", json={})
    assert rejected["rejected"] == 2
    cards = client.ok("GET", "/cards", params={"deckId": deck})["cards"]
    assert sorted(c["id"] for c in cards) == sorted(keep)
    assert client.ok("GET", f"/generate-flashcards/{job['id']}")["draftsPending"] == 0
    # an explicit draft=false overrides the setting
    direct = client.wait_job(client.generate(text=NOTES, deckId=client.deck(), count=3, draft=False))
    assert (direct["draft"], direct["draftsPending"]) == (False, 0)


def test_another_users_job_is_not_found(client_for: Callable[[User], Client], new_user: Callable[[], User]) -> None:
    alice, bob = client_for(new_user()), client_for(new_user())
    job_id = alice.generate(text=NOTES, deckId=alice.deck(), count=2)
    for path in (f"/generate-flashcards/{job_id}", f"/generate-flashcards/{job_id}/drafts"):
        response = bob.call("GET", path)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "job_not_found"), path
    accept = bob.call("POST", f"/generate-flashcards/{job_id}/drafts/accept", json={})
    assert accept.status_code == 404
    assert bob.ok("GET", "/generate-flashcards")["jobs"] == []
    # nor may bob generate into alice's deck
    deck = alice.deck()
    response = bob.call("POST", "/generate-flashcards", json={"text": NOTES, "deckId": deck})
    assert response.status_code == 404
