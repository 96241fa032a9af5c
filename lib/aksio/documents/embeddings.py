"""The embeddings path: a Firestore vector per chunk, and ``find_nearest`` at query time.

On when ``DOCUMENTS_EMBEDDINGS`` is ``on``, or ``auto`` (the default) and the configured AI
provider is a real one (``OPENAI_API_KEY``: OpenAI ``text-embedding-3-small`` or any
OpenAI-compatible server, see :mod:`aksio.ai`); ``off`` never. The lexical index is built
either way, so a document processed without vectors (or with another model's) is still
searched, lexically.

Processing stores ``embedding`` (a Firestore ``Vector``) on each chunk and
``embeddingModel``/``embeddingDims`` on the document. A permanent provider error leaves the
document ready without vectors (logged); a transient one fails the delivery (retried).
Retrieval runs one ``find_nearest`` (cosine) per chosen document on its ``chunks``
collection (production needs a vector index on collection group ``chunks``, field
``embedding``, of the model's dimension) and keeps the best k; score = 1 - cosine distance.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from aksio import log

_log = log.get_logger("aksio.documents.embeddings")
BATCH = 96  # texts per embeddings request (chunks are ≤ 1,000 tokens: ~100k tokens a request)


def provider() -> Any | None:
    """The AI provider to embed with, or None when the embeddings path is off."""
    mode = os.environ.get("DOCUMENTS_EMBEDDINGS", "auto").strip().lower()
    if mode == "off":
        return None
    try:
        from aksio.ai import get_provider
    except ImportError:  # pragma: no cover - a bundle without the AI package
        if mode == "on":
            raise
        return None
    chosen = get_provider()
    if mode != "on" and type(chosen).__name__ == "OfflineProvider":
        return None
    return chosen


def model_id(p: Any) -> str:
    settings = getattr(p, "settings", None)
    return str(getattr(settings, "embedding_model", None) or type(p).__name__)


def embed_chunks(db: Any, ref: Any, texts: Sequence[str], p: Any) -> dict[str, Any]:
    """Vectors for the chunks of ``ref`` (ids by position), written in batches; the fields
    to record on the document (``{}`` when the provider refused for good)."""
    from google.cloud.firestore_v1.vector import Vector

    from aksio.ai import ProviderError
    from aksio.documents import store

    col = ref.collection("chunks")
    dims = 0
    for start in range(0, len(texts), BATCH):
        try:
            vectors, _ = p.embed(list(texts[start : start + BATCH]))
        except ProviderError as exc:
            if exc.transient:
                raise
            _log.error("embeddings refused, the document stays lexical: %s", exc.message)
            return {}
        batch = db.batch()
        for offset, vector in enumerate(vectors):
            dims = len(vector)
            batch.update(col.document(store.chunk_id(start + offset)), {"embedding": Vector(list(vector))})
        batch.commit()
    return {"embeddingModel": model_id(p), "embeddingDims": dims}


def nearest(
    db: Any, uid: str, query: str, holders: Sequence[tuple[str, str]], *, k: int, p: Any
) -> list[tuple[float, int, str, dict[str, Any]]]:
    """``(score, position in holders, chunk id, chunk data)`` of the k nearest chunks."""
    from google.cloud.firestore_v1.base_vector_query import DistanceMeasure
    from google.cloud.firestore_v1.vector import Vector

    from aksio.documents import store

    [vector], _ = p.embed([query])
    found: list[tuple[float, int, str, dict[str, Any]]] = []
    for pos, (_, holder) in enumerate(holders):
        q = (
            store.doc_ref(db, uid, holder)
            .collection("chunks")
            .find_nearest(
                vector_field="embedding",
                query_vector=Vector(list(vector)),
                distance_measure=DistanceMeasure.COSINE,
                limit=k,
                distance_result_field="distance",
            )
        )
        for snap in q.stream():
            data = snap.to_dict() or {}
            distance = float(data.pop("distance", 1.0))
            data.pop("embedding", None)
            found.append((round(1.0 - distance, 4), pos, snap.id, data))
    found.sort(key=lambda item: -item[0])
    return found[:k]
