"""The bad input of issue 5, each through the local stack (signed-URL upload to the storage
emulator, the bridge's event, process-upload) to a clear final status; nothing crashes,
nothing is duplicated and no other document changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import User
from tests.e2e.documents.conftest import Client, Storage, post_event, wait_for_bridge
from tests.unit.documents import samples

pytestmark = pytest.mark.stack
MB = 1024 * 1024


@pytest.fixture
def sentinel(client: Client, firestore_db: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """A ready document of the same user that no bad upload may touch."""
    doc_id = client.upload("sentinel.txt", samples.TXT, b"Sentinel text about ribosomes and proteins.")
    doc = client.wait(doc_id)
    assert doc["status"] == "ready"
    yield doc_id, doc
    assert client.document(doc_id) == doc, "another document changed"
    chunks = list(
        firestore_db.collection(f"users/{client.user.uid}/documents/{doc_id}/chunks").stream()  # one chunk
    )
    assert len(chunks) == 1


def failed(client: Client, doc_id: str, code: str) -> dict[str, Any]:
    doc = client.wait(doc_id)
    assert doc["status"] == "failed", doc
    assert doc["error"]["code"] == code, doc
    assert len(doc["error"]["message"]) > 10
    assert doc.get("chunkCount") is None
    return doc


def test_empty_file(client: Client, sentinel: Any, storage: Storage) -> None:
    # gcp-storage-emulator cannot take a zero-byte PUT on its XML path or a media upload (it
    # crashes reading the empty body), so the 0-byte object goes to the same object path
    # through the client library (a multipart upload).
    from aksio.clients import storage_client

    created = client.create("empty.pdf", samples.PDF, 100)
    doc_id = created["document"]["id"]
    blob = storage_client().bucket(storage.bucket).blob(f"users/{client.user.uid}/documents/{doc_id}/empty.pdf")
    blob.upload_from_string(b"", content_type=samples.PDF)
    assert failed(client, doc_id, "empty_file")["error"]["message"] == "The file is empty."
    blank = client.upload("blank.txt", samples.TXT, b"  \n\t\n  ")  # only whitespace, through the signed URL
    assert failed(client, blank, "empty_file")["error"]["message"] == "The file is empty."


def test_bytes_that_do_not_match_the_declared_type(client: Client, sentinel: Any) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    doc = failed(client, client.upload("photo.pdf", samples.PDF, png), "type_mismatch")
    assert doc["error"]["message"] == "The file's content is a PNG image, not a PDF as declared."
    pdf_as_docx = client.upload("x.docx", samples.DOCX, samples.make_pdf(1))
    failed(client, pdf_as_docx, "type_mismatch")


def test_truncated_pdf(client: Client, sentinel: Any) -> None:
    doc_id = client.upload("cut.pdf", samples.PDF, samples.truncate(samples.make_pdf(5)))
    assert "truncated" in failed(client, doc_id, "corrupt_file")["error"]["message"]


def test_password_protected_pdf(client: Client, sentinel: Any) -> None:
    doc_id = client.upload("secret.pdf", samples.PDF, samples.make_pdf(2, encrypt="hunter2"))
    assert "password" in failed(client, doc_id, "encrypted_file")["error"]["message"]


def test_docx_zip_bomb(client: Client, sentinel: Any) -> None:
    bomb = samples.make_docx_bomb(300)
    doc_id = client.upload("bomb.docx", samples.DOCX, bomb)
    assert "decompression bomb" in failed(client, doc_id, "decompression_bomb")["error"]["message"]


def test_file_over_the_size_cap(client: Client, sentinel: Any, storage: Storage) -> None:
    too_big = client.call(
        "POST", "/create-upload", json={"filename": "a.pdf", "contentType": samples.PDF, "sizeBytes": 25 * MB + 1}
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "file_too_large"
    # The signed URL allows exactly the declared size: Storage (the stack's front too) refuses a
    # larger body with 400 and stores nothing.
    created = client.create("big.txt", samples.TXT, 100)
    refused = client.put(created["upload"], b"a" * (25 * MB + 1))
    assert (refused.status_code, "<Code>EntityTooLarge</Code>" in refused.text) == (400, True)
    assert client.document(created["document"]["id"])["status"] == "awaiting_upload"
    # An object written by other means (a writer with bucket rights): the function checks the
    # size itself and never downloads the object.
    name = f"users/{client.user.uid}/documents/{created['document']['id']}/big.txt"
    storage.write(name, b"a" * (25 * MB + 1), samples.TXT)
    doc = failed(client, created["document"]["id"], "too_large")
    assert "26214401 bytes" in doc["error"]["message"]


def test_pdf_over_the_page_cap(client: Client, sentinel: Any) -> None:
    doc_id = client.upload("long.pdf", samples.PDF, samples.make_pdf(501, sentences=1))
    doc = failed(client, doc_id, "too_many_pages")
    assert doc["error"]["message"] == "The file has 501 pages; your plan allows at most 500."


def test_filename_with_path_separators_and_control_characters(client: Client, storage: Storage) -> None:
    created = client.create("../../etc/\x00evil\r\nname\\..\\notes.txt", samples.TXT, 21)
    doc = created["document"]
    assert doc["filename"] == "notes.txt"
    assert created["upload"]["url"].split("?")[0].endswith(f"/users/{client.user.uid}/documents/{doc['id']}/notes.txt")
    assert client.put(created["upload"], b"Safe name, fine text.").status_code == 200
    assert client.wait(doc["id"])["status"] == "ready"
    weird = client.create("\u202eevil\u0007.md", samples.MD, 20)
    assert weird["document"]["filename"] == "\u202eevil.md"
    assert weird["upload"]["url"].split("?")[0].endswith("/evil.md")


def test_events_for_another_users_path_or_unknown_documents_are_ignored(  # noqa: PLR0917
    client: Client,
    new_user: Callable[[], User],
    client_for: Callable[[User], Client],
    storage: Storage,
    gateway_url: str,
    firestore_db: Any,
) -> None:
    victim = client_for(new_user())
    created = victim.create("victim.txt", samples.TXT, 10)
    victim_id = created["document"]["id"]
    # an object under the attacker's uid naming the victim's document id
    name = f"users/{client.user.uid}/documents/{victim_id}/victim.txt"
    storage.write(name, b"attacker text")
    obj = wait_for_bridge(storage, name)
    assert post_event(gateway_url, obj).status_code == 200
    # an unknown document, a path outside the layout, another bucket
    for other in (
        f"users/{client.user.uid}/documents/nosuchdoc/x.txt",
        f"elsewhere/{victim_id}.txt",
        f"users/{victim.user.uid}/documents/{victim_id}/not-the-name.txt",
    ):
        storage.write(other, b"stray bytes")
        assert post_event(gateway_url, wait_for_bridge(storage, other)).status_code == 200
    assert post_event(gateway_url, obj | {"bucket": "another-bucket"}).status_code == 200
    # The bridge delivers its own copies of these events too, one scan at a time in the order
    # the objects were written: once an upload written after them is processed, it has.
    marker = victim.upload("marker.txt", samples.TXT, b"Written after the stray objects.")
    assert victim.wait(marker)["status"] == "ready"
    assert victim.document(victim_id)["status"] == "awaiting_upload"
    assert client.ok("GET", "/documents")["documents"] == []
    assert not list(firestore_db.collection(f"users/{client.user.uid}/documents").stream())
    # and another user's document is simply not found
    assert client.call("GET", f"/documents/{victim_id}").status_code == 404
    assert client.call("DELETE", f"/documents/{victim_id}").status_code == 404


def test_the_same_event_twice_changes_nothing(
    client: Client, storage: Storage, gateway_url: str, firestore_db: Any
) -> None:
    created = client.create("twice.txt", samples.TXT, 32)
    doc_id = created["document"]["id"]
    assert client.put(created["upload"], b"Delivered twice, processed once.").status_code == 200
    first = client.wait(doc_id)
    assert first["status"] == "ready"
    obj = storage.obj(f"users/{client.user.uid}/documents/{doc_id}/twice.txt")
    assert obj is not None
    for _ in range(2):
        assert post_event(gateway_url, obj).status_code == 200
    assert client.document(doc_id) == first
    chunks = list(firestore_db.collection(f"users/{client.user.uid}/documents/{doc_id}/chunks").stream())
    assert len(chunks) == first["chunkCount"] == 1


def test_an_old_event_is_dropped_and_the_document_told(client: Client, gateway_url: str, storage: Storage) -> None:
    created = client.create("late.txt", samples.TXT, 30)
    doc_id = created["document"]["id"]
    name = f"users/{client.user.uid}/documents/{doc_id}/late.txt"
    obj = {
        "kind": "storage#object",
        "bucket": storage.bucket,
        "name": name,
        "generation": "1",
        "size": "30",
        "contentType": "text/plain",
        "updated": "2020-01-01T00:00:00Z",
    }
    response = post_event(gateway_url, obj, when=datetime.now(UTC) - timedelta(hours=2))
    assert response.status_code == 200
    doc = client.document(doc_id)
    assert (doc["status"], doc["error"]["code"]) == ("failed", "processing_timeout")


def test_upload_url_conditions_for_expiry_and_size(client: Client) -> None:
    """The URL's conditions (enforced by the stack's storage front, see
    test_upload_and_process): 15 minutes from signing, exactly the declared bytes, create only."""
    upload = client.create("x.pdf", samples.PDF, 10)["upload"]
    assert "X-Goog-Expires=900" in upload["url"]
    assert upload["headers"]["x-goog-content-length-range"] == "10,10"
    assert upload["headers"]["x-goog-if-generation-match"] == "0"
    assert "x-goog-content-length-range%3Bx-goog-if-generation-match" in upload["url"]  # X-Goog-SignedHeaders


def test_monthly_page_quota(client: Client, firestore_db: Any) -> None:
    month = datetime.now(UTC).strftime("%Y-%m")
    usage = firestore_db.document(f"users/{client.user.uid}/usage/{month}")
    usage.set({"pages": 998, "generations": 3})  # the free plan's 1,000 pages a month, almost used
    over = client.upload("three.pdf", samples.PDF, samples.make_pdf(3, sentences=2))
    assert "998 of your plan's 1000 pages" in failed(client, over, "page_quota_exceeded")["error"]["message"]
    assert not list(firestore_db.collection(f"users/{client.user.uid}/documents/{over}/chunks").stream())
    fits = client.upload("two.pdf", samples.PDF, samples.make_pdf(2, sentences=2))
    assert client.wait(fits)["status"] == "ready"
    assert usage.get().to_dict() | {"updatedAt": None} == {
        "pages": 1000,
        "generations": 3,
        "period": month,
        "updatedAt": None,
    }


def test_a_delivery_while_another_attempt_holds_the_lease_is_retried_not_run(
    client: Client, storage: Storage, gateway_url: str, firestore_db: Any
) -> None:
    """Eventarc delivering an event again while an attempt works on the same generation: the
    claim sees the attempt's lease and answers 500 (retry later) without touching anything;
    once the lease has lapsed (the attempt died) a delivery processes it, once, and charges
    its pages once. The concurrent attempt is its lease record, written as the claim writes it."""
    doc_id = client.upload("twice.pdf", samples.PDF, samples.make_pdf(3, sentences=4))
    first = client.wait(doc_id)
    assert first["status"] == "ready"
    month = datetime.now(UTC).strftime("%Y-%m")
    usage = firestore_db.document(f"users/{client.user.uid}/usage/{month}")
    assert usage.get().to_dict()["pages"] == 3
    obj = storage.obj(f"users/{client.user.uid}/documents/{doc_id}/twice.pdf")
    assert obj is not None
    ref = firestore_db.document(f"users/{client.user.uid}/documents/{doc_id}")
    held = {"generation": int(obj["generation"]), "eventId": "the-other-attempt"}
    soon = datetime.now(UTC) + timedelta(minutes=5)
    # the delivery's generation is not processed yet and another attempt holds its lease
    ref.update({"processedGeneration": None, "status": "processing", "processing": held | {"leaseUntil": soon}})
    stored = ref.get().to_dict()
    duplicate = post_event(gateway_url, obj)
    assert duplicate.status_code == 500, duplicate.text
    assert ref.get().to_dict() == stored  # refused before any change
    # the other attempt died: its lease lapses, and the next delivery does the work
    ref.update({"processing": held | {"leaseUntil": datetime.now(UTC) - timedelta(seconds=1)}})
    assert post_event(gateway_url, obj).status_code == 200
    doc = client.document(doc_id)
    assert (doc["status"], doc["pageCount"], doc["chunkCount"]) == ("ready", 3, first["chunkCount"])
    assert post_event(gateway_url, obj).status_code == 200  # and again: a no-op
    assert client.document(doc_id) == doc
    chunks = list(firestore_db.collection(f"users/{client.user.uid}/documents/{doc_id}/chunks").stream())
    assert len(chunks) == doc["chunkCount"]
    assert usage.get().to_dict()["pages"] == 3  # the generation's pages were charged once


def test_a_long_text_file_counts_its_text_as_pages(client: Client, firestore_db: Any) -> None:
    """A .txt has no pages: 1.6 MB of text is ~530 pages of 3,000 characters, over the free
    plan's 500 a document, and is refused before anything is stored or charged."""
    blob = ("Ribosomes translate messenger RNA into proteins. " * 32_000).encode()  # 1.6 M chars
    doc = failed(client, client.upload("long.txt", samples.TXT, blob), "too_many_pages")
    assert "your plan allows at most 500" in doc["error"]["message"]
    month = datetime.now(UTC).strftime("%Y-%m")
    assert not firestore_db.document(f"users/{client.user.uid}/usage/{month}").get().exists
