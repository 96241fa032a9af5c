"""The whole flow on the local stack with the offline provider and no key: upload a
document → ready → generate → cards with citations → review one → ask the tutor → the
answer cites the right page. Plus chats (history, pages, streaming), tutor quota, empty
and unready documents, and another user's documents and chats (404)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from aksio.usage import period_key
from tests.conftest import User
from tests.e2e.ai.conftest import OFFLINE_ONLY, Client

pytestmark = [pytest.mark.stack, OFFLINE_ONLY]

MD = "text/markdown"
PAGES = [
    "# Cell structure\n\nThe cell membrane is a thin layer that surrounds the cell and controls what enters and "
    "leaves it. The nucleus contains the genetic material of the cell.",
    "# Energy\n\nMitochondria are organelles that release energy from glucose during cellular respiration. "
    "ATP is the molecule that cells use to store and transfer energy.",
    "# Photosynthesis\n\nPhotosynthesis is the process by which plants convert light energy into chemical energy. "
    "Chlorophyll is the green pigment that absorbs light in the chloroplasts.",
    "# Cell division\n\nThe phases of mitosis include prophase, metaphase, anaphase and telophase. "
    "Meiosis produces four daughter cells with half the number of chromosomes.",
]
DOCUMENT = "\n\f".join(PAGES).encode()


def ready_document(client: Client, name: str = "Biology.md", data: bytes = DOCUMENT) -> str:
    doc_id = client.upload(name, MD, data)
    doc = client.wait_document(doc_id)
    assert doc["status"] == "ready", doc
    return doc_id


def test_upload_generate_review_and_ask_the_tutor(client: Client) -> None:
    doc_id = ready_document(client)
    deck = client.deck("Biology")
    job = client.wait_job(client.generate(documentIds=[doc_id], deckId=deck, count=12))
    assert job["status"] == "succeeded", job
    assert (job["source"], job["documentIds"]) == ("documents", [doc_id])
    assert job["progress"]["chunksDone"] == job["progress"]["chunksTotal"] == 4
    assert job["progress"]["stepsTotal"] == 2
    cards = client.ok("GET", "/cards", params={"deckId": deck, "limit": 100})["cards"]
    assert 0 < len(cards) <= 12
    assert len({c["front"] for c in cards}) == len(cards)
    by_front = {c["front"]: c for c in cards}
    for c in cards:
        src = c["source"]
        assert (src["kind"], src["documentId"], src["title"]) == ("document", doc_id, "Biology.md")
        page_text = PAGES[src["page"] - 1]
        assert src["quote"] in page_text, (src, c["front"])
    photosynthesis = by_front["What is Photosynthesis?"]
    assert photosynthesis["source"]["page"] == 3
    assert photosynthesis["source"]["heading"] == "Photosynthesis"
    # review one
    review = client.call(
        "POST", "/review-card", json={"cardId": photosynthesis["id"], "rating": 3, "reviewId": uuid.uuid4().hex}
    )
    assert review.status_code == 200, review.text
    # ask the tutor
    reply = client.ok("POST", "/chat-reply", json={"message": "Which pigment absorbs light?"})
    answer = reply["message"]
    assert answer["role"] == "assistant"
    assert "Chlorophyll is the green pigment" in answer["content"]
    assert answer["grounded"] is True
    [citation] = answer["citations"]
    assert (citation["documentId"], citation["page"], citation["title"]) == (doc_id, 3, "Biology.md")
    assert f"[{citation['marker']}]" in answer["content"]
    # a follow-up in the same chat, about another page
    follow = client.ok(
        "POST", "/chat-reply", json={"chatId": reply["chatId"], "message": "What do mitochondria release?"}
    )
    assert follow["chatId"] == reply["chatId"]
    assert [c["page"] for c in follow["message"]["citations"]] == [2]
    messages = client.ok("GET", f"/chat-reply/{reply['chatId']}/messages", params={"limit": 3})
    assert [m["role"] for m in messages["messages"]] == ["user", "assistant", "user"]
    rest = client.ok("GET", f"/chat-reply/{reply['chatId']}/messages", params={"cursor": messages["nextCursor"]})
    assert [m["role"] for m in rest["messages"]] == ["assistant"]
    assert rest["messages"][0]["citations"][0]["page"] == 2
    chats = client.ok("GET", "/chat-reply")["chats"]
    assert [(c["id"], c["messageCount"]) for c in chats] == [(reply["chatId"], 4)]
    assert chats[0]["title"] == "Which pigment absorbs light?"


def test_tutor_says_so_when_the_documents_do_not_answer(client: Client) -> None:
    doc_id = ready_document(client)
    reply = client.ok(
        "POST", "/chat-reply", json={"message": "Who won the 1998 football world cup?", "documentIds": [doc_id]}
    )
    assert reply["message"]["grounded"] is False
    assert reply["message"]["citations"] == []
    assert "could not find" in reply["message"]["content"]


def test_streamed_answer_as_server_sent_events(client: Client) -> None:
    doc_id = ready_document(client)
    response = client.call(
        "POST",
        "/chat-reply",
        json={"message": "What are the phases of mitosis?", "documentIds": [doc_id]},
        headers={"Accept": "text/event-stream"},
        stream=True,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events: list[tuple[str, Any]] = []
    name = None
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((str(name), json.loads(line[6:])))
    kinds = [e[0] for e in events]
    assert kinds[0] == "start"
    assert kinds[-1] == "done"
    assert kinds.count("delta") > 3
    text = "".join(d["text"] for k, d in events if k == "delta")
    done = events[-1][1]
    assert text == done["message"]["content"]
    assert "prophase" in text
    assert done["message"]["citations"][0]["page"] == 4
    stored = client.ok("GET", f"/chat-reply/{done['chatId']}/messages")["messages"]
    assert stored[1]["content"] == text


def test_tutor_quota_is_a_429(client: Client, firestore_db: Any) -> None:
    now = datetime.now(UTC)
    usage = firestore_db.collection("users").document(client.user.uid).collection("usage")
    usage.document(period_key("day", now)).set({"tutorMessages": 30})
    over = client.call("POST", "/chat-reply", json={"message": "What is a cell?"})
    assert over.status_code == 429
    error = over.json()["error"]
    assert (error["code"], error["details"]["quota"], error["details"]["limit"]) == (
        "quota_exceeded",
        "tutorMessages",
        30,
    )
    assert error["details"]["resetsAt"].endswith("T00:00:00Z")
    assert client.ok("GET", "/chat-reply")["chats"] == []


def test_empty_and_unready_documents(client: Client) -> None:
    empty = client.upload("empty.txt", "text/plain", b"   \n\n  ")
    assert client.wait_document(empty)["status"] == "failed"
    response = client.call("POST", "/generate-flashcards", json={"documentIds": [empty], "deckId": client.deck()})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "document_not_ready")
    pending = client.ok(
        "POST", "/create-upload", 201, json={"filename": "later.md", "contentType": MD, "sizeBytes": 10}
    )["document"]["id"]
    response = client.call("POST", "/generate-flashcards", json={"documentIds": [pending], "deckId": client.deck()})
    assert response.status_code == 409
    # asking about a document with no text answers "not found", with nothing cited
    reply = client.ok("POST", "/chat-reply", json={"message": "What is in it?", "documentIds": [empty]})
    assert reply["message"]["citations"] == []


def test_another_users_documents_and_chats_are_not_found(
    client_for: Callable[[User], Client], new_user: Callable[[], User]
) -> None:
    alice, bob = client_for(new_user()), client_for(new_user())
    doc_id = ready_document(alice)
    chat = alice.ok("POST", "/chat-reply", json={"message": "What is ATP?", "documentIds": [doc_id]})
    for method, path, body in (
        ("GET", f"/chat-reply/{chat['chatId']}", None),
        ("GET", f"/chat-reply/{chat['chatId']}/messages", None),
        ("DELETE", f"/chat-reply/{chat['chatId']}", None),
        ("POST", "/chat-reply", {"chatId": chat["chatId"], "message": "And then?"}),
    ):
        response = bob.call(method, path, json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "chat_not_found"), path
    response = bob.call("POST", "/chat-reply", json={"message": "What is ATP?", "documentIds": [doc_id]})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "document_not_found")
    response = bob.call("POST", "/generate-flashcards", json={"documentIds": [doc_id], "deckId": bob.deck()})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "document_not_found")
    # bob's own questions never see alice's documents
    own = bob.ok("POST", "/chat-reply", json={"message": "What is ATP?"})
    assert own["message"]["citations"] == []
    assert [c["id"] for c in bob.ok("GET", "/chat-reply")["chats"]] == [own["chatId"]]
    assert alice.ok("GET", f"/chat-reply/{chat['chatId']}")["messageCount"] == 2
    deleted = alice.ok("DELETE", f"/chat-reply/{chat['chatId']}")
    assert deleted["messagesDeleted"] == 2


def test_a_pdf_answer_cites_the_pages_of_its_passage(client: Client) -> None:
    from tests.unit.documents import samples

    doc_id = client.upload("Lecture.pdf", samples.PDF, samples.make_pdf(8, sentences=20))
    assert client.wait_document(doc_id)["status"] == "ready"
    reply = client.ok("POST", "/chat-reply", json={"message": "Which sentence explains topic number 503?"})
    answer = reply["message"]
    assert samples.sentence(5, 3) in answer["content"]
    [citation] = answer["citations"]
    assert citation["documentId"] == doc_id
    assert citation["page"] <= 5 <= citation.get("lastPage", citation["page"])
    job = client.wait_job(client.generate(documentIds=[doc_id], newDeckName="Lecture", count=10))
    assert (job["status"], job["cardsCreated"]) == ("succeeded", 10)
    for card in client.ok("GET", "/cards", params={"deckId": job["deckId"]})["cards"]:
        src = card["source"]
        assert src["documentId"] == doc_id
        page = int(src["quote"].split()[1])  # "Page N sentence M ..."
        assert src["page"] <= page <= src.get("lastPage", src["page"])
