"""A retried process-upload spends nothing twice: the chunks an earlier attempt embedded keep
their vectors (the same model, the same text) and only the rest are embedded; the pages of the
generation were reserved once. Run in this process with ``DOCUMENTS_EMBEDDINGS=on`` and the
offline provider's vectors, counted as they are asked for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aksio.ai.base import TransientProviderError, Usage
from aksio.ai.offline import EMBEDDING_DIMENSIONS, OfflineProvider
from aksio.config import get_config
from tests.e2e.documents.conftest import Client, Storage
from tests.e2e.documents.test_embeddings import TEXT
from tests.unit.documents import samples

pytestmark = pytest.mark.stack
ai = pytest.importorskip("aksio.ai")


class Counting(OfflineProvider):
    """The offline provider, failing once after ``fail_after`` embedding requests."""

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__()
        self.embedded: list[str] = []
        self.fail_after = fail_after
        self.requests = 0

    def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], Usage]:
        if self.fail_after is not None and self.requests >= self.fail_after:
            self.fail_after = None
            raise TransientProviderError("The model failed (503).", code="model_unavailable")
        self.requests += 1
        self.embedded += list(texts)
        return super().embed(texts)


def test_a_retried_delivery_embeds_only_what_is_missing_and_charges_pages_once(
    client: Client, storage: Storage, firestore_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aksio.documents import embeddings, process

    uid = client.user.uid
    doc_id = client.upload("mixed.md", samples.MD, TEXT.encode())
    assert client.wait(doc_id)["status"] == "ready"  # the stack's gateway: lexical, 1 page
    month = firestore_db.document(f"users/{uid}/usage/{datetime.now(UTC).strftime('%Y-%m')}")
    pages = month.get().to_dict()["pages"]
    monkeypatch.setenv("DOCUMENTS_EMBEDDINGS", "on")
    monkeypatch.setattr(embeddings, "BATCH", 1)  # one chunk a request, to fail in the middle
    get_config.cache_clear()
    flaky = Counting(fail_after=1)
    ai.reset_provider(flaky)
    try:
        obj = storage.obj(f"users/{uid}/documents/{doc_id}/mixed.md")
        assert obj is not None
        newer = obj | {"generation": str(int(obj["generation"]) + 1)}
        event = process.Event(id="e-retry", type="t", source="s", time=None, data=newer)
        with pytest.raises(TransientProviderError):  # the delivery fails: Eventarc retries it
            process.handle(event)
        assert len(flaky.embedded) == 1
        assert month.get().to_dict()["pages"] == pages + 1  # reserved before embedding
        ref = firestore_db.document(f"users/{uid}/documents/{doc_id}")
        lapsed = datetime.now(UTC) - timedelta(seconds=1)  # the failed attempt's lease is over
        ref.update({"processing.leaseUntil": lapsed})
        again = Counting()
        ai.reset_provider(again)
        assert process.handle(event) == "ready"
        assert sorted(again.embedded) == sorted(set(chunk_texts(firestore_db, uid, doc_id)) - set(flaky.embedded))
        assert len(again.embedded) == 2
        data = ref.get().to_dict()
        assert (data["embeddingModel"], data["embeddingDims"]) == ("Counting", EMBEDDING_DIMENSIONS)
        assert month.get().to_dict()["pages"] == pages + 1  # not charged again
    finally:
        ai.reset_provider(None)


def chunk_texts(db: Any, uid: str, doc_id: str) -> list[str]:
    return [s.to_dict()["text"] for s in db.collection(f"users/{uid}/documents/{doc_id}/chunks").stream()]
