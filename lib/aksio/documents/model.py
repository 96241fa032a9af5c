"""The document record, its chunks, and the rules of a document's life. Pure (no I/O).

A document goes ``awaiting_upload`` → ``processing`` → ``ready`` | ``failed``. Processing a
generation of its object is claimed (:func:`claim`) with a lease that progress renews; it
ends (:meth:`Document.done`) only while the claim is still that generation's
(:meth:`Document.owned_by`). ``processedGeneration`` makes every later delivery of the same
or an older generation a no-op. A document with ``sameAs`` holds no chunks of its own: it
reads those of the document it names (its *holder*). A deleted document others still read
stays as a hidden tombstone (``deleted``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from aksio.documents import kinds

Status = Literal["awaiting_upload", "processing", "ready", "failed"]
STATUSES: tuple[Status, ...] = ("awaiting_upload", "processing", "ready", "failed")


class Ignored(Exception):
    """The event is not for us (or not any more): acknowledge it and do nothing."""


class Busy(Exception):
    """Another attempt holds the lease on this generation: try again later."""


def valid_id(value: str) -> bool:
    return 0 < len(value) <= 128 and all(c.isalnum() or c in "-_" for c in value) and value.isascii()


def object_path(uid: str, doc_id: str, filename: str) -> str:
    """Where the uploaded file lives in the upload bucket."""
    return f"users/{uid}/documents/{doc_id}/{kinds.safe_object_name(filename)}"


def chunk_id(index: int) -> str:
    return f"{index:05d}"


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


@dataclass(frozen=True)
class Failure:
    """Why a document failed: a stable code and a message a person can read."""

    code: str
    message: str

    def to_stored(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}

    @classmethod
    def from_stored(cls, value: Any) -> Failure | None:
        if not isinstance(value, dict):
            return None
        return cls(code=str(value.get("code")), message=str(value.get("message")))


@dataclass(frozen=True)
class Lease:
    """The attempt working on a generation, until ``until`` (renewed by its progress)."""

    generation: int
    event_id: str | None = None
    until: datetime | None = None

    def held(self, at: datetime) -> bool:
        return isinstance(self.until, datetime) and self.until > at

    def to_stored(self) -> dict[str, Any]:
        return {"generation": self.generation, "eventId": self.event_id, "leaseUntil": self.until}

    @classmethod
    def from_stored(cls, value: Any) -> Lease | None:
        if not isinstance(value, dict) or not value:
            return None
        until = value.get("leaseUntil")
        return cls(
            generation=int(value.get("generation") or 0),
            event_id=value.get("eventId"),
            until=until if isinstance(until, datetime) else None,
        )


@dataclass(frozen=True)
class Document:
    """``users/{uid}/documents/{id}``."""

    id: str
    filename: str = ""
    content_type: str = ""
    size_bytes: int = 0
    max_bytes: int | None = None  # the cap the upload URL was signed with
    object_path: str | None = None
    status: Status = "awaiting_upload"
    progress: int = 0
    page_count: int | None = None
    chunk_count: int | None = None
    error: Failure | None = None
    content_hash: str | None = None
    processed_generation: int | None = None
    processing: Lease | None = None
    index_version: str | None = None
    index_parts: int = 0
    same_as: str | None = None
    embedding_model: str | None = None
    embedding_dims: int | None = None
    deleted: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # The course link: read here, written only by aksio.documents.service.update_document
    # (not part of to_stored, so processing never overwrites a move).
    course_id: str | None = None
    section_id: str | None = None

    @property
    def holder(self) -> str:
        """The document whose chunks and index this one reads."""
        return self.same_as or self.id

    @property
    def title(self) -> str:
        return self.filename or self.id

    @property
    def holds_chunks(self) -> bool:
        """Whether chunks of an earlier processing are stored under this document."""
        return bool(self.chunk_count) and not self.same_as

    @property
    def ready(self) -> bool:
        return self.status == "ready" and not self.deleted

    def owned_by(self, generation: int) -> bool:
        return not self.deleted and self.processing is not None and self.processing.generation == generation

    # -- changes --------------------------------------------------------------------------

    def failed(self, failure: Failure) -> Document:
        """A problem of the file: nothing of an earlier processing stays in use."""
        return replace(
            self,
            status="failed",
            error=failure,
            page_count=None,
            chunk_count=None,
            index_version=None,
            index_parts=0,
            same_as=None,
        )

    def over_quota(self, failure: Failure) -> Document:
        return replace(self, status="failed", error=failure)

    def same_content(self, other: Document, content_hash: str) -> Document:
        return replace(
            self,
            status="ready",
            same_as=other.id,
            content_hash=content_hash,
            page_count=other.page_count,
            chunk_count=other.chunk_count,
            index_version=None,
            index_parts=0,
        )

    def processed(
        self, *, pages: int, chunks: int, content_hash: str, version: str, parts: int, vectors: tuple[str, int] | None
    ) -> Document:
        return replace(
            self,
            status="ready",
            page_count=pages,
            chunk_count=chunks,
            content_hash=content_hash,
            index_version=version,
            index_parts=parts,
            same_as=None,
            embedding_model=vectors[0] if vectors else None,
            embedding_dims=vectors[1] if vectors else None,
        )

    def done(self, generation: int, at: datetime) -> Document:
        return replace(self, processing=None, processed_generation=generation, progress=100, updated_at=at)

    def expired(self, generation: int, at: datetime) -> Document | None:
        """The document told that the event of ``generation`` came too late, or None when it
        was not waiting for it."""
        if self.status not in ("awaiting_upload", "processing") or (self.processed_generation or 0) >= generation:
            return None
        failure = Failure("processing_timeout", "The upload was not processed in time: upload it again.")
        return replace(self, status="failed", error=failure, updated_at=at)

    # -- stored form ----------------------------------------------------------------------

    def to_stored(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "contentType": self.content_type,
            "sizeBytes": self.size_bytes,
            "maxBytes": self.max_bytes,
            "objectPath": self.object_path,
            "status": self.status,
            "progress": self.progress,
            "pageCount": self.page_count,
            "chunkCount": self.chunk_count,
            "error": self.error.to_stored() if self.error else None,
            "contentHash": self.content_hash,
            "processedGeneration": self.processed_generation,
            "processing": self.processing.to_stored() if self.processing else None,
            "indexVersion": self.index_version,
            "indexParts": self.index_parts,
            "sameAs": self.same_as,
            "embeddingModel": self.embedding_model,
            "embeddingDims": self.embedding_dims,
            "deleted": self.deleted,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }

    @classmethod
    def from_stored(cls, doc_id: str, data: dict[str, Any]) -> Document:
        status = data.get("status")
        version = data.get("indexVersion")
        return cls(
            id=doc_id,
            filename=str(data.get("filename") or ""),
            content_type=str(data.get("contentType") or ""),
            size_bytes=int(data.get("sizeBytes") or 0),
            max_bytes=_int(data.get("maxBytes")),
            object_path=data.get("objectPath"),
            status=status if status in STATUSES else "awaiting_upload",
            progress=int(data.get("progress") or 0),
            page_count=_int(data.get("pageCount")),
            chunk_count=_int(data.get("chunkCount")),
            error=Failure.from_stored(data.get("error")),
            content_hash=data.get("contentHash"),
            processed_generation=_int(data.get("processedGeneration")),
            processing=Lease.from_stored(data.get("processing")),
            index_version=str(version) if version else None,
            index_parts=int(data.get("indexParts") or 0),
            same_as=str(data["sameAs"]) if data.get("sameAs") else None,
            embedding_model=data.get("embeddingModel"),
            embedding_dims=_int(data.get("embeddingDims")),
            deleted=bool(data.get("deleted")),
            created_at=data.get("createdAt"),
            updated_at=data.get("updatedAt"),
            course_id=str(data["courseId"]) if data.get("courseId") else None,
            section_id=str(data["sectionId"]) if data.get("sectionId") else None,
        )


def new_upload(
    doc_id: str, uid: str, *, filename: str, content_type: str, size_bytes: int, max_bytes: int, at: datetime
) -> Document:
    """A document waiting for its file (``filename`` already made safe to display)."""
    return Document(
        id=doc_id,
        filename=filename,
        content_type=content_type,
        size_bytes=size_bytes,
        max_bytes=max_bytes,
        object_path=object_path(uid, doc_id, filename),
        status="awaiting_upload",
        progress=0,
        created_at=at,
        updated_at=at,
    )


def claim(
    doc: Document | None, *, name: str, generation: int, event_id: str, at: datetime, lease: timedelta
) -> Document:
    """The document claimed by the attempt processing ``generation`` of object ``name``;
    :class:`Ignored` when the event is not (or no longer) for it, :class:`Busy` while another
    attempt holds the lease on the same generation."""
    if doc is None or doc.deleted:
        raise Ignored("unknown document")
    if doc.object_path != name:
        raise Ignored("not the object this document is waiting for")
    if doc.processed_generation is not None and doc.processed_generation >= generation:
        raise Ignored(f"generation {generation} already processed")
    held = doc.processing
    if held is not None and held.held(at):
        if held.generation > generation:
            raise Ignored(f"a newer generation ({held.generation}) is being processed")
        if held.generation == generation:
            raise Busy(f"generation {generation} is being processed by another attempt")
    return replace(
        doc,
        status="processing",
        progress=0,
        error=None,
        processing=Lease(generation, event_id, at + lease),
        updated_at=at,
    )


def quota_failure(pages: int, limit: int, used: int) -> Failure:
    return Failure(
        "page_quota_exceeded",
        f"This document has {pages} pages and {used} of your plan's {limit} pages this month are used: "
        "upgrade or try again next month.",
    )


@dataclass(frozen=True)
class ChunkRef:
    """A chunk a caller chose through document ``document_id``, stored under ``holder``."""

    document_id: str
    holder: str
    index: int


@dataclass(frozen=True)
class StoredChunk:
    """``.../chunks/{00000}``: text, pages [first, last], heading, index."""

    text: str
    pages: tuple[int, ...]
    heading: str | None
    index: int

    @classmethod
    def from_stored(cls, data: dict[str, Any], index: int = 0) -> StoredChunk:
        return cls(
            text=str(data.get("text", "")),
            pages=tuple(int(p) for p in data.get("pages") or [] if isinstance(p, int | float)),
            heading=data.get("heading"),
            index=int(data.get("index", index)),
        )
