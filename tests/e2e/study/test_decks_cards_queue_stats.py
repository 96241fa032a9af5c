"""decks, cards, study-queue and stats through the gateway; and that user B can neither
read, change nor detect anything of user A's, in every study function."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from tests.conftest import User
from tests.e2e.study.conftest import Client

pytestmark = pytest.mark.stack


def cards_ref(firestore_db: Any, uid: str) -> Any:
    return firestore_db.collection("users").document(uid).collection("cards")


def test_deck_crud_and_cursor_pages(client: Client) -> None:
    ids = [client.deck(f"Deck {i}") for i in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.ok("GET", "/decks", params=params)
        seen += [d["id"] for d in page["decks"]]
        pages += 1
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert seen == ids
    assert pages == 3
    renamed = client.ok("PATCH", f"/decks/{ids[0]}", json={"name": "  Biology  "})
    assert renamed["name"] == "Biology"
    assert client.ok("GET", f"/decks/{ids[0]}")["cardCount"] == 0
    bad = client.call("GET", "/decks", params={"cursor": "garbage!"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_cursor"
    assert client.call("POST", "/decks", json={"name": ""}).status_code == 400
    assert client.call("POST", "/decks", json={"name": "x", "colour": "red"}).status_code == 400


def test_deck_create_with_client_id_is_idempotent(client: Client) -> None:
    body = {"id": "bio-101", "name": "Biology"}
    first = client.call("POST", "/decks", json=body)
    assert first.status_code == 201, first.text
    for _ in range(2):  # client retries: the same deck, not a second one
        again = client.call("POST", "/decks", json=body)
        assert again.status_code == 200
        assert again.json()["id"] == "bio-101"
    clash = client.call("POST", "/decks", json={"id": "bio-101", "name": "Chemistry"})
    assert (clash.status_code, clash.json()["error"]["code"]) == (409, "deck_exists")
    names = [d["name"] for d in client.ok("GET", "/decks")["decks"]]
    assert names == ["Biology"]


def test_cards_create_list_edit_suspend_delete(client: Client, firestore_db: Any) -> None:
    deck = client.deck()
    created = client.ok("POST", "/cards", 201, json={"deckId": deck, "front": "2+2?", "back": "4", "tags": ["math"]})
    card = created["cards"][0]
    assert (card["state"], card["queue"], card["tags"], card["reps"]) == ("new", "new", ["math"], 0)
    # the same content again (a client retry) creates nothing new
    again = client.call("POST", "/cards", json={"deckId": deck, "front": "2+2?", "back": "4"})
    assert again.status_code == 200
    assert again.json()["cards"][0]["id"] == card["id"]
    cloze = client.ok("POST", "/cards", 201, json={"deckId": deck, "cloze": "{{c1::Oslo}} is in {{c2::Norway}}."})
    assert [c["clozeIndex"] for c in cloze["cards"]] == [1, 2]
    assert len({c["noteId"] for c in cloze["cards"]}) == 1
    listed = client.ok("GET", "/cards", params={"deckId": deck, "limit": 2})
    assert len(listed["cards"]) == 2
    rest = client.ok("GET", "/cards", params={"deckId": deck, "limit": 2, "cursor": listed["nextCursor"]})
    assert len(rest["cards"]) == 1
    assert "nextCursor" not in rest
    edited = client.ok("PATCH", f"/cards/{card['id']}", json={"back": "four", "tags": ["math", "easy"]})
    assert (edited["front"], edited["back"], edited["tags"]) == ("2+2?", "four", ["math", "easy"])
    assert client.ok("POST", f"/cards/{card['id']}/suspend")["queue"] == "suspended"
    assert client.ok("GET", f"/cards/{card['id']}")["suspended"] is True
    assert client.ok("POST", f"/cards/{card['id']}/unsuspend")["queue"] == "new"
    other_deck = client.deck("Other")
    assert client.ok("PATCH", f"/cards/{card['id']}", json={"deckId": other_deck})["deckId"] == other_deck
    assert client.call("PATCH", f"/cards/{card['id']}", json={"deckId": "nope"}).status_code == 404
    assert client.ok("DELETE", f"/cards/{card['id']}")["deleted"] is True
    assert client.call("GET", f"/cards/{card['id']}").status_code == 404
    assert client.call("DELETE", f"/cards/{card['id']}").status_code == 404
    # validation: sizes bounded, unknown deck 404, basic xor cloze
    big = "x" * (10 * 1024 + 1)
    assert client.call("POST", "/cards", json={"deckId": deck, "front": big, "back": "b"}).status_code == 400
    assert client.call("POST", "/cards", json={"deckId": deck, "front": "é" * 5121, "back": "b"}).status_code == 400
    assert client.call("POST", "/cards", json={"deckId": "missing", "front": "f", "back": "b"}).status_code == 404
    assert client.call("POST", "/cards", json={"deckId": deck, "front": "f"}).status_code == 400
    assert client.call("POST", "/cards", json={"deckId": deck, "cloze": "no deletion"}).status_code == 400
    # deleting the deck deletes its cards
    assert client.ok("DELETE", f"/decks/{deck}")["cardsDeleted"] == 2
    assert list(cards_ref(firestore_db, client.user.uid).where(filter=FieldFilter("deckId", "==", deck)).stream()) == []
    assert client.call("GET", f"/decks/{deck}").status_code == 404
    assert client.call("POST", "/cards", json={"deckId": deck, "front": "f", "back": "b"}).status_code == 404


def test_study_queue_order_limits_and_burying(client: Client, firestore_db: Any) -> None:
    client.ok("PATCH", "/account", json={"settings": {"newCardsPerDay": 3, "buryNewSiblings": True}})
    deck = client.deck()
    basics = [client.card(deck, f"q{i}") for i in range(4)]
    cloze = client.ok("POST", "/cards", 201, json={"deckId": deck, "cloze": "{{c1::a}} {{c2::b}} {{c3::c}}"})
    siblings = [c["id"] for c in cloze["cards"]]
    now = datetime.now(UTC)
    ref = cards_ref(firestore_db, client.user.uid)
    for i, card_id in enumerate(basics[:2]):  # two due review cards, the older first
        due = now - timedelta(days=2 - i)
        ref.document(card_id).update({"state": "review", "queue": "review", "stability": 5.0, "difficulty": 5.0,
                                      "due": due, "lastReview": due - timedelta(days=5), "reps": 3})  # fmt: skip
    queue = client.ok("GET", "/study-queue")
    assert [c["id"] for c in queue["cards"]][:2] == basics[:2]
    new_ids = [c["id"] for c in queue["cards"][2:]]
    assert new_ids == [basics[2], basics[3], siblings[0]]  # three new a day; one card of the note
    assert queue["counts"] == {"new": 3, "learning": 0, "review": 2}
    # studying a new card uses up the day's allowance; the learning card comes back when due
    assert client.review(basics[2], "good").status_code == 200
    queue = client.ok("GET", "/study-queue")
    assert queue["limits"]["newRemaining"] == 2
    assert [c["id"] for c in queue["cards"][2:]] == [basics[3], siblings[0]]
    assert client.review(siblings[0], "good").status_code == 200  # the note was studied today
    client.ok("PATCH", "/account", json={"settings": {"newCardsPerDay": 10}})
    queue = client.ok("GET", "/study-queue")
    assert [c["id"] for c in queue["cards"][2:]] == [basics[3]]  # its siblings wait for tomorrow
    assert queue["buried"] == 2
    client.ok("PATCH", "/account", json={"settings": {"buryNewSiblings": False}})
    queue = client.ok("GET", "/study-queue")
    assert [c["id"] for c in queue["cards"][2:]] == [basics[3], siblings[1], siblings[2]]
    only = client.ok("GET", "/study-queue", params={"deckId": client.deck("empty")})
    assert only["cards"] == []
    assert client.call("GET", "/study-queue", params={"deckId": "missing"}).status_code == 404


def test_stats_reviews_per_day_retention_streak_forecast(client: Client, firestore_db: Any) -> None:
    client.ok("PATCH", "/account", json={"settings": {"timezone": "Pacific/Auckland"}})
    deck = client.deck()
    cards = [client.card(deck) for _ in range(3)]
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for card_id in cards:
        assert client.review(card_id, "easy", reviewedAt=yesterday.isoformat()).status_code == 200
    assert client.review(cards[0], "good").status_code == 200
    assert client.review(cards[1], "again").status_code == 200
    body = client.ok("GET", "/stats", params={"days": 7})
    assert body["totalReviews"] == 5
    assert [d["reviews"] for d in body["reviewsPerDay"]][-2:] == [3, 2]
    assert body["retention"] == {"trueRetention": 0.5, "reviewCount": 2, "days": 7}
    assert body["streak"]["current"] == 2
    assert body["cards"]["total"] == 3
    assert body["cards"]["review"] + body["cards"]["relearning"] == 3
    assert len(body["forecast"]) == 30
    assert sum(d["due"] for d in body["forecast"]) == 3
    assert body["byRating"] == {"again": 1, "hard": 0, "good": 1, "easy": 3}


def test_another_users_data_is_not_found_everywhere(
    client_for: Callable[[User], Client], new_user: Callable[[], User], firestore_db: Any
) -> None:
    a, b = client_for(new_user()), client_for(new_user())
    deck = a.deck("A's deck")
    card = a.card(deck, "secret")
    review_id = uuid.uuid4().hex
    assert a.review(card, "good", review_id).status_code == 200
    before = a.ok("GET", f"/cards/{card}")
    attempts = {
        "GET deck": b.call("GET", f"/decks/{deck}"),
        "PATCH deck": b.call("PATCH", f"/decks/{deck}", json={"name": "mine"}),
        "DELETE deck": b.call("DELETE", f"/decks/{deck}"),
        "cards of deck": b.call("GET", "/cards", params={"deckId": deck}),
        "card into deck": b.call("POST", "/cards", json={"deckId": deck, "front": "f", "back": "b"}),
        "GET card": b.call("GET", f"/cards/{card}"),
        "PATCH card": b.call("PATCH", f"/cards/{card}", json={"front": "mine"}),
        "suspend card": b.call("POST", f"/cards/{card}/suspend"),
        "unsuspend card": b.call("POST", f"/cards/{card}/unsuspend"),
        "DELETE card": b.call("DELETE", f"/cards/{card}"),
        "review": b.review(card, "again"),
        "replay A's review": b.review(card, "good", review_id),
        "GET review": b.call("GET", f"/review-card/{review_id}"),
        "undo": b.call("POST", "/review-card/undo", json={"cardId": card}),
        "undo A's review": b.call("POST", "/review-card/undo", json={"cardId": card, "reviewId": review_id}),
        "queue of deck": b.call("GET", "/study-queue", params={"deckId": deck}),
    }
    for what, response in attempts.items():
        assert response.status_code == 404, f"{what}: {response.status_code} {response.text}"
        assert "secret" not in response.text
    assert b.ok("GET", "/decks")["decks"] == []
    assert b.ok("GET", "/cards")["cards"] == []
    assert b.ok("GET", "/study-queue")["cards"] == []
    assert b.ok("GET", "/stats")["totalReviews"] == 0
    assert a.ok("GET", f"/cards/{card}") == before
    assert a.ok("GET", f"/decks/{deck}")["name"] == "A's deck"
