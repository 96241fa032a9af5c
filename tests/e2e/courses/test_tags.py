"""tags through the gateway: list with counts, filter cards and the queue, rename and
delete across every card (a second call changes nothing), normalised names, bad names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import User
from tests.e2e.courses.conftest import CourseClient

pytestmark = pytest.mark.stack
NOW = datetime(2026, 1, 5, tzinfo=UTC)


def tagged(client: CourseClient, deck: str, front: str, tags: list[str]) -> str:
    body = client.ok("POST", "/cards", 201, json={"deckId": deck, "front": front, "back": "b", "tags": tags})
    return str(body["cards"][0]["id"])


def counts(client: CourseClient) -> dict[str, int]:
    return {t["name"]: t["cardCount"] for t in client.ok("GET", "/tags")["tags"]}


def test_list_filter_rename_and_delete_tags(client: CourseClient, firestore_db: Any) -> None:
    deck = client.deck("Tagged")
    a = tagged(client, deck, "a", ["Cells", "exam"])
    b = tagged(client, deck, "b", ["  cells "])
    c = tagged(client, deck, "c", ["energy"])
    assert counts(client) == {"cells": 2, "exam": 1, "energy": 1}
    listed = client.ok("GET", "/cards", params={"tag": "CELLS"})["cards"]
    assert {x["id"] for x in listed} == {a, b}
    queue = client.ok("GET", "/study-queue", params={"tag": "cells", "deckId": deck})
    assert {x["id"] for x in queue["cards"]} == {a, b}
    # rename onto an existing tag merges; a second call changes nothing
    renamed = client.ok("PATCH", "/tags/Cells", json={"name": "Exam"})
    assert (renamed["name"], renamed["previousName"], renamed["cardsChanged"]) == ("exam", "cells", 2)
    assert client.ok("GET", f"/cards/{a}")["tags"] == ["exam"]
    assert client.ok("GET", f"/cards/{b}")["tags"] == ["exam"]
    again = client.ok("PATCH", "/tags/cells", json={"name": "exam"})
    assert again["cardsChanged"] == 0
    assert counts(client) == {"exam": 2, "energy": 1}
    gone = client.ok("DELETE", "/tags/exam")
    assert (gone["deleted"], gone["cardsChanged"]) == (True, 2)
    assert client.ok("DELETE", "/tags/exam")["cardsChanged"] == 0
    assert counts(client) == {"energy": 1}
    assert client.ok("GET", f"/cards/{c}")["tags"] == ["energy"]
    assert client.ok("GET", "/cards", params={"tag": "exam"})["cards"] == []


def test_bad_tag_names_are_400_and_change_nothing(client: CourseClient) -> None:
    deck = client.deck("Bad")
    card = tagged(client, deck, "x", ["keep"])
    long = "x" * 65
    for method, path, body in (
        ("PATCH", "/tags/keep", {"name": long}),
        ("PATCH", "/tags/keep", {"name": "two words"}),
        ("PATCH", f"/tags/{long}", {"name": "ok"}),
        ("DELETE", f"/tags/{long}", None),
        ("POST", "/cards", {"deckId": deck, "front": "f", "back": "b", "tags": [long]}),
    ):
        response = client.call(method, path, json=body)
        assert response.status_code == 400, (method, path, response.text)
    assert client.call("GET", "/cards", params={"tag": long}).status_code == 400
    assert client.ok("GET", f"/cards/{card}")["tags"] == ["keep"]
    assert tagged(client, deck, "y", ["x" * 64]) != card


def test_another_users_tags_are_untouched(
    client_for: Callable[[User], CourseClient], new_user: Callable[[], User]
) -> None:
    alice, bob = client_for(new_user()), client_for(new_user())
    card = tagged(alice, alice.deck("A"), "a", ["shared"])
    assert bob.ok("GET", "/tags")["tags"] == []
    assert bob.ok("DELETE", "/tags/shared")["cardsChanged"] == 0
    assert alice.ok("GET", f"/cards/{card}")["tags"] == ["shared"]


def test_a_rename_racing_card_edits_loses_no_edit(client: CourseClient, firestore_db: Any) -> None:
    """While a rename sweeps 1,000 cards, 100 of them are edited (a tag added); every edit
    survives, and the rename sent again leaves no card with the old name."""
    from concurrent.futures import ThreadPoolExecutor

    from aksio.study.model import Content, new_card

    deck = client.deck("Race")
    col = firestore_db.collection("users").document(client.user.uid).collection("cards")
    ids = []
    for start in range(0, 1000, 400):
        batch = firestore_db.batch()
        for i in range(start, min(1000, start + 400)):
            card_id, doc = new_card(deck, Content(front=f"race {i}", back="b"), note=None, tags=["old"], now=NOW)
            batch.set(col.document(card_id), doc)
            ids.append(card_id)
        batch.commit()
    firestore_db.collection("users").document(client.user.uid).set({"tagNames": ["old"]}, merge=True)
    edited = ids[::10]

    def edit(card_id: str) -> int:
        card = client.ok("GET", f"/cards/{card_id}")
        tags = [*card["tags"], "extra"]
        return client.call("PATCH", f"/cards/{card_id}", json={"tags": tags}).status_code

    with ThreadPoolExecutor(4) as pool:
        rename = pool.submit(client.call, "PATCH", "/tags/old", json={"name": "new"})
        codes = list(pool.map(edit, edited))
        first = rename.result()
    assert codes == [200] * len(edited)
    assert first.status_code == 200, first.text
    client.ok("PATCH", "/tags/old", json={"name": "new"})  # an edit may have written "old" back
    for card_id in edited:
        assert "extra" in client.ok("GET", f"/cards/{card_id}")["tags"]
    assert client.ok("GET", "/cards", params={"tag": "old"})["cards"] == []
    assert counts(client)["new"] == 1000
