"""process-upload: the ``object.finalized`` event of an upload → chunks, index, status.

Failure policy (Eventarc delivers at least once and retries failed deliveries):

- Not ours (another bucket, a path outside ``users/{uid}/documents/{docId}/<name>``, an
  unknown document, an object name the document did not ask for, a generation already
  processed or superseded, an object gone): acknowledged and ignored, with a log line.
- A problem of the file (empty, wrong type, corrupt, encrypted, too big, too many pages,
  a decompression bomb, no text, the month's page quota): the document ends ``failed`` with
  a readable reason and the event is acknowledged.
- A transient problem (Firestore or Storage unavailable, contention, another attempt holding
  the lease on this generation): the exception propagates, the delivery fails and is retried.
- Events older than the maximum age are dropped (:mod:`aksio.events`); the document, if it
  was waiting for that generation, is marked failed so the user is not left waiting.

Idempotency: a transaction claims (document, generation) before any work, recording a
lease that progress updates renew (:func:`aksio.documents.model.claim`); a transaction
finishes only while the claim is still this generation's. ``processedGeneration`` makes
every later delivery of the same or an older generation a no-op.

Spending is reserved before it happens: the file's pages (text counts by its characters:
:func:`aksio.documents.extract.billable_pages`) are charged to the month's quota in a
transaction before anything is written or embedded, once per generation (the reservation is
recorded on the document, so a retried delivery does not charge again), and given back if
this generation then fails or is superseded. Each embeddings call reserves its tokens first
(:func:`aksio.documents.embeddings.embed_chunks`); chunks a failed attempt already embedded
keep their vectors and are not embedded again.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from aksio import deadlines, events, log, usage
from aksio import firestore as fs
from aksio.account import service as account
from aksio.config import get_config
from aksio.documents import cleanup, embeddings, kinds, lexical, repository
from aksio.documents.chunking import Chunk, chunk_blocks
from aksio.documents.extract import billable_pages, extract
from aksio.documents.model import Busy, Document, Failure, Ignored, claim, quota_failure, valid_id
from aksio.documents.problems import DocumentProblem
from aksio.documents.service import limits

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.documents.process")
_PATH = re.compile(r"^users/([^/]+)/documents/([^/]+)/([^/]+)$")
PROGRESS_INTERVAL = 1.0  # seconds between progress writes
Event = events.Event
Outcome = Literal["done", "lost"]


def lease_seconds() -> float:
    return float(get_config().documents_lease_seconds)


@dataclass(frozen=True)
class Claim:
    uid: str
    doc: Document  # as claimed
    generation: int
    max_bytes: int
    max_pages: int
    pages_per_month: int

    @property
    def doc_id(self) -> str:
        return self.doc.id


def on_finalized(cloud_event: Any) -> str:
    """The ``process-upload`` entry point; returns the outcome (for logs and tests)."""
    event = events.from_cloud_event(cloud_event)
    if events.too_old(event):
        _expire(event)
        return "dropped_old"
    try:
        with deadlines.budget(deadlines.EVENT_BUDGET_S):  # one bound on Firestore waits per delivery
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
    if not generation or not valid_id(uid) or not valid_id(doc_id):
        raise Ignored("malformed object name or generation")
    return uid, doc_id, generation


def handle(event: Event) -> str:
    from aksio.clients import firestore_client, storage_client

    uid, doc_id, generation = _target(event)
    db = firestore_client()
    claimed = _claim(db, uid, doc_id, generation, name=str(event.data["name"]), event_id=event.id)
    started = time.perf_counter()
    bucket = storage_client().bucket(get_config().upload_bucket)
    try:
        outcome = _process(db, bucket, claimed, event.data)
    except DocumentProblem as problem:
        failure = Failure(problem.code, problem.message)
        _release_pages(db, claimed)
        finished = _finish(db, claimed, lambda d: d.failed(failure))
        if finished == "done" and claimed.doc.holds_chunks:
            repository.delete_stale(db, uid, doc_id)  # a re-upload that failed: the old chunks go too
        if finished == "done":
            cleanup.discard_object(bucket, str(event.data["name"]), generation)  # useless now
        _log.info(
            "document failed: %s",
            problem.code,
            extra={"documentId": doc_id, "generation": generation, "code": problem.code, "event": "upload_failed"},
        )
        return "failed"
    name = "upload_ready" if outcome.startswith("ready") else "upload_failed" if outcome.startswith("failed") else None
    _log.info(
        "document %s",
        outcome,
        extra={
            "documentId": doc_id,
            "generation": generation,
            "ms": round((time.perf_counter() - started) * 1000),
            "event": name,
        },
    )
    return outcome


def _claim(db: Client, uid: str, doc_id: str, generation: int, *, name: str, event_id: str) -> Claim:
    lease = timedelta(seconds=lease_seconds())

    def run(tx: Any) -> Claim:
        if account.deleted_in(tx, db, uid):
            raise Ignored("the account is being deleted")
        current = repository.get_in(tx, db, uid, doc_id)
        try:
            claimed = claim(current, name=name, generation=generation, event_id=event_id, at=fs.utcnow(), lease=lease)
        except Busy as busy:
            raise events.Retry(str(busy)) from None
        assert current is not None  # claim() ignores a missing document
        plan = limits(db, uid, tx)
        repository.update_in(tx, db, uid, claimed)
        return Claim(uid, current, generation, plan.max_upload_bytes, plan.max_pages_per_document, plan.pages_per_month)

    return fs.run_transaction(db, run, what="document claim")


def _finish(db: Client, claimed: Claim, change: Callable[[Document], Document]) -> Outcome:
    """Record the outcome if this attempt still owns the generation (its pages were reserved
    before: :func:`_reserve_pages`). Returns ``done``, or ``lost`` (the document was deleted
    or another generation took over)."""

    def run(tx: Any) -> Outcome:
        deleted = account.deleted_in(tx, db, claimed.uid)
        current = repository.get_in(tx, db, claimed.uid, claimed.doc_id)
        if deleted or current is None or not current.owned_by(claimed.generation):
            return "lost"
        repository.update_in(tx, db, claimed.uid, change(current).done(claimed.generation, fs.utcnow()))
        return "done"

    return fs.run_transaction(db, run, what="document finish")


class _Progress:
    """Progress writes, at most one a second, each renewing the lease."""

    def __init__(self, db: Client, claimed: Claim) -> None:
        self.db = db
        self.claimed = claimed
        self.last = 0.0
        self.value = -1
        self.pages = 0

    def __call__(self, value: int) -> None:
        tick = time.monotonic()
        if value <= self.value or tick - self.last < PROGRESS_INTERVAL:
            return
        self.last, self.value = tick, value
        at = fs.utcnow()
        until = at + timedelta(seconds=lease_seconds())
        try:
            repository.renew_lease(self.db, self.claimed.uid, self.claimed.doc_id, progress=value, until=until, at=at)
        except Exception:  # progress is a courtesy; the writes that matter raise on their own
            _log.warning("progress update failed", exc_info=True)


def _download(bucket: Any, claimed: Claim, obj: dict[str, Any]) -> bytes:
    """The object's bytes, after the size checks (:class:`DocumentProblem`, :class:`Ignored`)."""
    from google.api_core import exceptions as gexc

    size = int(obj.get("size") or 0)
    cap = claimed.doc.max_bytes or claimed.max_bytes  # the cap the upload URL was signed with
    if size > cap:
        raise DocumentProblem("too_large", f"The file is {size} bytes; your plan allows at most {cap} bytes per file.")
    if size == 0:
        raise DocumentProblem("empty_file", "The file is empty.")
    try:
        blob = bucket.get_blob(str(obj["name"]), timeout=deadlines.STORAGE_TIMEOUT_S, retry=deadlines.storage_retry())
    except gexc.NotFound:
        blob = None
    if blob is None:
        raise DocumentProblem("upload_missing", "The uploaded file is gone: upload it again.")
    if int(blob.generation or 0) > claimed.generation:
        raise Ignored("a newer generation of the object exists")
    content: bytes = blob.download_as_bytes(timeout=deadlines.STORAGE_TIMEOUT_S, retry=deadlines.storage_retry())
    if len(content) > cap:
        raise DocumentProblem("too_large", f"The file is larger than your plan's {cap} bytes per file.")
    return content


def _read(claimed: Claim, content: bytes, progress: _Progress) -> list[Chunk]:
    """Type check, extraction and chunking: every failure here is a problem of the file."""
    doc = claimed.doc
    declared = kinds.kind_of_content_type(doc.content_type)
    if declared is None:  # pragma: no cover - create-upload only accepts known types
        raise DocumentProblem("unsupported_type", "This type of file is not supported.")
    kinds.check_type(declared, content)
    markdown = doc.content_type in kinds.MARKDOWN_TYPES or doc.filename.lower().endswith((".md", ".markdown"))
    try:
        extracted = extract(
            declared,
            content,
            max_pages=claimed.max_pages,
            markdown=markdown,
            progress=lambda f: progress(5 + int(f * 55)),
        )
        chunks = chunk_blocks(extracted.blocks)
    except DocumentProblem:
        raise
    except Exception as exc:  # a parser choking on a malformed file: retrying cannot help
        _log.warning("extraction failed: %s", type(exc).__name__, extra={"documentId": claimed.doc_id})
        raise DocumentProblem("corrupt_file", "The file could not be read: it may be damaged.") from None
    if not chunks:
        raise DocumentProblem("no_text", "The file contains no text that could be extracted.")
    pages = billable_pages(declared, extracted)
    if pages > claimed.max_pages:
        raise DocumentProblem(
            "too_many_pages",
            f"The file's text is {pages} pages long ({extracted.chars} characters); "
            f"your plan allows at most {claimed.max_pages}.",
        )
    progress.pages = pages
    return chunks


def _reserve_pages(db: Client, claimed: Claim, pages: int) -> None:
    """Before writing or embedding anything, in one transaction: charge these pages to the
    month's quota (once per generation) and record it on the document; over the quota the
    document fails (:class:`DocumentProblem`) and nothing is charged."""
    uid, doc_id = claimed.uid, claimed.doc_id

    def run(tx: Any) -> None:
        current = repository.get_in(tx, db, uid, doc_id)
        held = repository.pages_reserved_in(tx, db, uid, doc_id)
        if current is None or not current.owned_by(claimed.generation):
            raise Ignored("the document was deleted or another upload took over")
        if held and held.get("generation") == claimed.generation:
            return  # a retried delivery: charged already
        at = fs.utcnow()
        try:
            usage.charge_pages_in(tx, db, uid, pages, limit=claimed.pages_per_month, now=at)
        except usage.OverQuota as over:
            failure = quota_failure(pages, over.limit, over.used)
            raise DocumentProblem(failure.code, failure.message) from None
        period = usage.period_key(usage.PAGES.period, at)
        repository.set_pages_reserved_in(
            tx, db, uid, doc_id, {"generation": claimed.generation, "pages": pages, "period": period}
        )

    fs.run_transaction(db, run, what="document pages")


def _release_pages(db: Client, claimed: Claim) -> None:
    """Give back the pages this generation reserved (it failed or was superseded): once."""
    uid, doc_id = claimed.uid, claimed.doc_id

    def run(tx: Any) -> None:
        held = repository.pages_reserved_in(tx, db, uid, doc_id)
        if not held or held.get("generation") != claimed.generation or held.get("released"):
            return
        usage.release_in(tx, db, uid, usage.PAGES, str(held["period"]), amount=int(held["pages"]))
        repository.set_pages_reserved_in(tx, db, uid, doc_id, held | {"released": True})

    fs.run_transaction(db, run, what="document pages release")


def _process(db: Client, bucket: Any, claimed: Claim, obj: dict[str, Any]) -> str:
    uid, doc_id, doc = claimed.uid, claimed.doc_id, claimed.doc
    progress = _Progress(db, claimed)
    progress(2)
    content = _download(bucket, claimed, obj)
    digest = hashlib.sha256(content).hexdigest()
    progress(5)

    same = repository.find_same_content(db, uid, digest, exclude=doc_id)
    if same is not None:
        if doc.holds_chunks:
            repository.delete_stale(db, uid, doc_id)  # a re-upload that now matches another document
        _finish(db, claimed, lambda d: d.same_content(same, digest))
        return "ready (same content as another document)"

    chunks = _read(claimed, content, progress)
    del content
    _reserve_pages(db, claimed, progress.pages)
    progress(60)
    texts = [c.text for c in chunks]
    embedder = embeddings.provider()
    done, dims = embeddings.reusable(db, uid, doc_id, texts, embedder) if embedder else (frozenset(), 0)
    repository.write_chunks(db, uid, doc_id, chunks, progress=lambda f: progress(60 + int(f * 30)), keep_vectors=done)
    vectors = embeddings.embed_chunks(db, uid, doc_id, texts, embedder, done=done, dims=dims) if embedder else None
    parts = lexical.build(c.text for c in chunks).parts()
    version = str(claimed.generation)
    repository.write_index(db, uid, doc_id, parts, version)
    if (doc.chunk_count or 0) > len(chunks) or doc.index_parts > len(parts):
        repository.delete_stale(db, uid, doc_id, len(chunks), len(parts))
    pages = progress.pages
    outcome = _finish(
        db,
        claimed,
        lambda d: d.processed(
            pages=pages, chunks=len(chunks), content_hash=digest, version=version, parts=len(parts), vectors=vectors
        ),
    )
    if outcome == "lost":
        _release_pages(db, claimed)
        now = repository.get(db, uid, doc_id)
        if now is None or now.deleted:
            repository.delete_stale(db, uid, doc_id)  # deleted while we worked: take our chunks away too
        return "superseded"
    return "ready"


def _expire(event: Event) -> None:
    """Best effort: a document still waiting for this generation is told it timed out."""
    try:
        uid, doc_id, generation = _target(event)
        from aksio.clients import firestore_client

        db = firestore_client()

        def run(tx: Any) -> None:
            doc = repository.get_in(tx, db, uid, doc_id)
            if doc is None or doc.object_path != event.data.get("name"):
                return
            expired = doc.expired(generation, fs.utcnow())
            if expired is not None:
                repository.update_in(tx, db, uid, expired)

        fs.run_transaction(db, run, what="document expiry")
    except Ignored:
        return
    except Exception:  # dropped anyway: a transient failure here must not make it retry
        _log.warning("could not mark the document of an expired event", exc_info=True)
