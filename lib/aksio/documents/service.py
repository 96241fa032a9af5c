"""What the documents functions do, and the documents' public API for other packages.

- create-upload: :func:`create_upload` (a document record and a V4 signed PUT URL).
- documents: :func:`list_documents`, :func:`get_document`, :func:`delete_document`.
- For generation and the tutor (the only way they reach documents): :func:`require`,
  :func:`ready_ids`, :func:`titles`, :func:`ready_units`, :func:`passages` and
  :func:`search` (retrieval, :mod:`aksio.documents.retrieval`).

Processing of an upload is :mod:`aksio.documents.process`. The same content uploaded again
(same SHA-256 for the same user) is not chunked twice: the new document is ``ready`` with
``sameAs`` naming the document that holds the chunks and index. Deleting a document others
point at keeps its chunks under a hidden tombstone until the last document using them is
deleted; cards made from a deleted document stay, their source marked removed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aksio import deadlines, errors, log, plans
from aksio import firestore as fs
from aksio.documents import kinds, repository, signing
from aksio.documents.model import ChunkRef, Document, StoredChunk, chunk_id, new_upload, valid_id
from aksio.wire import compact, iso

if TYPE_CHECKING:
    from google.cloud.firestore import Client

    from aksio.ai.base import Passage
    from aksio.documents import api  # pragma: no cover

Json = dict[str, Any]  # answers of the read routes, in the API's JSON form (no pydantic: cold start)
_log = log.get_logger("aksio.documents")
MAX_READY = 100  # documents searched when a question names none
COURSE_ITEMS = 1000  # documents of one course read at a time


def check_doc_id(value: str) -> str:
    if not valid_id(value):
        raise errors.NotFound("No such document.")
    return value


def limits(db: Client, uid: str, tx: Any = None) -> plans.Limits:
    """The user's plan limits (read in ``tx`` when given)."""
    return plans.limits_for(fs.read_user(db, uid, tx) or None)


# -- create-upload --------------------------------------------------------------------------


def create_upload(db: Client, bucket: Any, uid: str, body: api.NewUpload) -> api.UploadCreated:
    from aksio.documents import cleanup

    cleanup.sweep_abandoned(db, bucket, uid)
    cap = limits(db, uid).max_upload_bytes
    if body.size_bytes > cap:
        raise errors.TooLarge(
            f"The file is {body.size_bytes} bytes; your plan allows at most {cap} bytes per file.",
            code="file_too_large",
            details=[{"field": "sizeBytes", "in": "body", "message": f"at most {cap}"}],
        )
    at = fs.utcnow()
    doc = new_upload(
        uuid.uuid4().hex,
        uid,
        filename=kinds.display_name(body.filename),
        content_type=body.content_type,
        size_bytes=body.size_bytes,
        max_bytes=cap,
        at=at,
    )
    signed = signing.sign_put(bucket, str(doc.object_path), body.content_type, body.size_bytes, now=at)
    repository.create(db, uid, doc)
    _log.info("upload created", extra={"documentId": doc.id, "sizeBytes": body.size_bytes})
    from aksio.documents import api

    return api.UploadCreated(
        document=document_view(doc),
        upload=api.Upload(url=signed.url, headers=signed.headers, expires_at=signed.expires_at),
    )


# -- read -----------------------------------------------------------------------------------


def _live(doc: Document | None) -> Document:
    if doc is None or doc.deleted:
        raise errors.NotFound("No such document.")
    return doc


def document_view(doc: Document) -> Json:
    """A document in the API's form (:class:`aksio.documents.api.Document`), without pydantic."""
    error = {"code": doc.error.code, "message": doc.error.message} if doc.error else None
    return compact(
        {
            "id": doc.id,
            "filename": doc.filename,
            "contentType": doc.content_type,
            "sizeBytes": doc.size_bytes,
            "status": doc.status,
            "progress": doc.progress,
            "pageCount": doc.page_count,
            "chunkCount": doc.chunk_count,
            "error": error,
            "sameAs": doc.same_as,
            "courseId": doc.course_id,
            "sectionId": doc.section_id,
            "createdAt": iso(doc.created_at),
            "updatedAt": iso(doc.updated_at),
        }
    )


def get_document(db: Client, uid: str, doc_id: str) -> Json:
    return document_view(_live(repository.get(db, uid, check_doc_id(doc_id))))


def list_documents(db: Client, uid: str, query: api.DocumentListQuery) -> Json:
    docs, next_cursor = repository.page(db, uid, query.cursor, query.limit)
    return compact({"documents": [document_view(d) for d in docs], "nextCursor": next_cursor})


def update_document(db: Client, uid: str, doc_id: str, body: api.DocumentPatch) -> Json:
    """Put a document in a course and section, move it, or take it out (``courseId`` null)."""
    from dataclasses import replace

    from aksio.courses import service as courses

    doc = _live(repository.get(db, uid, check_doc_id(doc_id)))
    stored = {"courseId": doc.course_id, "sectionId": doc.section_id}
    changes = courses.placement(db, uid, stored, body)
    if changes:
        repository.set_fields(db, uid, doc.id, changes | {"updatedAt": fs.utcnow()})
    placed = {k: (None if v is fs.DELETE else v) for k, v in changes.items()}
    course_id, section_id = placed.get("courseId", doc.course_id), placed.get("sectionId", doc.section_id)
    return document_view(replace(doc, course_id=course_id, section_id=section_id))


def course_documents(db: Client, uid: str, course_id: str) -> list[Document]:
    """The documents of a course (at most :data:`COURSE_ITEMS`)."""
    return repository.course_documents(db, uid, course_id, COURSE_ITEMS)


def course_ready_ids(db: Client, uid: str, course_id: str, section_id: str | None = None) -> list[str]:
    """The course's (or its section's) ready documents, oldest first."""
    docs = [d for d in course_documents(db, uid, course_id) if d.ready]
    docs = [d for d in docs if section_id is None or d.section_id == section_id]
    return [d.id for d in sorted(docs, key=lambda d: (str(d.created_at or ""), d.id))]


def unlink_course_documents(db: Client, uid: str, course_id: str, section_ids: Sequence[str] | None = None) -> int:
    """Take a course's documents out of it (or, with ``section_ids``, out of those sections)."""
    docs = course_documents(db, uid, course_id)
    if section_ids is not None:
        ids = [d.id for d in docs if d.section_id in set(section_ids)]
        repository.update_many(db, uid, ids, {"sectionId": fs.DELETE})
    else:
        ids = [d.id for d in docs]
        repository.update_many(db, uid, ids, {"courseId": fs.DELETE, "sectionId": fs.DELETE})
    return len(ids)


def delete_course_documents(db: Client, bucket: Any, uid: str, course_id: str) -> int:
    """Delete a course's documents (files, chunks, index), one at a time (a retry continues)."""
    docs = course_documents(db, uid, course_id)
    for doc in docs:
        with contextlib.suppress(errors.NotFound):
            delete_document(db, bucket, uid, doc.id)
    return len(docs)


# -- delete ---------------------------------------------------------------------------------


def delete_document(db: Client, bucket: Any, uid: str, doc_id: str) -> Json:
    from aksio.study import service as study

    doc = _live(repository.get(db, uid, check_doc_id(doc_id)))
    _delete_object(bucket, doc.object_path)
    marked = study.mark_source_removed(db, uid, doc.id)
    if repository.has_dependents(db, uid, doc.id):
        # Other documents read these chunks: keep them under a hidden tombstone.
        repository.bury(db, uid, doc.id, fs.utcnow())
    else:
        repository.delete(db, uid, doc.id)
        if doc.same_as:
            _collect_tombstone(db, uid, doc.same_as)
    _log.info("document deleted", extra={"documentId": doc.id, "cardsMarked": marked})
    return {"id": doc.id, "deleted": True, "cardsMarked": marked}


def _collect_tombstone(db: Client, uid: str, doc_id: str) -> None:
    holder = repository.get(db, uid, doc_id)
    if holder is not None and holder.deleted and not repository.has_dependents(db, uid, doc_id):
        repository.delete(db, uid, doc_id)


def _delete_object(bucket: Any, path: str | None) -> None:
    if not path:
        return
    from google.api_core import exceptions as gexc

    with contextlib.suppress(gexc.NotFound):
        bucket.blob(path).delete(timeout=deadlines.STORAGE_TIMEOUT_S, retry=deadlines.storage_retry())


# -- the public API of documents for other packages -----------------------------------------


def require(db: Client, uid: str, document_ids: Sequence[str]) -> dict[str, Document]:
    """The caller's chosen documents (any status); :class:`~aksio.errors.NotFound` with code
    ``document_not_found`` when one is not theirs or deleted."""
    ids = list(dict.fromkeys(check_doc_id(d) for d in document_ids))
    found = repository.get_many(db, uid, ids)
    for doc_id in ids:
        doc = found.get(doc_id)
        if doc is None or doc.deleted:
            raise errors.NotFound(f"No document {doc_id}.", code="document_not_found")
    return found


def ready_ids(db: Client, uid: str, limit: int = MAX_READY) -> list[str]:
    """The user's ready documents (at most ``limit``)."""
    return repository.ready_ids(db, uid, limit)


def titles(db: Client, uid: str, document_ids: Sequence[str]) -> dict[str, str]:
    """The display names of the documents that exist (the file name, else the id)."""
    return {doc.id: doc.title for doc in repository.get_many(db, uid, document_ids).values()}


def ready_units(db: Client, uid: str, document_ids: Sequence[str]) -> tuple[list[ChunkRef], dict[str, str]]:
    """Every chunk of the chosen documents, in document order, and their titles.
    :class:`~aksio.errors.NotFound` for a document that is not the caller's (or deleted);
    :class:`~aksio.errors.Conflict` when one is not ready (``document_not_ready``) or has no
    text (``document_empty``)."""
    found = repository.get_many(db, uid, [check_doc_id(d) for d in document_ids])
    units: list[ChunkRef] = []
    names: dict[str, str] = {}
    for doc_id in document_ids:
        doc = found.get(doc_id)
        if doc is None or doc.deleted:
            raise errors.NotFound(f"No document {doc_id}.", code="document_not_found")
        if doc.status != "ready":
            raise errors.Conflict(f"Document {doc_id} is not ready (status {doc.status}).", code="document_not_ready")
        count = doc.chunk_count
        if doc.same_as or count is None:
            holder = doc if not doc.same_as else repository.get(db, uid, doc.same_as)
            count = holder.chunk_count if holder is not None else None
        indexes = list(range(count)) if count is not None else repository.chunk_indexes(db, uid, doc.holder)
        if not indexes:
            raise errors.Conflict(f"Document {doc_id} has no text to make cards from.", code="document_empty")
        names[doc_id] = doc.title
        units += [ChunkRef(doc_id, doc.holder, i) for i in indexes]
    return units, names


def _passage(document_id: str, cid: str, chunk: StoredChunk, title: str | None, score: float | None = None) -> Passage:
    from aksio.ai.base import Passage

    return Passage(
        text=chunk.text,
        document_id=document_id,
        chunk_id=cid,
        page=chunk.pages[0] if chunk.pages else None,
        last_page=chunk.pages[-1] if chunk.pages else None,
        heading=chunk.heading,
        title=title,
        score=score,
    )


def passages(db: Client, uid: str, refs: Sequence[ChunkRef], names: dict[str, str]) -> dict[ChunkRef, Passage]:
    """The passages of the chunks ``refs`` that still exist and have text (a document deleted
    meanwhile is skipped), titled from ``names``."""
    chunks = repository.get_chunks(db, uid, refs)
    return {
        ref: _passage(ref.document_id, chunk_id(ref.index), chunk, names.get(ref.document_id))
        for ref, chunk in chunks.items()
        if chunk.text.strip()
    }


def search(
    db: Client, uid: str, query: str, document_ids: Sequence[str], *, k: int, names: dict[str, str] | None = None
) -> list[Passage]:
    """The ``k`` passages of the chosen documents that best match ``query``, best first, with
    their document, pages, heading, title and score (unknown or unready documents are skipped)."""
    from aksio.documents import retrieval

    hits = retrieval.top_k(db, uid, query, list(document_ids), k)
    known = dict(names or {})
    missing = [h.document_id for h in hits if h.document_id not in known]
    if missing:
        known |= titles(db, uid, missing)
    return [
        _passage(
            h.document_id,
            h.chunk_id,
            StoredChunk(text=h.text, pages=tuple(int(p) for p in h.pages), heading=h.heading, index=h.index),
            known.get(h.document_id),
            h.score,
        )
        for h in hits
    ]


def delete_user_data(db: Client, uid: str) -> int:
    """Account deletion: every document record of the user, its chunks and index."""
    return repository.delete_user_documents(db, uid)


def delete_user_files(bucket: Any, uid: str) -> int:
    """Account deletion: every uploaded file of the user (each object under the user's
    prefix of the upload bucket). Idempotent; returns how many were deleted."""
    from google.api_core import exceptions as gexc

    deleted = 0
    blobs = bucket.client.list_blobs(bucket, prefix=f"users/{uid}/documents/", timeout=deadlines.STORAGE_TIMEOUT_S)
    for blob in blobs:
        with contextlib.suppress(gexc.NotFound):
            blob.delete(timeout=deadlines.STORAGE_TIMEOUT_S, retry=deadlines.storage_retry())
            deleted += 1
    return deleted
