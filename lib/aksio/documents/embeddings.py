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
        if exc.code == "ai_disabled":  # the operator's switch: documents go lexical, never wait
            return None
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


def embedding_key(model: str, text: str) -> str:
    """What a chunk's vector was made from: the model and the exact text."""
    import hashlib

    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()[:32]


def reusable(db: Client, uid: str, doc_id: str, texts: Sequence[str], p: Any) -> tuple[frozenset[int], int]:
    """The chunks whose stored vector (from an earlier attempt at the same upload) was made
    by this model from the same text, so a retried delivery does not embed them again; and
    their dimension (0 when none)."""
    from aksio.documents import repository

    model = model_id(p)
    stored = repository.embedded_keys(db, uid, doc_id)
    keep = frozenset(i for i, t in enumerate(texts) if (s := stored.get(i)) and s[0] == embedding_key(model, t))
    dims = next((stored[i][1] for i in keep), 0)
    return keep, dims


def embed_chunks(
    db: Client,
    uid: str,
    doc_id: str,
    texts: Sequence[str],
    p: Any,
    *,
    done: frozenset[int] = frozenset(),
    dims: int = 0,
) -> tuple[str, int] | None:
    """Vectors for the chunks of document ``doc_id`` (ids by position) but those in ``done``
    (already stored: :func:`reusable`), written in batches, each batch's tokens reserved
    before the call (:func:`aksio.usage.reserve`) and settled after; the model and dimension
    to record on the document (None when the provider refused for good or the month's
    embedding budget is spent: the document stays lexical)."""
    from aksio import usage
    from aksio.ai import ProviderError, bounds
    from aksio.documents import repository

    model = model_id(p)
    todo = [i for i in range(len(texts)) if i not in done]
    for start in range(0, len(todo), BATCH):
        part = todo[start : start + BATCH]
        batch = [texts[i] for i in part]
        try:
            n = bounds.attempts()
            held = usage.reserve(db, uid, usage.EMBEDDING_TOKENS, bounds.embed_bound(batch) * n, calls=n)
        except usage.OverQuota as over:
            _log.warning("embedding budget spent, the document stays lexical: %s", over.message)
            return None
        try:
            vectors, spent = p.embed(batch)
        except ProviderError as exc:
            if exc.code in bounds.NOT_BILLED:
                usage.release(db, held)
            if exc.transient:
                raise
            _log.error("embeddings refused, the document stays lexical: %s", exc.message)
            return None
        except BaseException:
            usage.settle(db, held, held.amount)  # unknown: keep it counted
            raise
        usage.settle_spent(db, held, spent)
        repository.write_vectors(
            db, uid, doc_id, [(i, v, embedding_key(model, texts[i])) for i, v in zip(part, vectors, strict=True)]
        )
        dims = len(vectors[-1]) if vectors else dims
    return model, dims


def nearest(
    db: Client, uid: str, query: str, holders: Sequence[tuple[str, str]], *, k: int, p: Any
) -> list[tuple[float, int, str, StoredChunk]]:
    """``(score, position in holders, chunk id, chunk)`` of the k nearest chunks."""
    from aksio import usage
    from aksio.ai import bounds
    from aksio.documents import repository

    n = bounds.attempts()
    held = usage.reserve(db, uid, usage.EMBEDDING_TOKENS, bounds.embed_bound([query]) * n, calls=n)
    try:
        [vector], spent = p.embed([query])
    except BaseException:
        usage.settle(db, held, held.amount)
        raise
    usage.settle_spent(db, held, spent)
    found: list[tuple[float, int, str, StoredChunk]] = []
    for pos, (_, holder) in enumerate(holders):
        for chunk_id, distance, chunk in repository.nearest_chunks(db, uid, holder, vector, k):
            found.append((round(1.0 - distance, 4), pos, chunk_id, chunk))
    found.sort(key=lambda item: -item[0])
    return found[:k]
