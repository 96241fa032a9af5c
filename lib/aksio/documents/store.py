"""Firestore and Cloud Storage for documents.

Layout (everything under the caller's ``users/{uid}``, so another user's document is
simply not found):

- ``users/{uid}/documents/{docId}``: filename, contentType, sizeBytes, objectPath, status
  (``awaiting_upload`` → ``processing`` → ``ready`` | ``failed``), progress 0-100, pageCount,
  chunkCount, error {code, message}, contentHash, processedGeneration, processing (the lease
  of the attempt working on a generation: {generation, eventId, leaseUntil}), indexVersion,
  indexParts, sameAs, embeddingModel, embeddingDims, maxBytes (the cap the URL was signed
  with), deleted (a tombstone, see below), createdAt, updatedAt.
- ``.../chunks/{00000}``: text, pages [first, last], heading, index, tokenCount, and
  ``embedding`` (a vector) when the embeddings path is on.
- ``.../index/{n}``: the BM25 index of the chunks (:mod:`aksio.documents.lexical`),
  compressed and cut into parts ≤ 900 KB (field ``data``), tagged with ``version``.
- the uploaded object ``users/{uid}/documents/{docId}/<safe filename>`` in the upload bucket.

The same content uploaded again (same SHA-256 for the same user) is not chunked twice: the
new document is ``ready`` with ``sameAs`` naming the document that holds the chunks and
index, and retrieval reads those. Deleting a document others point at keeps its chunks
under a hidden tombstone (``deleted: true``) until the last document using them is deleted.

Indexes this module's queries need in production: a composite index on ``documents``
(contentHash, status); single-field (automatic) ones for ``documents.sameAs``,
``cards.source.documentId``, ``chunks.index`` and ``index.part``; and, for the embeddings
path, a vector index on collection group ``chunks``, field ``embedding``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from aksio import errors, log, paging, plans
from aksio.documents import api, kinds, signing
from aksio.documents.chunking import Chunk

_log = log.get_logger("aksio.documents")
BATCH = 450  # writes per batch (Firestore allows 500)


def _f(field: str, op: str, value: Any) -> Any:
    from google.cloud.firestore_v1.base_query import FieldFilter

    return FieldFilter(field, op, value)


def now() -> datetime:
    return datetime.now(UTC)


def documents_col(db: Any, uid: str) -> Any:
    return db.collection("users").document(uid).collection("documents")


def doc_ref(db: Any, uid: str, doc_id: str) -> Any:
    return documents_col(db, uid).document(doc_id)


def object_path(uid: str, doc_id: str, filename: str) -> str:
    return f"users/{uid}/documents/{doc_id}/{kinds.safe_object_name(filename)}"


def valid_id(value: str) -> bool:
    return 0 < len(value) <= 128 and all(c.isalnum() or c in "-_" for c in value) and value.isascii()


def check_doc_id(value: str) -> str:
    if not valid_id(value):
        raise errors.NotFound("No such document.")
    return value


def limits(db: Any, uid: str, transaction: Any = None) -> plans.Limits:
    snap = db.collection("users").document(uid).get(transaction=transaction)
    return plans.limits_for(snap.to_dict() if snap.exists else None)


# -- create-upload --------------------------------------------------------------------------


def create_upload(db: Any, bucket: Any, uid: str, body: api.NewUpload) -> api.UploadCreated:
    cap = limits(db, uid).max_upload_bytes
    if body.size_bytes > cap:
        raise errors.PayloadTooLarge(
            f"The file is {body.size_bytes} bytes; your plan allows at most {cap} bytes per file.",
            code="file_too_large",
            details=[{"field": "sizeBytes", "in": "body", "message": f"at most {cap}"}],
        )
    doc_id = uuid.uuid4().hex
    filename = kinds.display_name(body.filename)
    path = object_path(uid, doc_id, filename)
    at = now()
    data = {
        "filename": filename,
        "contentType": body.content_type,
        "sizeBytes": body.size_bytes,
        "maxBytes": cap,
        "objectPath": path,
        "status": "awaiting_upload",
        "progress": 0,
        "createdAt": at,
        "updatedAt": at,
    }
    signed = signing.sign_put(bucket, path, body.content_type, cap, now=at)
    doc_ref(db, uid, doc_id).create(data)
    _log.info("upload created", extra={"documentId": doc_id, "sizeBytes": body.size_bytes})
    return api.UploadCreated(
        document=api.document(doc_id, data),
        upload=api.Upload(url=signed.url, headers=signed.headers, expires_at=signed.expires_at),
    )


# -- read -----------------------------------------------------------------------------------


def _live(snap: Any) -> dict[str, Any]:
    data = snap.to_dict() if snap.exists else None
    if not data or data.get("deleted"):
        raise errors.NotFound("No such document.")
    return dict(data)


def get_document(db: Any, uid: str, doc_id: str) -> api.Document:
    return api.document(doc_id, _live(doc_ref(db, uid, check_doc_id(doc_id)).get()))


def list_documents(db: Any, uid: str, query: api.DocumentListQuery) -> api.DocumentPage:
    q = documents_col(db, uid).order_by("createdAt").order_by("__name__")
    snaps, next_cursor = paging.page(q, "createdAt", query.cursor, query.limit)
    docs = [api.document(s.id, d) for s in snaps if not (d := s.to_dict() or {}).get("deleted")]
    return api.DocumentPage(documents=docs, next_cursor=next_cursor)


# -- chunks and index -----------------------------------------------------------------------


def chunk_id(index: int) -> str:
    return f"{index:05d}"


def chunk_doc(chunk: Chunk) -> dict[str, Any]:
    return {
        "text": chunk.text,
        "pages": chunk.pages,
        "heading": chunk.heading,
        "index": chunk.index,
        "tokenCount": chunk.token_count,
    }


def write_chunks(db: Any, ref: Any, chunks: Sequence[Chunk], progress: Any = None) -> None:
    """Chunks in batches of ≤ 450 writes (ids by position, so a retry overwrites)."""
    col = ref.collection("chunks")
    for start in range(0, len(chunks), BATCH):
        batch = db.batch()
        for chunk in chunks[start : start + BATCH]:
            batch.set(col.document(chunk_id(chunk.index)), chunk_doc(chunk))
        batch.commit()
        if progress is not None:
            progress(min(len(chunks), start + BATCH) / max(len(chunks), 1))


def write_index(db: Any, ref: Any, parts: Sequence[bytes], version: str) -> None:
    col = ref.collection("index")
    for start in range(0, len(parts), 4):  # ≤ 4 × 900 KB per commit (the request limit is 10 MiB)
        batch = db.batch()
        for n in range(start, min(start + 4, len(parts))):
            batch.set(col.document(str(n)), {"data": parts[n], "part": n, "parts": len(parts), "version": version})
        batch.commit()


def delete_refs(db: Any, refs: Iterable[Any]) -> int:
    count = 0
    batch = db.batch()
    pending = 0
    for ref in refs:
        batch.delete(ref)
        pending += 1
        count += 1
        if pending >= BATCH:
            batch.commit()
            batch, pending = db.batch(), 0
    if pending:
        batch.commit()
    return count


def delete_stale(db: Any, ref: Any, keep_chunks: int, keep_parts: int) -> None:
    """Chunks and index parts beyond what the latest processing wrote (a shorter re-upload)."""
    chunks = ref.collection("chunks").where(filter=_f("index", ">=", keep_chunks)).stream()
    delete_refs(db, (s.reference for s in chunks))
    parts = ref.collection("index").where(filter=_f("part", ">=", keep_parts)).stream()
    delete_refs(db, (s.reference for s in parts))


def _delete_content(db: Any, ref: Any) -> None:
    for name in ("chunks", "index"):
        delete_refs(db, (d for d in ref.collection(name).list_documents(page_size=BATCH)))


def load_index_parts(db: Any, ref: Any, version: str, parts: int) -> list[bytes] | None:
    """The stored index parts of a document, or None when they are not (all) of ``version``."""
    snaps = db.get_all([ref.collection("index").document(str(n)) for n in range(parts)])
    found: dict[int, bytes] = {}
    for snap in snaps:
        data = snap.to_dict() if snap.exists else None
        if not data or data.get("version") != version:
            return None
        found[int(data["part"])] = bytes(data["data"])
    if len(found) != parts:
        return None
    return [found[n] for n in range(parts)]


def find_same_content(db: Any, uid: str, content_hash: str, exclude: str) -> tuple[str, dict[str, Any]] | None:
    """A ready document of this user with the same content that holds its own chunks."""
    q = (
        documents_col(db, uid)
        .where(filter=_f("contentHash", "==", content_hash))
        .where(filter=_f("status", "==", "ready"))
        .limit(5)
    )
    for snap in q.stream():
        data = snap.to_dict() or {}
        if snap.id != exclude and not data.get("sameAs") and not data.get("deleted"):
            return snap.id, data
    return None


# -- delete ---------------------------------------------------------------------------------


def mark_cards(db: Any, uid: str, doc_id: str) -> int:
    """Cards made from the document keep existing, their source marked removed."""
    cards = db.collection("users").document(uid).collection("cards")
    snaps = list(cards.where(filter=_f("source.documentId", "==", doc_id)).stream())
    for start in range(0, len(snaps), BATCH):
        batch = db.batch()
        for snap in snaps[start : start + BATCH]:
            batch.update(snap.reference, {"source.removed": True})
        batch.commit()
    return len(snaps)


def _dependents(db: Any, uid: str, doc_id: str) -> list[Any]:
    q = documents_col(db, uid).where(filter=_f("sameAs", "==", doc_id)).limit(1)
    return list(q.stream())


def delete_document(db: Any, bucket: Any, uid: str, doc_id: str) -> api.DocumentDeleted:
    check_doc_id(doc_id)
    ref = doc_ref(db, uid, doc_id)
    data = _live(ref.get())
    _delete_object(bucket, data.get("objectPath"))
    marked = mark_cards(db, uid, doc_id)
    if _dependents(db, uid, doc_id):
        # Other documents read these chunks: keep them under a hidden tombstone.
        ref.update({"deleted": True, "updatedAt": now(), "processing": None})
    else:
        _delete_content(db, ref)
        ref.delete()
        canonical = data.get("sameAs")
        if canonical:
            _collect_tombstone(db, bucket, uid, str(canonical))
    _log.info("document deleted", extra={"documentId": doc_id, "cardsMarked": marked})
    return api.DocumentDeleted(id=doc_id, cards_marked=marked)


def _collect_tombstone(db: Any, bucket: Any, uid: str, doc_id: str) -> None:
    ref = doc_ref(db, uid, doc_id)
    snap = ref.get()
    if snap.exists and (snap.to_dict() or {}).get("deleted") and not _dependents(db, uid, doc_id):
        _delete_content(db, ref)
        ref.delete()


def _delete_object(bucket: Any, path: Any) -> None:
    if not path:
        return
    from google.api_core import exceptions as gexc

    with contextlib.suppress(gexc.NotFound):
        bucket.blob(str(path)).delete()
