"""process-upload: the ``object.finalized`` event of an upload → chunks, index, status.

Failure policy (Eventarc delivers at least once and retries failed deliveries):

- Not ours (another bucket, a path outside ``users/{uid}/documents/{docId}/<name>``, an
  unknown document, an object name the document did not ask for, a generation already
  processed or superseded, an object gone): acknowledged and ignored, with a log line.
- A problem of the file (empty, wrong type, corrupt, encrypted, too big, too many pages,
  a decompression bomb, no text): the document ends ``failed`` with a readable reason and
  the event is acknowledged.
- A transient problem (Firestore or Storage unavailable, another attempt holding the lease
  on this generation): the exception propagates, the delivery fails and is retried.
- Events older than the maximum age are dropped (:mod:`aksio.events`); the document, if it
  was waiting for that generation, is marked failed so the user is not left waiting.

Idempotency: a transaction claims (document, generation) before any work, recording a
lease that progress updates renew; a transaction finishes only while the claim is still
this generation's. ``processedGeneration`` makes every later delivery of the same or an
older generation a no-op.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aksio import events, log
from aksio.config import get_config
from aksio.documents import embeddings, kinds, lexical, store
from aksio.documents.chunking import Chunk, chunk_blocks
from aksio.documents.extract import extract
from aksio.documents.problems import DocumentProblem

_log = log.get_logger("aksio.documents.process")
_PATH = re.compile(r"^users/([^/]+)/documents/([^/]+)/([^/]+)$")
PROGRESS_INTERVAL = 1.0  # seconds between progress writes


def lease_seconds() -> float:
    return float(os.environ.get("DOCUMENTS_LEASE_SECONDS", "120"))


@dataclass(frozen=True)
class Claim:
    uid: str
    doc_id: str
    generation: int
    data: dict[str, Any]
    max_bytes: int
    max_pages: int
    pages_per_month: int


Event = events.Event


class Ignored(Exception):
    """The event is not for us (or not any more): acknowledge it and do nothing."""


def on_finalized(cloud_event: Any) -> str:
    """The ``process-upload`` entry point; returns the outcome (for logs and tests)."""
    event = events.from_cloud_event(cloud_event)
    if events.too_old(event):
        _expire(event)
        return "dropped_old"
    try:
        return handle(event)
    except Ignored as why:
        _log.info("event ignored: %s", why, extra={"eventId": event.id})
        return "ignored"
    except events.Retry as why:
        _log.warning("event will be retried: %s", why, extra={"eventId": event.id})
        raise
    except Exception as exc:
        _log.error("event failed, it will be retried: %s", type(exc).__name__, extra={"eventId": event.id})
        raise


def _target(event: Event) -> tuple[str, str, int]:
    data = event.data
    if data.get("bucket") != get_config().upload_bucket:
        raise Ignored(f"object of another bucket ({data.get('bucket')!r})")
    match = _PATH.match(str(data.get("name", "")))
    if not match:
        raise Ignored("object outside users/{uid}/documents/{docId}/")
    try:
        generation = int(data.get("generation") or 0)
    except (TypeError, ValueError):
        raise Ignored("event without a generation") from None
    uid, doc_id, _ = match.groups()
    if not generation or not store.valid_id(uid) or not store.valid_id(doc_id):
        raise Ignored("malformed object name or generation")
    return uid, doc_id, generation


def handle(event: Event) -> str:
    from aksio.clients import firestore_client, storage_client

    uid, doc_id, generation = _target(event)
    db = firestore_client()
    claim = _claim(db, uid, doc_id, generation, name=str(event.data["name"]), event_id=event.id)
    ref = store.doc_ref(db, uid, doc_id)
    started = time.perf_counter()
    try:
        outcome = _process(db, storage_client().bucket(get_config().upload_bucket), ref, claim, event.data)
    except DocumentProblem as problem:
        failed = {
            "status": "failed",
            "error": {"code": problem.code, "message": problem.message},
            "pageCount": None,
            "chunkCount": None,
            "indexVersion": None,
            "indexParts": 0,
            "sameAs": None,
        }
        if _finish(db, ref, claim, failed) == "done" and claim.data.get("chunkCount") and not claim.data.get("sameAs"):
            store.delete_stale(db, ref, 0, 0)  # a re-upload that failed: the old chunks go too
        _log.info(
            "document failed: %s",
            problem.code,
            extra={"documentId": doc_id, "generation": generation, "code": problem.code},
        )
        return "failed"
    _log.info(
        "document %s",
        outcome,
        extra={"documentId": doc_id, "generation": generation, "ms": round((time.perf_counter() - started) * 1000)},
    )
    return outcome


def _claim(db: Any, uid: str, doc_id: str, generation: int, *, name: str, event_id: str) -> Claim:
    from google.cloud import firestore

    ref = store.doc_ref(db, uid, doc_id)

    @firestore.transactional
    def claim(tx: Any) -> Claim:
        snap = ref.get(transaction=tx)
        data = snap.to_dict() if snap.exists else None
        if not data or data.get("deleted"):
            raise Ignored("unknown document")
        if data.get("objectPath") != name:
            raise Ignored("not the object this document is waiting for")
        done = data.get("processedGeneration")
        if done is not None and int(done) >= generation:
            raise Ignored(f"generation {generation} already processed")
        lease = data.get("processing") or {}
        at = store.now()
        if lease and isinstance(lease.get("leaseUntil"), datetime) and lease["leaseUntil"] > at:
            held = int(lease.get("generation") or 0)
            if held > generation:
                raise Ignored(f"a newer generation ({held}) is being processed")
            if held == generation:
                raise events.Retry(f"generation {generation} is being processed by another attempt")
        limits = store.limits(db, uid, transaction=tx)
        tx.update(
            ref,
            {
                "status": "processing",
                "progress": 0,
                "error": None,
                "processing": {
                    "generation": generation,
                    "eventId": event_id,
                    "leaseUntil": at + timedelta(seconds=lease_seconds()),
                },
                "updatedAt": at,
            },
        )
        return Claim(
            uid,
            doc_id,
            generation,
            data,
            limits.max_upload_bytes,
            limits.max_pages_per_document,
            limits.pages_per_month,
        )

    result: Claim = claim(db.transaction())
    return result


def usage_ref(db: Any, uid: str, at: datetime) -> Any:
    """This month's usage document (``users/{uid}/usage/{YYYY-MM}``, field ``pages``)."""
    return db.collection("users").document(uid).collection("usage").document(at.strftime("%Y-%m"))


def _quota_problem(pages: int, limit: int, used: int) -> DocumentProblem:
    return DocumentProblem(
        "page_quota_exceeded",
        f"This document has {pages} pages and {used} of your plan's {limit} pages this month are used: "
        "upgrade or try again next month.",
    )


def check_quota(db: Any, claim: Claim, pages: int) -> None:
    """Before writing anything: would these pages exceed the month's page quota?"""
    snap = usage_ref(db, claim.uid, store.now()).get()
    used = int(((snap.to_dict() or {}) if snap.exists else {}).get("pages") or 0)
    if used + pages > claim.pages_per_month:
        raise _quota_problem(pages, claim.pages_per_month, used)


def _finish(db: Any, ref: Any, claim: Claim, changes: dict[str, Any], *, pages: int = 0) -> str:
    """Record the outcome if this attempt still owns the generation, counting ``pages``
    against the month's quota in the same transaction. Returns ``done``, ``lost`` (the
    document was deleted or another generation took over) or ``over_quota`` (recorded as
    failed: a concurrent upload used the quota up meanwhile)."""
    from google.cloud import firestore

    @firestore.transactional
    def finish(tx: Any) -> str:
        snap = ref.get(transaction=tx)
        data = snap.to_dict() if snap.exists else None
        if not data or data.get("deleted"):
            return "lost"
        lease = data.get("processing") or {}
        if int(lease.get("generation") or 0) != claim.generation:
            return "lost"
        at = store.now()
        outcome, final = "done", changes
        if pages:
            month = usage_ref(db, claim.uid, at)
            usage = month.get(transaction=tx)
            used = int(((usage.to_dict() or {}) if usage.exists else {}).get("pages") or 0)
            if used + pages > claim.pages_per_month:
                problem = _quota_problem(pages, claim.pages_per_month, used)
                outcome, final = (
                    "over_quota",
                    {"status": "failed", "error": {"code": problem.code, "message": problem.message}},
                )
            else:
                tx.set(month, {"pages": used + pages, "period": at.strftime("%Y-%m"), "updatedAt": at}, merge=True)
        tx.update(
            ref,
            final | {"processing": None, "processedGeneration": claim.generation, "progress": 100, "updatedAt": at},
        )
        return outcome

    result: str = finish(db.transaction())
    return result


class _Progress:
    """Progress writes, at most one a second, each renewing the lease."""

    def __init__(self, ref: Any) -> None:
        self.ref = ref
        self.last = 0.0
        self.value = -1
        self.pages = 0

    def __call__(self, value: int) -> None:
        tick = time.monotonic()
        if value <= self.value or tick - self.last < PROGRESS_INTERVAL:
            return
        self.last, self.value = tick, value
        at = store.now()
        try:
            self.ref.update(
                {"progress": value, "processing.leaseUntil": at + timedelta(seconds=lease_seconds()), "updatedAt": at}
            )
        except Exception:  # progress is a courtesy; the writes that matter raise on their own
            _log.warning("progress update failed", exc_info=True)


def _download(bucket: Any, claim: Claim, obj: dict[str, Any]) -> bytes:
    """The object's bytes, after the size checks (:class:`DocumentProblem`, :class:`Ignored`)."""
    from google.api_core import exceptions as gexc

    size = int(obj.get("size") or 0)
    cap = int(claim.data.get("maxBytes") or claim.max_bytes)  # the cap the upload URL was signed with
    if size > cap:
        raise DocumentProblem("too_large", f"The file is {size} bytes; your plan allows at most {cap} bytes per file.")
    if size == 0:
        raise DocumentProblem("empty_file", "The file is empty.")
    try:
        blob = bucket.get_blob(str(obj["name"]))
    except gexc.NotFound:
        blob = None
    if blob is None:
        raise DocumentProblem("upload_missing", "The uploaded file is gone: upload it again.")
    if int(blob.generation or 0) > claim.generation:
        raise Ignored("a newer generation of the object exists")
    content: bytes = blob.download_as_bytes()
    if len(content) > cap:
        raise DocumentProblem("too_large", f"The file is larger than your plan's {cap} bytes per file.")
    return content


def _read(claim: Claim, content: bytes, progress: _Progress) -> list[Chunk]:
    """Type check, extraction and chunking: every failure here is a problem of the file."""
    data = claim.data
    declared = kinds.kind_of_content_type(str(data.get("contentType", "")))
    if declared is None:  # pragma: no cover - create-upload only accepts known types
        raise DocumentProblem("unsupported_type", "This type of file is not supported.")
    kinds.check_type(declared, content)
    markdown = str(data.get("contentType")) in kinds.MARKDOWN_TYPES or str(data.get("filename", "")).lower().endswith(
        (".md", ".markdown")
    )
    try:
        extracted = extract(
            declared,
            content,
            max_pages=claim.max_pages,
            markdown=markdown,
            progress=lambda f: progress(5 + int(f * 55)),
        )
        chunks = chunk_blocks(extracted.blocks)
    except DocumentProblem:
        raise
    except Exception as exc:  # a parser choking on a malformed file: retrying cannot help
        _log.warning("extraction failed: %s", type(exc).__name__, extra={"documentId": claim.doc_id})
        raise DocumentProblem("corrupt_file", "The file could not be read: it may be damaged.") from None
    if not chunks:
        raise DocumentProblem("no_text", "The file contains no text that could be extracted.")
    progress.pages = extracted.page_count
    return chunks


def _process(db: Any, bucket: Any, ref: Any, claim: Claim, obj: dict[str, Any]) -> str:
    data = claim.data
    progress = _Progress(ref)
    progress(2)
    content = _download(bucket, claim, obj)
    digest = hashlib.sha256(content).hexdigest()
    progress(5)

    same = store.find_same_content(db, claim.uid, digest, exclude=claim.doc_id)
    if same is not None:
        other_id, other = same
        changes = {
            "status": "ready",
            "sameAs": other_id,
            "contentHash": digest,
            "pageCount": other.get("pageCount"),
            "chunkCount": other.get("chunkCount"),
            "indexVersion": None,
            "indexParts": 0,
        }
        if data.get("chunkCount") and not data.get("sameAs"):
            store.delete_stale(db, ref, 0, 0)  # a re-upload that now matches another document
        _finish(db, ref, claim, changes)
        return "ready (same content as another document)"

    chunks = _read(claim, content, progress)
    del content
    check_quota(db, claim, progress.pages)
    progress(60)
    store.write_chunks(db, ref, chunks, progress=lambda f: progress(60 + int(f * 30)))
    vectors: dict[str, Any] = {"embeddingModel": None, "embeddingDims": None}
    embedder = embeddings.provider()
    if embedder is not None:
        vectors |= embeddings.embed_chunks(db, ref, [c.text for c in chunks], embedder)
    parts = lexical.build(c.text for c in chunks).parts()
    version = str(claim.generation)
    store.write_index(db, ref, parts, version)
    if int(data.get("chunkCount") or 0) > len(chunks) or int(data.get("indexParts") or 0) > len(parts):
        store.delete_stale(db, ref, len(chunks), len(parts))
    changes = {
        "status": "ready",
        "pageCount": progress.pages,
        "chunkCount": len(chunks),
        "contentHash": digest,
        "indexVersion": version,
        "indexParts": len(parts),
        "sameAs": None,
    } | vectors
    outcome = _finish(db, ref, claim, changes, pages=progress.pages)
    if outcome == "over_quota":
        store.delete_stale(db, ref, 0, 0)
        return "failed (page quota)"
    if outcome == "lost":
        snap = ref.get()
        if not snap.exists or (snap.to_dict() or {}).get("deleted"):
            store.delete_stale(db, ref, 0, 0)  # deleted while we worked: take our chunks away too
        return "superseded"
    return "ready"


def _expire(event: Event) -> None:
    """Best effort: a document still waiting for this generation is told it timed out."""
    try:
        uid, doc_id, generation = _target(event)
        from aksio.clients import firestore_client

        db = firestore_client()
        ref = store.doc_ref(db, uid, doc_id)
        snap = ref.get()
        data = snap.to_dict() if snap.exists else None
        if not data or data.get("objectPath") != event.data.get("name"):
            return
        if (
            data.get("status") in ("awaiting_upload", "processing")
            and int(data.get("processedGeneration") or 0) < generation
        ):
            ref.update(
                {
                    "status": "failed",
                    "error": {
                        "code": "processing_timeout",
                        "message": "The upload was not processed in time: upload it again.",
                    },
                    "updatedAt": store.now(),
                }
            )
    except Ignored:
        return
    except Exception:  # dropped anyway: a transient failure here must not make it retry
        _log.warning("could not mark the document of an expired event", exc_info=True)
