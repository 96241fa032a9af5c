"""process-upload under contention, through the gateway: a transaction that keeps losing
(the Firestore emulator's fault injection, ``tests.conftest.Aborts``) makes the delivery
answer 503 ``contention`` with ``Retry-After`` (so Eventarc retries it), never a 500, and
writes nothing of its outcome; with the fault lifted the retried delivery goes through.

Each test re-delivers a newer generation of an already processed object, as Eventarc would
after an overwrite, so that the bridge's own deliveries cannot race the test's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from tests.conftest import Aborts
from tests.e2e.documents.conftest import Client, Storage, post_event
from tests.unit.documents import samples

pytestmark = pytest.mark.stack


def contended(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "contention"
    assert int(response.headers["Retry-After"]) >= 1


def newer_generation(client: Client, storage: Storage, doc_id: str, filename: str) -> dict[str, Any]:
    obj = storage.obj(f"users/{client.user.uid}/documents/{doc_id}/{filename}")
    assert obj is not None
    return obj | {"generation": str(int(obj["generation"]) + 1)}


def test_claiming_a_document_under_contention_is_a_503_and_changes_nothing(
    client: Client, storage: Storage, gateway_url: str, firestore_db: Any, aborts: Aborts
) -> None:
    doc_id = client.upload("claim.txt", samples.TXT, b"Text about the Krebs cycle and its enzymes.")
    before = client.wait(doc_id)
    assert before["status"] == "ready"
    newer = newer_generation(client, storage, doc_id, "claim.txt")

    aborts.on(f"users/{client.user.uid}/documents/{doc_id}")
    contended(post_event(gateway_url, newer))
    assert client.document(doc_id) == before  # not claimed: no status, progress or lease change
    aborts.off(f"users/{client.user.uid}/documents/{doc_id}")

    assert post_event(gateway_url, newer).status_code == 200  # Eventarc's retry
    after = client.document(doc_id)
    assert (after["status"], after["chunkCount"]) == ("ready", 1)
    stored = firestore_db.document(f"users/{client.user.uid}/documents/{doc_id}").get().to_dict()
    assert stored["processedGeneration"] == int(newer["generation"])


def test_finishing_under_contention_is_a_503_and_counts_no_pages(
    client: Client, storage: Storage, gateway_url: str, firestore_db: Any, aborts: Aborts
) -> None:
    uid = client.user.uid
    month = firestore_db.document(f"users/{uid}/usage/{datetime.now(UTC).strftime('%Y-%m')}")
    doc_id = client.upload("two.pdf", samples.PDF, samples.make_pdf(2, sentences=2))
    assert client.wait(doc_id)["status"] == "ready"
    assert month.get().to_dict()["pages"] == 2
    newer = newer_generation(client, storage, doc_id, "two.pdf")

    aborts.on(f"users/{uid}/usage")  # the transaction that records the outcome and counts the pages
    contended(post_event(gateway_url, newer))
    doc = client.document(doc_id)
    assert doc["status"] == "processing"  # claimed, never finished
    assert month.get().to_dict()["pages"] == 2
    aborts.off(f"users/{uid}/usage")

    # the lease of the attempt that gave up lapses (as when an attempt dies); the retry finishes
    firestore_db.document(f"users/{uid}/documents/{doc_id}").update({"processing.leaseUntil": None})
    assert post_event(gateway_url, newer).status_code == 200
    doc = client.document(doc_id)
    assert (doc["status"], doc["pageCount"], doc["progress"]) == ("ready", 2, 100)
    assert month.get().to_dict()["pages"] == 4  # counted once
