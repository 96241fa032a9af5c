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
from typing import Any

from aksio import errors, log
from aksio.documents import lexical, store

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


def _cached(db: Any, uid: str, holder_id: str, data: dict[str, Any]) -> lexical.Index | None:
    version = str(data.get("indexVersion") or "")
    parts = int(data.get("indexParts") or 0)
    if not version or not parts:
        return None
    key = (uid, holder_id, version)
    with _cache_lock:
        index = _cache.get(key)
        if index is not None:
            _cache.move_to_end(key)
            return index
    blobs = store.load_index_parts(db, store.doc_ref(db, uid, holder_id), version, parts)
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


def _resolve(db: Any, uid: str, wanted: list[str]) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Chosen ready documents → the document holding their chunks, and the holders' data."""
    refs = [store.doc_ref(db, uid, d) for d in wanted]
    docs: dict[str, dict[str, Any]] = {}
    for snap in db.get_all(refs):
        data = snap.to_dict() if snap.exists else None
        if data and not data.get("deleted") and data.get("status") == "ready":
            docs[snap.id] = data
    holders: dict[str, str] = {}  # chosen document -> the document holding its chunks
    holder_data: dict[str, dict[str, Any]] = {}
    missing = []
    for doc_id in wanted:
        data = docs.get(doc_id)
        if data is None:
            continue
        holder = str(data.get("sameAs") or doc_id)
        holders[doc_id] = holder
        if holder in docs:
            holder_data[holder] = docs[holder]
        else:
            missing.append(holder)
    if missing:
        for snap in db.get_all([store.doc_ref(db, uid, h) for h in dict.fromkeys(missing)]):
            if snap.exists:
                holder_data[snap.id] = snap.to_dict() or {}
    return holders, holder_data


def _by_vectors(
    db: Any, uid: str, query: str, pairs: list[tuple[str, str]], holder_data: dict[str, dict[str, Any]], *, k: int
) -> list[Hit] | None:
    """Hits by ``find_nearest`` when the embeddings path is on and every document searched
    has vectors of the configured model; None to search lexically instead."""
    from aksio.documents import embeddings

    if not all(holder_data[h].get("embeddingModel") for _, h in pairs):
        return None
    embedder = embeddings.provider()
    if embedder is None or any(holder_data[h].get("embeddingModel") != embeddings.model_id(embedder) for _, h in pairs):
        return None
    found = embeddings.nearest(db, uid, query, pairs, k=k, p=embedder)
    return [
        Hit(
            document_id=pairs[pos][0],
            chunk_id=chunk_id,
            index=int(data.get("index", 0)),
            pages=list(data.get("pages") or []),
            heading=data.get("heading"),
            text=str(data.get("text", "")),
            score=score,
        )
        for score, pos, chunk_id, data in found
    ]


def top_k(db: Any, uid: str, query: str, document_ids: Sequence[str], k: int = 8) -> list[Hit]:
    """The ``k`` chunks of ``document_ids`` (the user's) that best match ``query``, best first,
    each with its document, pages and score. Unknown or not-ready documents are skipped."""
    wanted = list(dict.fromkeys(d for d in document_ids if store.valid_id(d)))
    if not wanted or not query.strip() or k <= 0:
        return []
    if len(wanted) > 100:
        raise errors.BadRequest("At most 100 documents can be searched at once.", code="too_many_documents")
    holders, holder_data = _resolve(db, uid, wanted)
    pairs: list[tuple[str, str]] = []  # (chosen document, holder), each holder once
    for doc_id, holder in holders.items():
        if holder in holder_data and holder not in {h for _, h in pairs}:
            pairs.append((doc_id, holder))
    if not pairs:
        return []
    vector_hits = _by_vectors(db, uid, query, pairs, holder_data, k=k)
    if vector_hits is not None:
        return vector_hits
    searched: list[tuple[str, str]] = []  # (chosen document, holder) per index searched
    indexes: list[lexical.Index] = []
    for doc_id, holder in pairs:
        index = _cached(db, uid, holder, holder_data[holder])
        if index is not None:
            searched.append((doc_id, holder))
            indexes.append(index)
    scored = lexical.search(indexes, query, k)
    if not scored:
        return []
    chunk_refs = [
        store.doc_ref(db, uid, searched[s.source][1]).collection("chunks").document(store.chunk_id(s.chunk))
        for s in scored
    ]
    texts = {snap.reference.path: snap.to_dict() for snap in db.get_all(chunk_refs) if snap.exists}
    hits = []
    for s, ref in zip(scored, chunk_refs, strict=True):
        chunk = texts.get(ref.path)
        if not chunk:
            continue
        hits.append(
            Hit(
                document_id=searched[s.source][0],
                chunk_id=ref.id,
                index=int(chunk.get("index", s.chunk)),
                pages=list(chunk.get("pages") or []),
                heading=chunk.get("heading"),
                text=str(chunk.get("text", "")),
                score=s.score,
            )
        )
    return hits
