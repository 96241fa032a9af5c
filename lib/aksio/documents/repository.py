"""The documents' Firestore: the only code that reads and writes ``users/{uid}/documents``
and the chunks and index parts under each document.

Layout (everything under the caller's ``users/{uid}``, so another user's document is
simply not found):

- ``users/{uid}/documents/{docId}``: :class:`aksio.documents.model.Document` (its stored
  form: filename, contentType, sizeBytes, maxBytes, objectPath, status, progress, pageCount,
  chunkCount, error {code, message}, contentHash, processedGeneration, processing {generation,
  eventId, leaseUntil}, indexVersion, indexParts, sameAs, embeddingModel, embeddingDims,
  deleted, createdAt, updatedAt).
- ``.../chunks/{00000}``: text, pages [first, last], heading, index, tokenCount, and
  ``embedding`` (a vector) when the embeddings path is on.
- ``.../index/{n}``: the BM25 index of the chunks (:mod:`aksio.documents.lexical`),
  compressed and cut into parts ≤ 900 KB (field ``data``), tagged with ``version``.

Indexes these queries need in production: a composite index on ``documents`` (contentHash,
status); single-field (automatic) ones for ``documents.sameAs``, ``chunks.index`` and
``index.part``; and, for the embeddings path, a vector index on collection group ``chunks``,
field ``embedding``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio import paging
from aksio.documents.model import ChunkRef, Document, StoredChunk, chunk_id

if TYPE_CHECKING:
    from google.cloud.firestore import Client

    from aksio.documents.chunking import Chunk  # pragma: no cover

DOCUMENTS, CHUNKS, INDEX = "documents", "chunks", "index"
BATCH = 450  # writes per batch (Firestore allows 500)


def _col(db: Client, uid: str) -> Any:
    return fs.user_col(db, uid, DOCUMENTS)


def _ref(db: Client, uid: str, doc_id: str) -> Any:
    return _col(db, uid).document(doc_id)


def _of(snap: Any) -> Document | None:
    return Document.from_stored(snap.id, snap.to_dict() or {}) if snap.exists else None


# -- documents ------------------------------------------------------------------------------


def create(db: Client, uid: str, doc: Document) -> None:
    _ref(db, uid, doc.id).create(doc.to_stored())


def get(db: Client, uid: str, doc_id: str) -> Document | None:
    """The document (a tombstone too), or None."""
    return _of(_ref(db, uid, doc_id).get())


def get_many(db: Client, uid: str, doc_ids: Iterable[str]) -> dict[str, Document]:
    """The documents of ``doc_ids`` that exist (tombstones too), in one batched read."""
    refs = [_ref(db, uid, d) for d in dict.fromkeys(doc_ids)]
    if not refs:
        return {}
    return {doc.id: doc for snap in db.get_all(refs) if (doc := _of(snap)) is not None}


def get_in(tx: Any, db: Client, uid: str, doc_id: str) -> Document | None:
    """Inside transaction ``tx``: the document, locked until the transaction ends."""
    return _of(_ref(db, uid, doc_id).get(transaction=tx))


def update_in(tx: Any, db: Client, uid: str, doc: Document) -> None:
    """Inside transaction ``tx``: store ``doc`` (read in the same transaction)."""
    tx.update(_ref(db, uid, doc.id), doc.to_stored())


def delete_in(tx: Any, db: Client, uid: str, doc_id: str) -> None:
    """Inside transaction ``tx``: delete the document record (it has no chunks yet)."""
    tx.delete(_ref(db, uid, doc_id))


def awaiting_upload(db: Client, uid: str, limit: int) -> list[Document]:
    """Up to ``limit`` of the user's documents still waiting for their upload (one equality
    filter: served by the automatic single-field index)."""
    q = _col(db, uid).where(filter=fs.where("status", "==", "awaiting_upload")).limit(limit)
    return [doc for s in q.stream() if (doc := _of(s)) is not None]


PAGES_RESERVED = "pagesReserved"


def pages_reserved_in(tx: Any, db: Client, uid: str, doc_id: str) -> dict[str, Any] | None:
    """Inside ``tx``: the page reservation of the document's processing, if any
    (``{generation, pages, period, released}``)."""
    data = fs.read(_ref(db, uid, doc_id), tx) or {}
    held = data.get(PAGES_RESERVED)
    return held if isinstance(held, dict) else None


def set_pages_reserved_in(tx: Any, db: Client, uid: str, doc_id: str, held: dict[str, Any]) -> None:
    tx.update(_ref(db, uid, doc_id), {PAGES_RESERVED: held})


def page(db: Client, uid: str, cursor: str | None, limit: int) -> tuple[list[Document], str | None]:
    """The documents oldest first (tombstones left out), ``limit`` after ``cursor``."""
    q = _col(db, uid).order_by("createdAt").order_by("__name__")
    snaps, next_cursor = paging.page(q, "createdAt", cursor, limit)
    docs = [doc for s in snaps if (doc := _of(s)) is not None and not doc.deleted]
    return docs, next_cursor


def ready_ids(db: Client, uid: str, limit: int) -> list[str]:
    """Ids of up to ``limit`` of the user's ready documents."""
    q = _col(db, uid).where(filter=fs.where("status", "==", "ready")).limit(limit)
    return [s.id for s in q.select(["deleted"]).stream() if not (s.to_dict() or {}).get("deleted")]


def course_documents(db: Client, uid: str, course_id: str, limit: int) -> list[Document]:
    """The documents linked to a course (tombstones left out), at most ``limit``."""
    q = _col(db, uid).where(filter=fs.where("courseId", "==", course_id)).limit(limit)
    return [doc for s in q.stream() if (doc := _of(s)) is not None and not doc.deleted]


def set_fields(db: Client, uid: str, doc_id: str, changes: dict[str, Any]) -> None:
    """Update fields of an existing document (its course link)."""
    _ref(db, uid, doc_id).update(fs.stored(changes))


def update_many(db: Client, uid: str, doc_ids: Sequence[str], changes: dict[str, Any]) -> None:
    for start in range(0, len(doc_ids), BATCH):
        batch = db.batch()
        for doc_id in doc_ids[start : start + BATCH]:
            batch.update(_ref(db, uid, doc_id), fs.stored(changes))
        batch.commit()


def find_same_content(db: Client, uid: str, content_hash: str, exclude: str) -> Document | None:
    """A ready document of this user with the same content that holds its own chunks."""
    q = (
        _col(db, uid)
        .where(filter=fs.where("contentHash", "==", content_hash))
        .where(filter=fs.where("status", "==", "ready"))
        .limit(5)
    )
    for snap in q.stream():
        doc = _of(snap)
        if doc is not None and doc.id != exclude and not doc.same_as and not doc.deleted:
            return doc
    return None


def has_dependents(db: Client, uid: str, doc_id: str) -> bool:
    """Whether another document reads this one's chunks (``sameAs``)."""
    q = _col(db, uid).where(filter=fs.where("sameAs", "==", doc_id)).limit(1)
    return bool(list(q.stream()))


def renew_lease(db: Client, uid: str, doc_id: str, *, progress: int, until: datetime, at: datetime) -> None:
    """Progress of the attempt holding the lease, which it extends (a single-field update)."""
    _ref(db, uid, doc_id).update({"progress": progress, "processing.leaseUntil": until, "updatedAt": at})


def bury(db: Client, uid: str, doc_id: str, at: datetime) -> None:
    """Hide a deleted document whose chunks others still read (a tombstone)."""
    _ref(db, uid, doc_id).update({"deleted": True, "updatedAt": at, "processing": None})


def delete(db: Client, uid: str, doc_id: str) -> None:
    """The document with its chunks and index."""
    ref = _ref(db, uid, doc_id)
    for name in (CHUNKS, INDEX):
        fs.delete_all(db, ref.collection(name).list_documents(page_size=BATCH))
    ref.delete()


# -- chunks and index -----------------------------------------------------------------------


def _chunk_stored(chunk: Chunk) -> dict[str, Any]:
    return {
        "text": chunk.text,
        "pages": chunk.pages,
        "heading": chunk.heading,
        "index": chunk.index,
        "tokenCount": chunk.token_count,
    }


def write_chunks(
    db: Client,
    uid: str,
    doc_id: str,
    chunks: Sequence[Chunk],
    progress: Callable[[float], None] | None = None,
    *,
    keep_vectors: frozenset[int] = frozenset(),
) -> None:
    """Chunks in batches of ≤ 450 writes (ids by position, so a retry overwrites); the
    chunks in ``keep_vectors`` keep the embedding stored with them (the same text, embedded
    by an earlier attempt), every other chunk loses any it had."""
    col = _ref(db, uid, doc_id).collection(CHUNKS)
    for start in range(0, len(chunks), BATCH):
        batch = db.batch()
        for chunk in chunks[start : start + BATCH]:
            batch.set(col.document(chunk_id(chunk.index)), _chunk_stored(chunk), merge=chunk.index in keep_vectors)
        batch.commit()
        if progress is not None:
            progress(min(len(chunks), start + BATCH) / max(len(chunks), 1))


def write_vectors(db: Client, uid: str, doc_id: str, items: Sequence[tuple[int, Sequence[float], str]]) -> None:
    """The embedding of chunks ``(index, vector, key)`` (one batch); ``key`` names the model
    and text it was made from (:func:`embedded_keys` finds it again on a retry)."""
    from google.cloud.firestore_v1.vector import Vector

    col = _ref(db, uid, doc_id).collection(CHUNKS)
    batch = db.batch()
    for index, vector, key in items:
        batch.update(col.document(chunk_id(index)), {"embedding": Vector(list(vector)), EMBEDDED_KEY: key})
    batch.commit()


EMBEDDED_KEY = "embeddedKey"


def embedded_keys(db: Client, uid: str, doc_id: str) -> dict[int, tuple[str, int]]:
    """The chunks stored with an embedding: position → (its key, its dimension)."""
    out: dict[int, tuple[str, int]] = {}
    col = _ref(db, uid, doc_id).collection(CHUNKS)
    for snap in col.where(filter=fs.where(EMBEDDED_KEY, ">", "")).select([EMBEDDED_KEY, "embedding"]).stream():
        data = snap.to_dict() or {}
        key, vector = data.get(EMBEDDED_KEY), data.get("embedding")
        if snap.id.isdigit() and isinstance(key, str) and vector is not None:
            out[int(snap.id)] = (key, len(list(vector)))
    return out


def write_index(db: Client, uid: str, doc_id: str, parts: Sequence[bytes], version: str) -> None:
    col = _ref(db, uid, doc_id).collection(INDEX)
    for start in range(0, len(parts), 4):  # ≤ 4 × 900 KB per commit (the request limit is 10 MiB)
        batch = db.batch()
        for n in range(start, min(start + 4, len(parts))):
            batch.set(col.document(str(n)), {"data": parts[n], "part": n, "parts": len(parts), "version": version})
        batch.commit()


def delete_stale(db: Client, uid: str, doc_id: str, keep_chunks: int = 0, keep_parts: int = 0) -> None:
    """Chunks and index parts beyond what the latest processing wrote (all of them by default)."""
    ref = _ref(db, uid, doc_id)
    chunks = ref.collection(CHUNKS).where(filter=fs.where("index", ">=", keep_chunks)).stream()
    fs.delete_all(db, (s.reference for s in chunks))
    parts = ref.collection(INDEX).where(filter=fs.where("part", ">=", keep_parts)).stream()
    fs.delete_all(db, (s.reference for s in parts))


def load_index_parts(db: Client, uid: str, doc_id: str, version: str, parts: int) -> list[bytes] | None:
    """The stored index parts of a document, or None when they are not (all) of ``version``."""
    col = _ref(db, uid, doc_id).collection(INDEX)
    found: dict[int, bytes] = {}
    for snap in db.get_all([col.document(str(n)) for n in range(parts)]):
        data = snap.to_dict() if snap.exists else None
        if not data or data.get("version") != version:
            return None
        found[int(data["part"])] = bytes(data["data"])
    if len(found) != parts:
        return None
    return [found[n] for n in range(parts)]


def chunk_indexes(db: Client, uid: str, doc_id: str) -> list[int]:
    """The positions of the chunks stored under a document (when its count is not recorded)."""
    snaps = _ref(db, uid, doc_id).collection(CHUNKS).select([]).stream()
    return sorted(int(s.id) for s in snaps if s.id.isdigit())


def get_chunks(db: Client, uid: str, refs: Sequence[ChunkRef]) -> dict[ChunkRef, StoredChunk]:
    """The stored chunks of ``refs`` (missing ones left out), in one batched read."""
    paths = {ref: _ref(db, uid, ref.holder).collection(CHUNKS).document(chunk_id(ref.index)) for ref in refs}
    if not paths:
        return {}
    snaps = {s.reference.path: s.to_dict() or {} for s in db.get_all(list(paths.values())) if s.exists}
    return {
        ref: StoredChunk.from_stored(snaps[doc_ref.path], ref.index)
        for ref, doc_ref in paths.items()
        if doc_ref.path in snaps
    }


def nearest_chunks(
    db: Client, uid: str, doc_id: str, vector: Sequence[float], k: int
) -> list[tuple[str, float, StoredChunk]]:
    """``(chunk id, cosine distance, chunk)`` of the ``k`` chunks of a document nearest to
    ``vector`` (``find_nearest``)."""
    from google.cloud.firestore_v1.base_vector_query import DistanceMeasure
    from google.cloud.firestore_v1.vector import Vector

    q = (
        _ref(db, uid, doc_id)
        .collection(CHUNKS)
        .find_nearest(
            vector_field="embedding",
            query_vector=Vector(list(vector)),
            distance_measure=DistanceMeasure.COSINE,
            limit=k,
            distance_result_field="distance",
        )
    )
    out = []
    for snap in q.stream():
        data = snap.to_dict() or {}
        out.append((snap.id, float(data.pop("distance", 1.0)), StoredChunk.from_stored(data)))
    return out


def delete_user_documents(db: Client, uid: str) -> int:
    """Every document record of the user with its chunks and index parts."""
    return fs.delete_collection(db, _col(db, uid), nested=(CHUNKS, INDEX), batch_size=BATCH)
