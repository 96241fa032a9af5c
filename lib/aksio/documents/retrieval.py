"""Top-k chunks of the user's chosen documents for a query: the one call the tutor and
flashcard generation use.

Lexical (BM25) over each document's stored index, loaded once per instance and cached
(keyed by the document's ``indexVersion``, so a re-upload is picked up): per query, one
read per chosen document (its status and index version), the cached postings of the
query's terms, then one batched read of the k winning chunks. A document that is not
ready is skipped; one with ``sameAs`` is searched through the document holding its
chunks, and its hits still name the document the caller chose.

With the embeddings path on (:mod:`aksio.documents.embeddings`) and every chosen document
carrying vectors of the configured model, the same call answers by ``find_nearest``
instead (score = cosine similarity).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aksio import errors, log
from aksio.documents import lexical, repository
from aksio.documents.model import ChunkRef, Document, StoredChunk, chunk_id, valid_id

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.documents.retrieval")
CACHE_MAX_CHUNKS = 200_000  # postings of about this many chunks stay cached per instance
_cache: OrderedDict[tuple[str, str, str], lexical.Index] = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Hit:
    document_id: str
    chunk_id: str
    index: int
    pages: list[int]
    heading: str | None
    text: str
    score: float

    @classmethod
    def of(cls, document_id: str, chunk_id: str, chunk: StoredChunk, score: float) -> Hit:
        return cls(
            document_id=document_id,
            chunk_id=chunk_id,
            index=chunk.index,
            pages=list(chunk.pages),
            heading=chunk.heading,
            text=chunk.text,
            score=score,
        )


def _cached(db: Client, uid: str, holder: Document) -> lexical.Index | None:
    version = holder.index_version or ""
    if not version or not holder.index_parts:
        return None
    key = (uid, holder.id, version)
    with _cache_lock:
        index = _cache.get(key)
        if index is not None:
            _cache.move_to_end(key)
            return index
    blobs = repository.load_index_parts(db, uid, holder.id, version, holder.index_parts)
    if blobs is None:
        return None  # being rewritten right now: skip it this time
    index = lexical.Index.from_parts(blobs)
    with _cache_lock:
        _cache[key] = index
        while sum(ix.chunk_count for ix in _cache.values()) > CACHE_MAX_CHUNKS and len(_cache) > 1:
            _cache.popitem(last=False)
    return index


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _resolve(db: Client, uid: str, wanted: list[str]) -> tuple[dict[str, str], dict[str, Document]]:
    """Chosen ready documents → the document holding their chunks, and the holders."""
    docs = {d.id: d for d in repository.get_many(db, uid, wanted).values() if d.ready}
    holders: dict[str, str] = {}  # chosen document -> the document holding its chunks
    holder_docs: dict[str, Document] = {}
    missing = []
    for doc_id in wanted:
        doc = docs.get(doc_id)
        if doc is None:
            continue
        holders[doc_id] = doc.holder
        if doc.holder in docs:
            holder_docs[doc.holder] = docs[doc.holder]
        else:
            missing.append(doc.holder)
    if missing:
        holder_docs |= repository.get_many(db, uid, missing)  # a tombstone still holds chunks
    return holders, holder_docs


def _by_vectors(
    db: Client, uid: str, query: str, pairs: list[tuple[str, str]], holder_docs: dict[str, Document], *, k: int
) -> list[Hit] | None:
    """Hits by ``find_nearest`` when the embeddings path is on and every document searched
    has vectors of the configured model; None to search lexically instead."""
    from aksio.documents import embeddings

    if not all(holder_docs[h].embedding_model for _, h in pairs):
        return None
    embedder = embeddings.provider()
    if embedder is None or any(holder_docs[h].embedding_model != embeddings.model_id(embedder) for _, h in pairs):
        return None
    from aksio import usage

    try:
        found = embeddings.nearest(db, uid, query, pairs, k=k, p=embedder)
    except usage.OverQuota:  # the month's embedding budget is spent: search lexically
        return None
    return [Hit.of(pairs[pos][0], cid, chunk, score) for score, pos, cid, chunk in found]


def top_k(db: Client, uid: str, query: str, document_ids: Sequence[str], k: int = 8) -> list[Hit]:
    """The ``k`` chunks of ``document_ids`` (the user's) that best match ``query``, best first,
    each with its document, pages and score. Unknown or not-ready documents are skipped."""
    wanted = list(dict.fromkeys(d for d in document_ids if valid_id(d)))
    if not wanted or not query.strip() or k <= 0:
        return []
    if len(wanted) > 100:
        raise errors.Invalid("At most 100 documents can be searched at once.", code="too_many_documents")
    holders, holder_docs = _resolve(db, uid, wanted)
    pairs: list[tuple[str, str]] = []  # (chosen document, holder), each holder once
    for doc_id, holder in holders.items():
        if holder in holder_docs and holder not in {h for _, h in pairs}:
            pairs.append((doc_id, holder))
    if not pairs:
        return []
    vector_hits = _by_vectors(db, uid, query, pairs, holder_docs, k=k)
    if vector_hits is not None:
        return vector_hits
    searched: list[tuple[str, str]] = []  # (chosen document, holder) per index searched
    indexes: list[lexical.Index] = []
    for doc_id, holder in pairs:
        index = _cached(db, uid, holder_docs[holder])
        if index is not None:
            searched.append((doc_id, holder))
            indexes.append(index)
    scored = lexical.search(indexes, query, k)
    if not scored:
        return []
    refs = [ChunkRef(searched[s.source][0], searched[s.source][1], s.chunk) for s in scored]
    chunks = repository.get_chunks(db, uid, refs)
    return [
        Hit.of(ref.document_id, chunk_id(ref.index), chunk, s.score)
        for s, ref in zip(scored, refs, strict=True)
        if (chunk := chunks.get(ref)) is not None
    ]
