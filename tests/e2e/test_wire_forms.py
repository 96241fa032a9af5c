"""The read routes that answer without pydantic (cold start) answer exactly what their
models would: each body, read back through its model and dumped as the pipeline dumps
models, is unchanged — for a user with decks, cards, reviews, a document and settings."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from aksio import account_api, schema
from aksio import settings as settings_models
from aksio.documents import api as documents_api
from aksio.study import api as study_api
from tests.conftest import ApiClient, User

pytestmark = pytest.mark.stack


def same_as_model(model: Any, body: Any) -> None:
    assert model.model_validate(body).model_dump(mode="json", by_alias=True, exclude_none=True) == body


def profile_by_model(db: Any, user: User) -> dict[str, Any]:
    """The profile as the pydantic models make it from the stored user document."""
    from aksio import plans

    data = db.collection("users").document(user.uid).get().to_dict() or {}
    profile = account_api.Profile(
        uid=user.uid,
        email=user.email,
        display_name=data.get("displayName"),
        plan=plans.current_plan(data).id,
        settings=settings_models.from_stored(data.get("settings")),
        created_at=data.get("createdAt"),
        updated_at=data.get("updatedAt"),
    )
    dumped: dict[str, Any] = profile.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def test_read_answers_are_their_models(gateway_url: str, user: User, firestore_db: Any) -> None:
    api = ApiClient(gateway_url, user, requests.Session())
    api.ok(
        "PATCH", "/account", json={"displayName": "Ada", "settings": {"timezone": "Europe/Oslo", "reminderHour": None}}
    )
    deck = api.ok("POST", "/decks", 201, json={"name": "Cells", "description": "Unit 1"})["id"]
    card = api.ok("POST", "/cards", 201, json={"deckId": deck, "front": "ATP?", "back": "energy", "tags": ["bio"]})
    card_id = card["cards"][0]["id"]
    api.ok("POST", "/cards", 201, json={"deckId": deck, "cloze": "{{c1::Mitochondria}} make {{c2::ATP}}."})
    review_id = uuid.uuid4().hex
    api.ok("POST", "/review-card", json={"cardId": card_id, "rating": 3, "reviewId": review_id})
    upload = {"filename": "notes.txt", "contentType": "text/plain", "sizeBytes": 12}
    api.ok("POST", "/create-upload", 201, json=upload)

    same_as_model(study_api.DeckPage, api.ok("GET", "/decks?limit=5"))
    same_as_model(study_api.Deck, api.ok("GET", f"/decks/{deck}"))
    cards = api.ok("GET", f"/cards?deckId={deck}")
    assert len(cards["cards"]) == 3
    same_as_model(study_api.CardPage, cards)
    same_as_model(study_api.Card, api.ok("GET", f"/cards/{card_id}"))
    same_as_model(study_api.ReviewResult, api.ok("GET", f"/review-card/{review_id}"))
    queue = api.ok("GET", "/study-queue?limit=10")
    assert queue["cards"]
    same_as_model(study_api.StudyQueue, queue)
    stats = api.ok("GET", "/stats?days=7")
    assert stats["totalReviews"] == 1
    same_as_model(study_api.Stats, stats)
    documents = api.ok("GET", "/documents")
    assert documents["documents"]
    same_as_model(documents_api.DocumentPage, documents)
    profile = api.ok("GET", "/account")
    assert profile["displayName"] == "Ada"
    assert "reminderHour" not in profile["settings"]
    assert profile == profile_by_model(firestore_db, user)  # a round trip would fill reminderHour's default
    assert api.ok("GET", "/account/settings") == profile["settings"]
    same_as_model(schema.Health, requests.get(f"{gateway_url}/health", timeout=10).json())
    # a query the fast path leaves to the model still gets the model's answer and errors
    assert api.call("GET", "/decks?limit=0").status_code == 400
    assert api.call("GET", "/cards?deckId=bad%20id").json()["error"]["details"][0]["field"] == "deckId"
    assert api.ok("GET", "/stats?days=07")["retention"]["days"] == 7
