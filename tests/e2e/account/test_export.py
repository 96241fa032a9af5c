"""Export of everything an account holds, through the stack: the job (Cloud Tasks), the ZIP
in Storage, its signed download link, and its contents compared with what the API lists."""

from __future__ import annotations

import html
import io
import json
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from aksio.account import export
from tests.conftest import User
from tests.e2e.account.conftest import Footprint
from tests.e2e.ai.conftest import Client

pytestmark = pytest.mark.stack


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def wait_export(client: Client, export_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data: dict[str, Any] = client.ok("GET", f"/account/exports/{export_id}")
        if data["status"] in ("succeeded", "failed"):
            return data
        assert time.monotonic() < deadline, f"export still {data['status']}"
        time.sleep(0.3)


def all_pages(client: Client, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 100} | params
    while True:
        page = client.ok("GET", path, params=query)
        items += page[key]
        if not page.get("nextCursor"):
            return items
        query["cursor"] = page["nextCursor"]


def test_one_export_at_a_time(client_for: Callable[[User], Client], user: User, firestore_db: Any) -> None:
    client = client_for(user)
    first = export.request(firestore_db, user.uid, enqueue=lambda _u, _e: True)  # queued, its task not yet run
    assert first["status"] == "queued"
    second = client.call("POST", "/account/exports")
    assert second.status_code == 409, second.text
    assert second.json()["error"]["code"] == "export_running"
    assert second.json()["error"]["details"] == {"exportId": first["id"]}
    listed = client.ok("GET", "/account/exports")["exports"]
    assert [e["id"] for e in listed] == [first["id"]]
    assert client.call("GET", "/account/exports/nope").status_code == 404


def test_the_export_holds_every_card_review_document_and_message(
    everything: Callable[..., Footprint], capsys: pytest.CaptureFixture[str]
) -> None:
    fp = everything()
    client = fp.client
    started = client.ok("POST", "/account/exports", 202)
    assert (started["status"], started["progress"]["stage"]) == ("queued", "queued")
    done = wait_export(client, started["id"])
    assert done["status"] == "succeeded", done
    assert done["progress"]["stage"] == "done"
    assert _when(done["fileExpiresAt"]) - _when(done["completedAt"]) == timedelta(days=7)
    url = done["downloadUrl"]
    assert parse_qs(urlparse(url).query)["X-Goog-Expires"] == ["3600"]
    r = requests.get(url, timeout=60)
    assert r.status_code == 200
    assert len(r.content) == done["sizeBytes"]
    z = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(z.namelist())

    def records(kind: str) -> list[dict[str, Any]]:
        return list(json.loads(z.read(f"data/{kind}.json")))

    cards = all_pages(client, "/cards", "cards")
    assert sorted(c["id"] for c in records("cards")) == sorted(c["id"] for c in cards)
    assert len(cards) > 1
    stats = client.ok("GET", "/stats")
    assert len(records("reviews")) == stats["totalReviews"] == 1
    documents = all_pages(client, "/documents", "documents")
    assert sorted(d["id"] for d in records("documents")) == sorted(d["id"] for d in documents)
    assert {f"files/{d['id']}/Biology.md" for d in documents} <= names
    assert z.read(f"files/{fp.document_id}/Biology.md").startswith(b"# Energy")
    messages = all_pages(client, f"/chat-reply/{fp.chat_id}/messages", "messages")
    assert sorted(m["id"] for m in records("messages")) == sorted(m["id"] for m in messages)
    assert len(messages) == 2
    assert [j["id"] for j in records("jobs")] == [fp.job_id]
    devices = records("devices")
    assert [d["id"] for d in devices] == [fp.device_id]
    assert "token" not in devices[0]
    profile = json.loads(z.read("profile.json"))
    assert profile["billing"]["status"] == "active"
    assert "chunks.json" not in {n.rsplit("/", 1)[-1] for n in names}
    assert done["counts"]["cards"] == len(cards)
    kinds = {a["kind"] for a in client.ok("GET", "/account/activity")["activity"]}
    assert "export_requested" in kinds

    # the deck as an Anki package: every card of the deck, as a note
    with tempfile.TemporaryDirectory() as tmp:
        apkg = zipfile.ZipFile(io.BytesIO(z.read("decks/Biology.apkg")))
        apkg.extract("collection.anki2", tmp)
        con = sqlite3.connect(f"{tmp}/collection.anki2")
        fronts = [row[0].split("\x1f")[0] for row in con.execute("select flds from notes")]
        con.close()
    deck_cards = [c for c in cards if c["deckId"] == fp.deck_id]
    assert sorted(fronts) == sorted(html.escape(c["front"]) for c in deck_cards)
    assert "What is ATP?" in fronts
    with capsys.disabled():
        print(
            f"\nexport: {len(cards)} cards, {len(records('reviews'))} reviews, {len(documents)} documents, "
            f"{len(messages)} messages; equal to the API's lists; {done['sizeBytes']} bytes"
        )
