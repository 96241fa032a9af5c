"""The embeddings path against the local Firestore and Storage: process-upload storing a
vector per chunk, retrieval by ``find_nearest``. Run in this process with
``DOCUMENTS_EMBEDDINGS=on`` and the offline provider's hashed vectors (the gateway of the
stack runs with the default, lexical)."""

from __future__ import annotations

from typing import Any

import pytest

from aksio.config import get_config
from tests.e2e.documents.conftest import Client, Storage
from tests.unit.documents import samples

pytestmark = pytest.mark.stack
ai = pytest.importorskip("aksio.ai")

TEXT = "\n\n".join(
    [
        "# Cells",
        "Mitochondria produce ATP through oxidative phosphorylation in the inner membrane.",
        "# Plants",
        "Chloroplasts capture sunlight; photosynthesis fixes carbon dioxide into sugar.",
        "# Physics",
        "Newton's second law: force equals mass times acceleration.",
    ]
)


def test_vectors_are_stored_and_searched_with_find_nearest(
    client: Client, storage: Storage, firestore_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aksio.documents import embeddings, process, retrieval

    uid = client.user.uid
    doc_id = client.upload("mixed.md", samples.MD, TEXT.encode())
    lexical_doc = client.wait(doc_id)
    assert lexical_doc["status"] == "ready"
    assert lexical_doc["chunkCount"] == 3
    ref = firestore_db.document(f"users/{uid}/documents/{doc_id}")
    assert ref.get().to_dict()["embeddingModel"] is None  # the stack's gateway: lexical only

    monkeypatch.setenv("DOCUMENTS_EMBEDDINGS", "on")
    get_config.cache_clear()
    ai.reset_provider(None)
    obj = storage.obj(f"users/{uid}/documents/{doc_id}/mixed.md")
    assert obj is not None
    newer = obj | {"generation": str(int(obj["generation"]) + 1)}  # processed again, here, with vectors
    assert process.handle(process.Event(id="e-vec", type="t", source="s", time=None, data=newer)) == "ready"
    data = ref.get().to_dict()
    assert (data["embeddingModel"], data["embeddingDims"]) == ("OfflineProvider", 1536)
    chunk = firestore_db.document(f"users/{uid}/documents/{doc_id}/chunks/00001").get().to_dict()
    assert len(list(chunk["embedding"])) == 1536

    hits = retrieval.top_k(firestore_db, uid, "what does photosynthesis fix?", [doc_id], k=2)
    assert hits[0].document_id == doc_id
    assert hits[0].heading == "Plants"
    assert "Chloroplasts" in hits[0].text
    assert 0 < hits[0].score <= 1
    assert hits[0].score >= hits[1].score
    found = embeddings.nearest(
        firestore_db, uid, "force mass acceleration", [(doc_id, doc_id)], k=1, p=ai.get_provider()
    )
    assert found[0][3].heading == "Physics"

    monkeypatch.setenv("DOCUMENTS_EMBEDDINGS", "off")  # the same call, lexically
    get_config.cache_clear()
    hits = retrieval.top_k(firestore_db, uid, "what does photosynthesis fix?", [doc_id], k=1)
    assert hits[0].heading == "Plants"
    ai.reset_provider(None)


def counting_provider(calls: list[int]) -> Any:
    """The offline provider, recording the size of each embeddings call in ``calls``."""
    from aksio.ai.offline import OfflineProvider

    class Counting(OfflineProvider):
        def embed(self, texts: Any) -> Any:
            calls.append(len(texts))
            return super().embed(texts)

    return Counting


def test_a_spent_embedding_budget_embeds_nothing_and_search_stays_lexical(
    client: Client, storage: Storage, firestore_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The month's embedding tokens are used up: a document is processed without a single
    embeddings call (it stays lexical, nothing more is counted), and a question is searched
    lexically, also without an embeddings call. Both reserve before they embed."""
    from datetime import UTC, datetime

    from aksio import plans
    from aksio.documents import process, retrieval

    calls: list[int] = []
    Counting = counting_provider(calls)

    uid = client.user.uid
    doc_id = client.upload("spent.md", samples.MD, TEXT.encode())
    assert client.wait(doc_id)["status"] == "ready"
    month = datetime.now(UTC).strftime("%Y-%m")
    usage = firestore_db.document(f"users/{uid}/usage/{month}")
    limit = plans.FREE.limits.embedding_tokens_per_month
    usage.set({"embeddingTokens": limit}, merge=True)

    monkeypatch.setenv("DOCUMENTS_EMBEDDINGS", "on")
    get_config.cache_clear()
    ai.reset_provider(Counting())
    obj = storage.obj(f"users/{uid}/documents/{doc_id}/spent.md")
    assert obj is not None
    newer = obj | {"generation": str(int(obj["generation"]) + 1)}
    assert process.handle(process.Event(id="e-spent", type="t", source="s", time=None, data=newer)) == "ready"
    assert firestore_db.document(f"users/{uid}/documents/{doc_id}").get().to_dict()["embeddingModel"] is None
    hits = retrieval.top_k(firestore_db, uid, "what does photosynthesis fix?", [doc_id], k=2)
    assert "Chloroplasts" in hits[0].text  # found lexically
    assert calls == []
    assert usage.get().to_dict()["embeddingTokens"] == limit
    ai.reset_provider(None)


def test_with_the_budget_spent_an_embedded_document_is_searched_without_embedding_the_question(
    client: Client, storage: Storage, firestore_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from aksio import plans
    from aksio.documents import process, retrieval

    calls: list[int] = []
    Counting = counting_provider(calls)

    uid = client.user.uid
    doc_id = client.upload("vectors.md", samples.MD, TEXT.encode())
    assert client.wait(doc_id)["status"] == "ready"
    monkeypatch.setenv("DOCUMENTS_EMBEDDINGS", "on")
    get_config.cache_clear()
    ai.reset_provider(Counting())
    obj = storage.obj(f"users/{uid}/documents/{doc_id}/vectors.md")
    assert obj is not None
    newer = obj | {"generation": str(int(obj["generation"]) + 1)}
    assert process.handle(process.Event(id="e-vectors", type="t", source="s", time=None, data=newer)) == "ready"
    assert firestore_db.document(f"users/{uid}/documents/{doc_id}").get().to_dict()["embeddingModel"] == "Counting"
    assert calls  # the chunks were embedded while there was budget

    calls.clear()
    month = datetime.now(UTC).strftime("%Y-%m")
    limit = plans.FREE.limits.embedding_tokens_per_month
    firestore_db.document(f"users/{uid}/usage/{month}").set({"embeddingTokens": limit}, merge=True)
    hits = retrieval.top_k(firestore_db, uid, "what does photosynthesis fix?", [doc_id], k=2)
    assert "Chloroplasts" in hits[0].text  # found lexically
    assert calls == []  # the question was not embedded: its reservation did not fit
    ai.reset_provider(None)
