"""Contention on every transactional route family answers 503 ``contention``, never 500.

The Firestore emulator's fault injection (``tests.conftest.Aborts``) makes every commit of
a transaction touching the user's documents answer ABORTED, as production does when a
transaction keeps losing to others: the client's retries run out, and the function must
answer 503 with code ``contention`` and a ``Retry-After``, having written nothing. With the
fault lifted, the same request goes through.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.conftest import Aborts, ApiClient, User

pytestmark = pytest.mark.stack


def contended(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "contention"
    assert int(response.headers["Retry-After"]) >= 1


@pytest.fixture
def api(gateway_url: str, user: User) -> ApiClient:
    return ApiClient(gateway_url, user, requests.Session())


def test_study_writes_under_contention(api: ApiClient, aborts: Aborts) -> None:
    deck = api.ok("POST", "/decks", 201, json={"name": "Cells"})["id"]
    card = api.ok("POST", "/cards", 201, json={"deckId": deck, "front": "ATP?", "back": "energy"})["cards"][0]["id"]
    review_id = uuid.uuid4().hex
    aborts.on(f"users/{api.user.uid}")
    contended(api.call("POST", "/review-card", json={"cardId": card, "rating": 3, "reviewId": review_id}))
    contended(api.call("POST", "/cards", json={"deckId": deck, "front": "NADH?", "back": "carrier"}))
    contended(api.call("PATCH", f"/cards/{card}", json={"tags": ["x"]}))
    contended(api.call("PATCH", f"/decks/{deck}", json={"name": "Cell biology"}))
    contended(api.call("DELETE", f"/decks/{deck}"))
    aborts.off(f"users/{api.user.uid}")
    # nothing of it was written
    assert api.ok("GET", f"/cards/{card}")["reps"] == 0
    assert api.ok("GET", f"/cards/{card}")["tags"] == []
    assert api.ok("GET", f"/decks/{deck}")["name"] == "Cells"
    assert api.call("GET", f"/review-card/{review_id}").status_code == 404
    # and with the fault lifted the same review goes through, once
    assert (
        api.call("POST", "/review-card", json={"cardId": card, "rating": 3, "reviewId": review_id}).status_code == 200
    )
    aborts.on(f"users/{api.user.uid}/cards/{card}")
    contended(api.call("POST", "/review-card/undo", json={"cardId": card}))
    aborts.off(f"users/{api.user.uid}/cards/{card}")
    assert api.ok("GET", f"/cards/{card}")["reps"] == 1


def test_generation_start_and_account_under_contention(api: ApiClient, aborts: Aborts) -> None:
    deck = api.ok("POST", "/decks", 201, json={"name": "Cells"})["id"]
    aborts.on(f"users/{api.user.uid}")
    body = {"deckId": deck, "text": "ATP is the energy currency of the cell. " * 20, "count": 3}
    contended(api.call("POST", "/generate-flashcards", json=body))
    contended(api.call("PATCH", "/account", json={"settings": {"newCardsPerDay": 5}}))
    aborts.off(f"users/{api.user.uid}")
    assert api.ok("GET", "/generate-flashcards")["jobs"] == []
    assert api.ok("GET", "/account")["settings"]["newCardsPerDay"] != 5
