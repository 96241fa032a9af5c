"""Objects of failed uploads are deleted, and uploads never finished are swept (issue 12)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.documents.conftest import Client, Storage
from tests.unit.documents import samples

pytestmark = pytest.mark.stack


def test_the_object_of_a_failed_upload_is_deleted_its_record_kept(client: Client, storage: Storage) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    doc_id = client.upload("photo.pdf", samples.PDF, png)
    name = f"users/{client.user.uid}/documents/{doc_id}/photo.pdf"
    doc = client.wait(doc_id)
    assert (doc["status"], doc["error"]["code"]) == ("failed", "type_mismatch")
    deadline = time.monotonic() + 10
    while storage.obj(name) is not None:  # deleted right after the failure is recorded
        assert time.monotonic() < deadline, "the failed upload's object is still there"
        time.sleep(0.1)
    assert client.document(doc_id)["error"]["code"] == "type_mismatch"  # the user still sees why


def test_uploads_abandoned_long_after_their_url_expired_are_swept(client: Client, firestore_db: Any) -> None:
    from aksio.documents import cleanup

    old = client.create("abandoned.txt", samples.TXT, 10)["document"]["id"]
    recent = client.create("recent.txt", samples.TXT, 10)["document"]["id"]
    docs = firestore_db.collection(f"users/{client.user.uid}/documents")
    created = docs.document(old).get().to_dict()["createdAt"]
    docs.document(old).update({"createdAt": created - cleanup.abandoned_after() - timedelta(seconds=5)})
    # just inside the limit: kept
    docs.document(recent).update({"createdAt": created - cleanup.abandoned_after() + timedelta(minutes=5)})

    client.create("next.txt", samples.TXT, 10)  # the sweep runs for the caller on create-upload

    assert client.call("GET", f"/documents/{old}").status_code == 404
    assert not docs.document(old).get().exists
    assert client.document(recent)["status"] == "awaiting_upload"
