"""Same content uploaded twice is not chunked twice; retrieval finds the right chunks with
document, pages and score; delete removes file, chunks and index and marks cards; a
transient failure makes the delivery fail (retried), then the retry succeeds."""

from __future__ import annotations

from typing import Any

import pytest

from aksio.documents import retrieval
from tests.e2e.documents.conftest import Client, Storage, post_event
from tests.unit.documents import samples

pytestmark = pytest.mark.stack

BIOLOGY = "\n\n".join(
    [
        "Mitochondria are the powerhouse of the cell: they make ATP by oxidative phosphorylation.",
        "Chloroplasts capture light energy in photosynthesis and fix carbon dioxide.",
        "Ribosomes translate messenger RNA into proteins.",
    ]
)
PHYSICS = "Newton's second law says force equals mass times acceleration.\n\nMomentum is conserved."


def sub(db: Any, uid: str, doc_id: str, name: str) -> list[Any]:
    return list(db.collection(f"users/{uid}/documents/{doc_id}/{name}").stream())


def test_same_content_twice_is_reused_and_retrieval_names_the_chosen_document(
    client: Client, firestore_db: Any, storage: Storage
) -> None:
    uid = client.user.uid
    first = client.upload("bio.txt", samples.TXT, BIOLOGY.encode())
    assert client.wait(first)["status"] == "ready"
    second = client.upload("bio copy.txt", samples.TXT, BIOLOGY.encode())
    copy = client.wait(second)
    assert (copy["status"], copy["sameAs"], copy["chunkCount"]) == ("ready", first, 1)
    assert sub(firestore_db, uid, second, "chunks") == []  # no second copy of the chunks
    assert sub(firestore_db, uid, second, "index") == []
    physics = client.upload("physics.md", samples.MD, PHYSICS.encode())
    assert client.wait(physics)["status"] == "ready"

    retrieval.clear_cache()
    hits = retrieval.top_k(firestore_db, uid, "what makes ATP in the cell?", [second, physics], k=3)
    assert hits[0].document_id == second
    assert hits[0].pages == [1, 1]
    assert "Mitochondria" in hits[0].text
    assert hits[0].score > 0
    hits = retrieval.top_k(firestore_db, uid, "force mass acceleration", [first, physics])
    assert (hits[0].document_id, hits[0].chunk_id) == (physics, "00000")
    assert retrieval.top_k(firestore_db, uid, "photosynthesis", ["nosuch", physics]) == []
    # another user's ids find nothing
    assert retrieval.top_k(firestore_db, "someone-else", "photosynthesis", [first]) == []

    # deleting the document holding the chunks keeps them for the copy (hidden tombstone)
    client.ok("DELETE", f"/documents/{first}")
    assert client.call("GET", f"/documents/{first}").status_code == 404
    assert [d["id"] for d in client.ok("GET", "/documents")["documents"]] == [second, physics]
    assert storage.obj(f"users/{uid}/documents/{first}/bio.txt") is None
    hits = retrieval.top_k(firestore_db, uid, "ribosomes proteins", [second])
    assert hits[0].document_id == second
    assert "Ribosomes" in hits[0].text
    # deleting the copy too removes everything
    client.ok("DELETE", f"/documents/{second}")
    assert not firestore_db.document(f"users/{uid}/documents/{first}").get().exists
    assert sub(firestore_db, uid, first, "chunks") == []
    assert sub(firestore_db, uid, first, "index") == []


def test_delete_removes_file_chunks_index_and_marks_cards(client: Client, firestore_db: Any, storage: Storage) -> None:
    uid = client.user.uid
    doc_id = client.upload("lecture.pdf", samples.PDF, samples.make_pdf(3))
    assert client.wait(doc_id)["status"] == "ready"
    cards = firestore_db.collection(f"users/{uid}/cards")
    cards.document("c1").set({"front": "Q", "back": "A", "source": {"documentId": doc_id, "chunkId": "00000"}})
    cards.document("c2").set({"front": "Q2", "back": "A2", "source": {"documentId": "other"}})
    assert sub(firestore_db, uid, doc_id, "chunks")
    assert sub(firestore_db, uid, doc_id, "index")
    deleted = client.ok("DELETE", f"/documents/{doc_id}")
    assert deleted == {"id": doc_id, "deleted": True, "cardsMarked": 1}
    assert client.call("GET", f"/documents/{doc_id}").status_code == 404
    assert client.call("DELETE", f"/documents/{doc_id}").status_code == 404
    assert sub(firestore_db, uid, doc_id, "chunks") == []
    assert sub(firestore_db, uid, doc_id, "index") == []
    assert storage.obj(f"users/{uid}/documents/{doc_id}/lecture.pdf") is None
    card = cards.document("c1").get().to_dict()
    assert card["source"] == {"documentId": doc_id, "chunkId": "00000", "removed": True}
    assert "removed" not in cards.document("c2").get().to_dict()["source"]


def test_transient_storage_failure_fails_the_delivery_then_the_retry_succeeds(
    client: Client, storage: Storage, gateway_url: str, firestore_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process (the handler the gateway runs): Storage unavailable → the handler raises
    (the gateway answers 500 and Eventarc retries); the lease makes a concurrent duplicate
    retry later; once the lease lapses the retry processes the document."""
    from google.api_core import exceptions as gexc

    from aksio.documents import process

    created = client.create("retry.txt", samples.TXT, len(b"Retried text about the Krebs cycle here."))
    doc_id = created["document"]["id"]
    name = f"users/{client.user.uid}/documents/{doc_id}/retry.txt"
    # an event for generation 7 of the document's object, run in this process
    obj = {
        "bucket": storage.bucket,
        "name": name,
        "generation": "7",
        "size": "40",
        "contentType": "text/plain",
        "updated": "2099-01-01T00:00:00Z",
    }

    class Down:
        def get_blob(self, *_: Any, **__: Any) -> Any:
            raise gexc.ServiceUnavailable("storage is down")

    class FakeStorage:
        def bucket(self, _: str) -> Any:
            return Down()

    import aksio.clients

    monkeypatch.setattr(aksio.clients, "storage_client", FakeStorage)
    event = process.Event(id="e-retry", type="t", source="s", time=None, data=obj)
    with pytest.raises(gexc.ServiceUnavailable):
        process.handle(event)
    doc = client.document(doc_id)
    assert (doc["status"], doc.get("error")) == ("processing", None)
    with pytest.raises(process.events.Retry):  # the same generation while the lease is held
        process.handle(event)
    firestore_db.document(f"users/{client.user.uid}/documents/{doc_id}").update({"processing.leaseUntil": None})
    monkeypatch.undo()
    # the lease lapsed (as when an attempt dies); the real upload's generation (the emulator's
    # are timestamps, far above 7) is newer and is processed normally.
    assert client.put(created["upload"], b"Retried text about the Krebs cycle here.").status_code == 200
    assert client.wait(doc_id)["status"] == "ready"
    assert post_event(gateway_url, obj).status_code == 200  # the stale generation 7: ignored
    assert client.document(doc_id)["status"] == "ready"
