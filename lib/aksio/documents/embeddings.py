"""The embeddings path: a Firestore vector per chunk, and ``find_nearest`` at query time.

On when ``DOCUMENTS_EMBEDDINGS`` (:mod:`aksio.config`) is ``on``, or ``auto`` (the default)
and the configured AI provider is a real one (``OPENAI_API_KEY``: OpenAI
``text-embedding-3-small`` or any OpenAI-compatible server, see :mod:`aksio.ai`); ``off``
never. The lexical index is built either way, so a document processed without vectors (or
with another model's) is still searched, lexically. When no AI is available
(``ai_unavailable``: production without a key), ``auto`` logs an error and goes lexical
(documents do not need a model to be usable), ``on`` raises (processing is retried).

Processing stores ``embedding`` (a Firestore ``Vector``) on each chunk and
``embeddingModel``/``embeddingDims`` on the document. A permanent provider error leaves the
document ready without vectors (logged); a transient one fails the delivery (retried).
Retrieval runs one ``find_nearest`` (cosine) per chosen document on its ``chunks``
collection (production needs a vector index on collection group ``chunks``, field
``embedding``, of the model's dimension) and keeps the best k; score = 1 - cosine distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aksio import errors, log
from aksio.config import get_config

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

    from aksio.documents.model import StoredChunk

_log = log.get_logger("aksio.documents.embeddings")
BATCH = 96  # texts per embeddings request (chunks are ≤ 1,000 tokens: ~100k tokens a request)


def provider() -> Any | None:
    """The AI provider to embed with, or None when the embeddings path is off."""
    mode = get_config().documents_embeddings
    if mode == "off":
        return None
    try:
        from aksio.ai import get_provider
    except ImportError:  # pragma: no cover - a bundle without the AI package
        if mode == "on":
            raise
        return None
    try:
        chosen = get_provider()
    except errors.Unavailable as exc:
        if mode == "on" or exc.code != "ai_unavailable":
            raise
        _log.error("no AI provider: embeddings are off, documents are searched lexically")
        return None
    if mode != "on" and type(chosen).__name__ == "OfflineProvider":
        return None
    return chosen


def model_id(p: Any) -> str:
    settings = getattr(p, "settings", None)
    return str(getattr(settings, "embedding_model", None) or type(p).__name__)


def embed_chunks(db: Client, uid: str, doc_id: str, texts: Sequence[str], p: Any) -> tuple[str, int] | None:
    """Vectors for the chunks of document ``doc_id`` (ids by position), written in batches;
    the model and dimension to record on the document (None when the provider refused for good)."""
    from aksio.ai import ProviderError
    from aksio.documents import repository

    dims = 0
    for start in range(0, len(texts), BATCH):
        try:
            vectors, _ = p.embed(list(texts[start : start + BATCH]))
        except ProviderError as exc:
            if exc.transient:
                raise
            _log.error("embeddings refused, the document stays lexical: %s", exc.message)
            return None
        repository.write_vectors(db, uid, doc_id, start, vectors)
        dims = len(vectors[-1]) if vectors else dims
    return model_id(p), dims


def nearest(
    db: Client, uid: str, query: str, holders: Sequence[tuple[str, str]], *, k: int, p: Any
) -> list[tuple[float, int, str, StoredChunk]]:
    """``(score, position in holders, chunk id, chunk)`` of the k nearest chunks."""
    from aksio.documents import repository

    [vector], _ = p.embed([query])
    found: list[tuple[float, int, str, StoredChunk]] = []
    for pos, (_, holder) in enumerate(holders):
        for chunk_id, distance, chunk in repository.nearest_chunks(db, uid, holder, vector, k):
            found.append((round(1.0 - distance, 4), pos, chunk_id, chunk))
    found.sort(key=lambda item: -item[0])
    return found[:k]
