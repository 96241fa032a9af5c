"""Generation jobs: create (quota + job + first task), read, and accept or reject drafts.

Running a job's steps is :mod:`aksio.generation.steps`; the stored job and its rules are
:mod:`aksio.generation.jobs`; the collections are :mod:`aksio.generation.repository`'s.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from aksio import errors, log, usage
from aksio import firestore as fs
from aksio.generation import inputs, jobs
from aksio.generation import model as m
from aksio.generation import repository as repo
from aksio.generation.repository import FirestoreGeneration, GenerationStore, GenerationTx
from aksio.generation.steps import Enqueue, default_enqueue
from aksio.study import service as study

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.generation")
DRAFTS_PER_TX = 200
MAX_DRAFTS = 500


def _request_hash(body: m.GenerateRequest) -> str:
    return hashlib.sha256(body.model_dump_json(exclude={"job_id"}).encode()).hexdigest()


def create_job(
    db: Client, uid: str, body: m.GenerateRequest, *, enqueue: Enqueue | None = None, now: Any = None
) -> tuple[m.JobStarted, bool]:
    """Check the quota, store the job and enqueue its first step: ``(job, created)``.
    A retried POST with the same ``jobId`` and body answers with the same job."""
    enqueue = enqueue or default_enqueue
    now = now or fs.utcnow()
    job_id = body.job_id or uuid.uuid4().hex[:20]
    digest = _request_hash(body)
    existing = repo.read_job(db, uid, job_id)
    if existing is not None:
        return _replay(job_id, existing, digest, uid, enqueue), False

    document_ids: list[str] = []
    if body.text is not None:
        if body.course_id:  # the new deck goes in it: it must be the caller's
            from aksio.courses import service as courses

            courses.require_course(db, uid, body.course_id)
        texts = m.split_text(body.text)
        units: list[dict[str, Any]] = [{"d": inputs.TEXT, "h": inputs.TEXT, "i": i} for i in range(len(texts))]
        titles: dict[str, str] = {}
    else:
        texts = []
        document_ids = course_documents(db, uid, body) if body.course_id else list(body.document_ids or [])
        units, titles = inputs.document_units(db, uid, document_ids)
    if not units:
        raise errors.Invalid("There is no text to make cards from.", code="empty_input")
    if len(units) > m.MAX_UNITS:
        raise errors.Invalid(
            f"Too much material for one generation ({len(units)} chunks; at most {m.MAX_UNITS}).", code="too_large"
        )
    deck_id = body.deck_id or f"g{job_id}"[:64]
    settings = study.user_settings(db, uid)
    job = jobs.JobRecord(
        status="queued",
        deck_id=deck_id,
        source="text" if body.text is not None else "documents",
        document_ids=document_ids,
        titles=titles,
        count=body.count,
        types=list(body.types),
        language=body.language,
        draft=body.draft if body.draft is not None else settings.draft_generated_cards,
        units=units,
        steps_total=m.steps_for(len(units)),
        request_hash=digest,
        charged_at=now,
    )
    made = start_job(
        FirestoreGeneration(db, uid),
        job_id,
        job,
        texts,
        new_deck_name=body.new_deck_name or "",
        deck_given=body.deck_id is not None,
        now=now,
        course_id=body.course_id,
    )
    if not made:
        return _replay(job_id, repo.read_job(db, uid, job_id) or {}, digest, uid, enqueue), False
    try:
        enqueue(uid, job_id, 0)
    except Exception as exc:
        _log.exception("could not enqueue the first step", extra={"jobId": job_id})
        raise errors.Unavailable(
            f"Job {job_id} was saved but could not be started; send the same request again with jobId {job_id}.",
            code="enqueue_failed",
            details={"jobId": job_id},
        ) from exc
    return m.JobStarted(job_id=job_id, status="queued", deck_id=deck_id), True


def course_documents(db: Client, uid: str, body: m.GenerateRequest) -> list[str]:
    """The documents of a generation scoped to a course: those named (each must be in the
    course: 404 otherwise), else the course's ready documents (409 when it has none)."""
    from aksio.courses import service as courses

    assert body.course_id is not None
    ready = courses.ready_document_ids(db, uid, body.course_id)
    if body.document_ids is None:
        if not ready:
            raise errors.Conflict("The course has no ready documents.", code="course_has_no_documents")
        return ready[: m.MAX_DOCUMENTS]
    linked = set(courses.document_ids(db, uid, body.course_id))
    for doc_id in body.document_ids:
        if doc_id not in linked:
            raise errors.NotFound(f"No document {doc_id} in course {body.course_id}.", code="document_not_found")
    return list(body.document_ids)


def start_job(
    store: GenerationStore,
    job_id: str,
    job: jobs.JobRecord,
    texts: list[str],
    *,
    new_deck_name: str,
    deck_given: bool,
    now: Any,
    course_id: str | None = None,
) -> bool:
    """Charge the quota, create the deck if the job makes its own, store the job and its
    pasted text: one transaction. False when a job of that id exists already."""

    def create(tx: GenerationTx) -> bool:
        if tx.job(job_id) is not None:
            return False
        deck = tx.study.deck(job.deck_id)
        if deck_given:
            study.live_deck(deck, job.deck_id)
        tx.charge(usage.GENERATIONS, now)
        if not deck_given and deck is None:
            deck = {"name": new_deck_name, "description": None, "createdAt": now, "updatedAt": now}
            tx.study.create_deck(job.deck_id, deck | ({"courseId": course_id} if course_id else {}))
        for i, text in enumerate(texts):
            tx.create_text_input(job_id, i, text)
        tx.create_job(job_id, job.to_stored(now))
        return True

    return store.run(create, what="job create")


def _replay(job_id: str, data: dict[str, Any], digest: str, uid: str, enqueue: Enqueue) -> m.JobStarted:
    if data.get("requestHash") != digest:
        raise errors.Conflict(f"Job {job_id} already exists with another request.", code="job_exists")
    if data.get("status") == "queued" and not data.get("stepsDone"):
        enqueue(uid, job_id, 0)  # the first enqueue may have failed; the task name makes this safe
    return m.JobStarted(job_id=job_id, status=data.get("status", "queued"), deck_id=data.get("deckId", ""))


def get_job(db: Client, uid: str, job_id: str) -> m.Job:
    data = repo.read_job(db, uid, job_id)
    if data is None:
        raise errors.NotFound(f"No job {job_id}.", code="job_not_found")
    return m.job_from_stored(job_id, data)


def list_jobs(db: Client, uid: str, query: m.JobListQuery) -> m.JobPage:
    snaps, next_cursor = repo.page_jobs(db, uid, query.cursor, query.limit)
    return m.JobPage(jobs=[m.job_from_stored(s.id, fs.data_of(s)) for s in snaps], next_cursor=next_cursor)


# -- drafts ---------------------------------------------------------------------------------


def _job_or_404(db: Client, uid: str, job_id: str) -> dict[str, Any]:
    data = repo.read_job(db, uid, job_id)
    if data is None:
        raise errors.NotFound(f"No job {job_id}.", code="job_not_found")
    return data


def list_drafts(db: Client, uid: str, job_id: str) -> m.DraftPage:
    _job_or_404(db, uid, job_id)
    drafts = [
        m.DraftCard(
            id=cid,
            kind=d.get("kind", "basic"),
            front=d.get("front", ""),
            back=d.get("back", ""),
            text=d.get("text"),
            source=d.get("source"),
        )
        for cid, d in repo.list_drafts(db, uid, job_id, MAX_DRAFTS)
    ]
    return m.DraftPage(drafts=drafts)


def decide_drafts(db: Client, uid: str, job_id: str, body: m.DraftDecision, *, accept: bool) -> m.DraftOutcome:
    """Accept drafts (they become cards of the job's deck) or reject them (deleted)."""
    job = _job_or_404(db, uid, job_id)
    ids = (
        list(dict.fromkeys(body.card_ids)) if body.card_ids is not None else repo.draft_ids(db, uid, job_id, MAX_DRAFTS)
    )
    outcome = m.DraftOutcome()
    store = FirestoreGeneration(db, uid)
    for start in range(0, len(ids), DRAFTS_PER_TX):
        done, present, made = decide_part(
            store, job_id, str(job.get("deckId")), ids[start : start + DRAFTS_PER_TX], accept=accept
        )
        if accept:
            outcome.accepted += len(made)
            outcome.already_present += present
            outcome.card_ids += made
        else:
            outcome.rejected += done
    return outcome


def decide_part(
    store: GenerationStore, job_id: str, deck_id: str, part: list[str], *, accept: bool
) -> tuple[int, int, list[str]]:
    """One transaction of a decision: (drafts decided, already cards, cards made)."""

    def run(tx: GenerationTx) -> tuple[int, int, list[str]]:
        current = tx.job(job_id) or {}
        drafts = tx.drafts(job_id, part)
        cards = tx.study.cards(part) if accept else {}
        if accept:
            study.live_deck(tx.study.deck(deck_id), deck_id)
        now = fs.utcnow()
        done, present, made = 0, 0, []
        for cid in part:
            draft = drafts.get(cid)
            if draft is None:
                continue
            if accept:
                if cards.get(cid) is not None:
                    present += 1
                else:
                    doc = {k: v for k, v in draft.items() if k != "jobId"}
                    doc["updatedAt"] = now
                    tx.study.create_card(cid, doc)
                    made.append(cid)
            tx.delete_draft(job_id, cid)
            done += 1
        pending = max(0, int(current.get("draftsPending") or 0) - done)
        tx.update_job(job_id, {"draftsPending": pending, "updatedAt": now})
        return done, present, made

    return store.run(run, what="drafts")


def delete_user_data(db: Client, uid: str) -> int:
    """Account deletion: every generation job of the user, with all it holds."""
    return repo.delete_user_jobs(db, uid)
