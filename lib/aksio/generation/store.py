"""Generation jobs in Firestore: create (quota + job + first task), run one step
(idempotent), read, and accept or reject drafts.

``users/{uid}/jobs/{jobId}``: status (queued → running → succeeded | failed), deckId,
source, documentIds, count, types, language, draft, units (one ``{d, h, i}`` per chunk:
document, the document holding its chunks, chunk index), stepsTotal, stepsDone,
chunksTotal, chunksDone, cardsCreated, draftsPending, duplicatesSkipped, rejected,
rejectedReasons, tokens, provider, error, lastError, requestHash, chargedAt, timestamps.
Below it: ``inputs/{n}`` (pasted text, cut into chunks), ``steps/{n}`` (the record of a
finished step: written in the same transaction as its cards, so a step commits once), and
``drafts/{cardId}`` (cards awaiting the user's decision when drafts are on).

A step: read the job; if the step's record exists it is a duplicate delivery (only make
sure the next step is enqueued); else call the model outside any transaction, build the
cards (ids follow from content, see :func:`aksio.study.store.new_card_doc`), drop those
already in the user's cards (any deck: the normalized front's key ``source.key``, or the
same front), and commit cards, step record, job progress and token usage in one
transaction that re-checks the step record. Then enqueue the next step.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aksio import errors, log, paging, usage
from aksio.ai.base import (
    CardDraft,
    CardRequest,
    CardResult,
    Passage,
    PermanentProviderError,
    Provider,
    TransientProviderError,
    check_draft,
)
from aksio.generation import inputs
from aksio.generation import model as m
from aksio.study import store as study
from aksio.study.model import MAX_TEXT_BYTES, note_id

_log = log.get_logger("aksio.generation")
Enqueue = Callable[..., bool]
DEDUPE_IN = 30  # values per "in" query
DRAFTS_PER_TX = 200


def _now() -> datetime:
    return datetime.now(UTC)


def max_attempts() -> int:
    return int(os.environ.get("GENERATION_MAX_ATTEMPTS", "5"))


def _default_enqueue(uid: str, job_id: str, step: int) -> bool:
    from aksio import tasks

    return tasks.enqueue_step(uid, job_id, step)


def jobs_col(db: Any, uid: str) -> Any:
    return db.collection("users").document(uid).collection("jobs")


def _request_hash(body: m.GenerateRequest) -> str:
    return hashlib.sha256(body.model_dump_json(exclude={"job_id"}).encode()).hexdigest()


# -- create ---------------------------------------------------------------------------------


def create_job(
    db: Any, uid: str, body: m.GenerateRequest, *, enqueue: Enqueue | None = None, now: datetime | None = None
) -> tuple[m.JobStarted, bool]:
    """Check the quota, store the job and enqueue its first step: ``(job, created)``.
    A retried POST with the same ``jobId`` and body answers with the same job."""
    from google.cloud import firestore

    enqueue = enqueue or _default_enqueue
    now = now or _now()
    job_id = body.job_id or uuid.uuid4().hex[:20]
    ref = inputs.job_ref(db, uid, job_id)
    digest = _request_hash(body)
    existing = ref.get()
    if existing.exists:
        return _replay(existing, digest, uid, enqueue), False

    if body.text is not None:
        texts = m.split_text(body.text)
        units: list[dict[str, Any]] = [{"d": inputs.TEXT, "h": inputs.TEXT, "i": i} for i in range(len(texts))]
        titles: dict[str, str] = {}
    else:
        texts = []
        units, titles = inputs.document_units(db, uid, body.document_ids or [])
    if not units:
        raise errors.BadRequest("There is no text to make cards from.", code="empty_input")
    if len(units) > m.MAX_UNITS:
        raise errors.BadRequest(
            f"Too much material for one generation ({len(units)} chunks; at most {m.MAX_UNITS}).", code="too_large"
        )
    deck_ref = study.decks_col(db, uid).document(body.deck_id or f"g{job_id}"[:64])
    user = study.read_user(db, uid)
    draft = body.draft if body.draft is not None else study._user_settings(user).draft_generated_cards
    steps_total = m.steps_for(len(units))
    job = {
        "status": "queued",
        "deckId": deck_ref.id,
        "source": "text" if body.text is not None else "documents",
        "documentIds": list(body.document_ids or []),
        "titles": titles,
        "count": body.count,
        "types": list(body.types),
        "language": body.language,
        "draft": draft,
        "units": units,
        "stepsTotal": steps_total,
        "stepsDone": 0,
        "chunksTotal": len(units),
        "chunksDone": 0,
        "cardsCreated": 0,
        "draftsPending": 0,
        "duplicatesSkipped": 0,
        "rejected": 0,
        "rejectedReasons": [],
        "tokens": {"promptTokens": 0, "completionTokens": 0, "totalTokens": 0, "calls": 0},
        "requestHash": digest,
        "chargedAt": now,
        "createdAt": now,
        "updatedAt": now,
    }

    @firestore.transactional
    def create(tx: Any) -> bool:
        if ref.get(transaction=tx).exists:
            return False
        deck = deck_ref.get(transaction=tx)
        if body.deck_id is not None:
            study._live_deck(deck, body.deck_id)
        usage.charge_in(tx, db, uid, usage.GENERATIONS, now)
        if body.deck_id is None and not deck.exists:
            tx.create(deck_ref, {"name": body.new_deck_name, "description": None, "createdAt": now, "updatedAt": now})
        for i, text in enumerate(texts):
            tx.create(inputs.text_input_ref(db, uid, job_id, i), {"text": text, "index": i})
        tx.create(ref, job)
        return True

    try:
        made = create(db.transaction(max_attempts=25))
    except ValueError as exc:
        raise study._gave_up(exc) from exc
    if not made:
        return _replay(ref.get(), digest, uid, enqueue), False
    try:
        enqueue(uid, job_id, 0)
    except Exception as exc:
        _log.exception("could not enqueue the first step", extra={"jobId": job_id})
        raise errors.Unavailable(
            f"Job {job_id} was saved but could not be started; send the same request again with jobId {job_id}.",
            code="enqueue_failed",
            details={"jobId": job_id},
        ) from exc
    return m.JobStarted(job_id=job_id, status="queued", deck_id=deck_ref.id), True


def _replay(snap: Any, digest: str, uid: str, enqueue: Enqueue) -> m.JobStarted:
    data = snap.to_dict() or {}
    if data.get("requestHash") != digest:
        raise errors.Conflict(f"Job {snap.id} already exists with another request.", code="job_exists")
    if data.get("status") == "queued" and not data.get("stepsDone"):
        enqueue(uid, snap.id, 0)  # the first enqueue may have failed; the task name makes this safe
    return m.JobStarted(job_id=snap.id, status=data.get("status", "queued"), deck_id=data.get("deckId", ""))


# -- read -----------------------------------------------------------------------------------


def get_job(db: Any, uid: str, job_id: str) -> m.Job:
    snap = inputs.job_ref(db, uid, job_id).get()
    if not snap.exists:
        raise errors.NotFound(f"No job {job_id}.", code="job_not_found")
    return m.job_from_stored(job_id, snap.to_dict() or {})


def list_jobs(db: Any, uid: str, query: m.JobListQuery) -> m.JobPage:
    from google.cloud import firestore

    q = (
        jobs_col(db, uid)
        .order_by("createdAt", direction=firestore.Query.DESCENDING)
        .order_by("__name__", direction=firestore.Query.DESCENDING)
    )
    snaps, next_cursor = paging.page(q, "createdAt", query.cursor, query.limit)
    return m.JobPage(jobs=[m.job_from_stored(s.id, s.to_dict() or {}) for s in snaps], next_cursor=next_cursor)


# -- run a step -----------------------------------------------------------------------------


class StepRetry(Exception):
    """A transient failure: answer non-2xx so Cloud Tasks retries the step."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Built:
    cards: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)


def build_cards(
    drafts: Sequence[CardDraft], passages: Sequence[Passage], *, deck_id: str, job_id: str, now: datetime
) -> Built:
    """Drafts → stored card documents, deduplicated within the batch by normalized front."""
    out = Built()
    seen: set[str] = set()
    for draft in drafts:
        problem = check_draft(draft, len(passages))
        if problem:
            out.rejected.append(problem)
            continue
        try:
            contents = m.contents_of(draft)
        except errors.ApiError as exc:
            out.rejected.append(exc.message)
            continue
        passage = passages[draft.passage]
        for content, note_text in contents:
            if max(len(content.front.encode()), len(content.back.encode())) > MAX_TEXT_BYTES:
                out.rejected.append("card text too long")
                continue
            key = m.dedupe_key(content.front)
            if key in seen:
                out.duplicates += 1
                continue
            seen.add(key)
            card_id, doc = study.new_card_doc(
                deck_id,
                content,
                note=note_id(deck_id, note_text) if note_text else None,
                tags=[m.GENERATED_TAG],
                now=now + timedelta(microseconds=len(out.cards)),
                source=m.source_of(passage, draft, job_id, key),
            )
            out.cards.append((card_id, doc))
    return out


def _already_in_cards(db: Any, uid: str, cards: Sequence[tuple[str, dict[str, Any]]]) -> set[str]:
    """Ids of ``cards`` the user already has in some deck (same normalized front, or same front)."""
    if not cards:
        return set()
    col = study.cards_col(db, uid)
    keys = {doc["source"]["key"]: cid for cid, doc in cards}
    fronts: dict[str, list[str]] = {}
    for cid, doc in cards:
        fronts.setdefault(doc["front"], []).append(cid)
    found: set[str] = set()
    key_list = list(keys)
    for start in range(0, len(key_list), DEDUPE_IN):
        part = key_list[start : start + DEDUPE_IN]
        for snap in col.where(filter=study._f("source.key", "in", part)).select(["source.key"]).stream():
            key = ((snap.to_dict() or {}).get("source") or {}).get("key")
            if key in keys:
                found.add(keys[key])
    front_list = [f for f in fronts if len(f.encode()) <= 1500]  # longer values are not indexed whole
    for start in range(0, len(front_list), DEDUPE_IN):
        part = front_list[start : start + DEDUPE_IN]
        for snap in col.where(filter=study._f("front", "in", part)).select(["front"]).stream():
            found.update(fronts.get((snap.to_dict() or {}).get("front", ""), []))
    return found


def _step_ref(job: Any, step: int) -> Any:
    return job.collection("steps").document(f"{step:04d}")


@dataclass
class _Step:
    """What a step commits: its cards (already built and deduplicated), counts and usage."""

    uid: str
    job_id: str
    step: int
    total: int
    span: range
    fresh: list[tuple[str, dict[str, Any]]]
    duplicates: int
    rejected: list[str]
    result: CardResult
    provider: str | None
    draft_mode: bool
    deck_id: str
    attempt: int


def run_step(
    db: Any,
    uid: str,
    job_id: str,
    step: int,
    *,
    provider: Provider | None = None,
    attempt: int = 0,
    enqueue: Enqueue | None = None,
) -> str:
    """Process one step of a job; returns what happened (``done``, ``duplicate``,
    ``finished``, ``failed``, ``no_job``). Raises :class:`StepRetry` for a transient failure."""
    enqueue = enqueue or _default_enqueue
    ref = inputs.job_ref(db, uid, job_id)
    snap = ref.get()
    if not snap.exists:
        return "no_job"
    job = snap.to_dict() or {}
    total = int(job.get("stepsTotal") or 0)
    if job.get("status") in m.TERMINAL or not 0 <= step < total:
        return "finished"
    if _step_ref(ref, step).get().exists:
        _next(enqueue, uid, job_id, step, total)
        return "duplicate"
    if int(job.get("stepsDone") or 0) < step:
        raise StepRetry("step_out_of_order", f"step {step} arrived before step {job.get('stepsDone')}")

    units = job.get("units") or []
    span = m.step_units(step, len(units))
    passages = inputs.load_passages(db, uid, job_id, units[span.start : span.stop], job.get("titles") or {})
    if provider is None:
        from aksio.ai import get_provider

        provider = get_provider()
    result = _generate(
        db, uid, job_id=job_id, job=job, step=step, passages=passages, provider=provider, attempt=attempt
    )
    if result is None:
        return "failed"
    deck_id = str(job.get("deckId"))
    built = build_cards(result.cards, passages, deck_id=deck_id, job_id=job_id, now=_now())
    known = _already_in_cards(db, uid, built.cards)
    fresh = [(cid, doc) for cid, doc in built.cards if cid not in known]
    work = _Step(
        uid=uid,
        job_id=job_id,
        step=step,
        total=total,
        span=span,
        fresh=fresh,
        duplicates=built.duplicates + len(built.cards) - len(fresh),
        rejected=[*result.rejected, *built.rejected],
        result=result,
        provider=getattr(provider, "name", None),
        draft_mode=bool(job.get("draft")),
        deck_id=deck_id,
        attempt=attempt,
    )
    try:
        outcome = _commit(db, work)
    except ValueError as exc:
        raise StepRetry("contention", str(exc)) from exc
    if outcome in ("done", "duplicate"):
        _next(enqueue, uid, job_id, step, total)
    if outcome == "failed":
        _refund_if_empty(db, uid, job_id)
    return outcome


def _generate(
    db: Any,
    uid: str,
    *,
    job_id: str,
    job: dict[str, Any],
    step: int,
    passages: Sequence[Passage],
    provider: Provider,
    attempt: int,
) -> CardResult | None:
    """The model's cards for this step; None when the job failed for good."""
    total = int(job.get("stepsTotal") or 0)
    want = m.cards_for_step(int(job.get("count") or 0), total, step, int(job.get("cardsCreated") or 0))
    if not want or not passages:
        return CardResult(cards=[])
    avoid: tuple[str, ...] = ()
    if step > 0:
        prev = _step_ref(inputs.job_ref(db, uid, job_id), step - 1).get()
        avoid = tuple((prev.to_dict() or {}).get("fronts") or ()) if prev.exists else ()
    request = CardRequest(
        passages=passages,
        count=want,
        types=tuple(job.get("types") or ("basic",)),
        language=job.get("language"),
        avoid=avoid,
    )
    try:
        return provider.generate_cards(request)
    except TransientProviderError as exc:
        if attempt + 1 >= max_attempts():
            fail_job(db, uid, job_id, exc.code, f"{exc.message} (gave up after {attempt + 1} attempts)")
            return None
        inputs.job_ref(db, uid, job_id).update(
            {"lastError": {"code": exc.code, "message": exc.message, "attempt": attempt}, "updatedAt": _now()}
        )
        raise StepRetry(exc.code, exc.message) from exc
    except PermanentProviderError as exc:
        fail_job(db, uid, job_id, exc.code, exc.message)
        return None


def _commit(db: Any, w: _Step) -> str:
    """Cards, step record, job progress and token usage in one transaction; a step whose
    record exists (a concurrent duplicate got there first) commits nothing."""
    from google.cloud import firestore

    ref = inputs.job_ref(db, w.uid, w.job_id)
    step_ref = _step_ref(ref, w.step)
    target = ref.collection("drafts") if w.draft_mode else study.cards_col(db, w.uid)
    cards_col = study.cards_col(db, w.uid)
    deck_ref = study.decks_col(db, w.uid).document(w.deck_id)
    last = w.step + 1 >= w.total
    u = w.result.usage
    now = _now()

    @firestore.transactional
    def commit(tx: Any) -> str:
        refs = [step_ref, ref, deck_ref] + [target.document(cid) for cid, _ in w.fresh]
        if w.draft_mode:
            refs += [cards_col.document(cid) for cid, _ in w.fresh]
        snaps = {s.reference.path: s for s in tx.get_all(refs)}
        if snaps[step_ref.path].exists:
            return "duplicate"
        current = snaps[ref.path].to_dict() or {}
        if current.get("status") in m.TERMINAL:
            return "finished"
        deck = snaps[deck_ref.path]
        if not deck.exists or (deck.to_dict() or {}).get("deleting"):
            tx.update(ref, _failed("deck_deleted", "The deck was deleted while cards were being made.", now))
            return "failed"
        new = [
            (cid, doc)
            for cid, doc in w.fresh
            if not snaps[target.document(cid).path].exists
            and not (w.draft_mode and snaps[cards_col.document(cid).path].exists)
        ]
        duplicates = w.duplicates + len(w.fresh) - len(new)
        room = max(0, int(current.get("count") or 0) - int(current.get("cardsCreated") or 0))
        rejected, over = list(w.rejected), max(0, len(new) - room)
        if over:  # a cloze note can make several cards: never more than asked for
            rejected.append(f"{over} cards over the requested count were not kept")
            new = new[:room]
        for cid, doc in new:
            tx.create(target.document(cid), doc | ({"jobId": w.job_id} if w.draft_mode else {}))
        tx.create(
            step_ref,
            {
                "cards": [cid for cid, _ in new],
                "fronts": [doc["front"] for _, doc in new][:100],
                "usage": u.to_stored(),
                "duplicates": duplicates,
                "rejected": rejected[:20],
                "attempt": w.attempt,
                "createdAt": now,
            },
        )
        tokens = current.get("tokens") or {}
        update: dict[str, Any] = {
            "status": "succeeded" if last else "running",
            "stepsDone": w.step + 1,
            "chunksDone": w.span.stop,
            "cardsCreated": int(current.get("cardsCreated") or 0) + len(new),
            "draftsPending": int(current.get("draftsPending") or 0) + (len(new) if w.draft_mode else 0),
            "duplicatesSkipped": int(current.get("duplicatesSkipped") or 0) + duplicates,
            "rejected": int(current.get("rejected") or 0) + len(w.rejected) + over,
            "rejectedReasons": [*(current.get("rejectedReasons") or []), *rejected][-20:],
            "tokens": {
                "promptTokens": int(tokens.get("promptTokens") or 0) + u.prompt_tokens,
                "completionTokens": int(tokens.get("completionTokens") or 0) + u.completion_tokens,
                "totalTokens": int(tokens.get("totalTokens") or 0) + u.total_tokens,
                "calls": int(tokens.get("calls") or 0) + u.calls,
            },
            "provider": w.provider,
            "lastError": firestore.DELETE_FIELD,
            "updatedAt": now,
        }
        if not current.get("startedAt"):
            update["startedAt"] = now
        if last:
            update["finishedAt"] = now
        tx.update(ref, update)
        if u.total_tokens or u.calls:
            tx.set(
                usage.usage_ref(db, w.uid, usage.period_key("month", now)),
                usage.token_update(u.prompt_tokens, u.completion_tokens, u.calls, now),
                merge=True,
            )
        return "done"

    result: str = commit(db.transaction(max_attempts=25))
    return result


def _next(enqueue: Enqueue, uid: str, job_id: str, step: int, total: int) -> None:
    if step + 1 < total:
        enqueue(uid, job_id, step + 1)


def _failed(code: str, message: str, now: datetime) -> dict[str, Any]:
    return {"status": "failed", "error": {"code": code, "message": message}, "finishedAt": now, "updatedAt": now}


def fail_job(db: Any, uid: str, job_id: str, code: str, message: str) -> None:
    """Mark the job failed with a reason (unless it already ended); a job that made no card
    gives its generation back to the quota."""
    from google.cloud import firestore

    ref = inputs.job_ref(db, uid, job_id)
    now = _now()

    @firestore.transactional
    def run(tx: Any) -> bool:
        snap = ref.get(transaction=tx)
        if not snap.exists or (snap.to_dict() or {}).get("status") in m.TERMINAL:
            return False
        tx.update(ref, _failed(code, message, now))
        return True

    if run(db.transaction(max_attempts=25)):
        _log.warning("generation job failed: %s", code, extra={"jobId": job_id})
        _refund_if_empty(db, uid, job_id)


def _refund_if_empty(db: Any, uid: str, job_id: str) -> None:
    from google.cloud import firestore

    ref = inputs.job_ref(db, uid, job_id)

    @firestore.transactional
    def mark(tx: Any) -> datetime | None:
        snap = ref.get(transaction=tx)
        data = (snap.to_dict() or {}) if snap.exists else {}
        if data.get("status") != "failed" or data.get("cardsCreated") or data.get("refunded"):
            return None
        tx.update(ref, {"refunded": True})
        charged = data.get("chargedAt")
        return charged if isinstance(charged, datetime) else None

    charged = mark(db.transaction(max_attempts=25))
    if charged is not None:
        usage.refund(db, uid, usage.GENERATIONS, charged)


# -- drafts ---------------------------------------------------------------------------------


def _job_or_404(db: Any, uid: str, job_id: str) -> tuple[Any, dict[str, Any]]:
    ref = inputs.job_ref(db, uid, job_id)
    snap = ref.get()
    if not snap.exists:
        raise errors.NotFound(f"No job {job_id}.", code="job_not_found")
    return ref, snap.to_dict() or {}


def list_drafts(db: Any, uid: str, job_id: str) -> m.DraftPage:
    ref, _ = _job_or_404(db, uid, job_id)
    snaps = ref.collection("drafts").order_by("createdAt").limit(500).stream()
    drafts = []
    for s in snaps:
        d = s.to_dict() or {}
        drafts.append(
            m.DraftCard(
                id=s.id,
                kind=d.get("kind", "basic"),
                front=d.get("front", ""),
                back=d.get("back", ""),
                text=d.get("text"),
                source=d.get("source"),
            )
        )
    return m.DraftPage(drafts=drafts)


def decide_drafts(db: Any, uid: str, job_id: str, body: m.DraftDecision, *, accept: bool) -> m.DraftOutcome:
    """Accept drafts (they become cards of the job's deck) or reject them (deleted)."""
    from google.cloud import firestore

    ref, job = _job_or_404(db, uid, job_id)
    drafts_col = ref.collection("drafts")
    if body.card_ids is None:
        ids = [s.id for s in drafts_col.select([]).limit(500).stream()]
    else:
        ids = list(dict.fromkeys(body.card_ids))
    deck_ref = study.decks_col(db, uid).document(str(job.get("deckId")))
    cards = study.cards_col(db, uid)
    outcome = m.DraftOutcome()

    for start in range(0, len(ids), DRAFTS_PER_TX):
        part = ids[start : start + DRAFTS_PER_TX]

        @firestore.transactional
        def run(tx: Any, part: list[str] = part) -> tuple[int, int, list[str]]:
            refs = [ref, deck_ref] + [drafts_col.document(i) for i in part]
            if accept:
                refs += [cards.document(i) for i in part]
            snaps = {s.reference.path: s for s in tx.get_all(refs)}
            if accept:
                study._live_deck(snaps[deck_ref.path], deck_ref.id)
            done, present, made = 0, 0, []
            for cid in part:
                draft = snaps[drafts_col.document(cid).path]
                if not draft.exists:
                    continue
                if accept:
                    if snaps[cards.document(cid).path].exists:
                        present += 1
                    else:
                        doc = {k: v for k, v in (draft.to_dict() or {}).items() if k != "jobId"}
                        doc["updatedAt"] = _now()
                        tx.create(cards.document(cid), doc)
                        made.append(cid)
                tx.delete(drafts_col.document(cid))
                done += 1
            current = snaps[ref.path].to_dict() or {}
            tx.update(
                ref, {"draftsPending": max(0, int(current.get("draftsPending") or 0) - done), "updatedAt": _now()}
            )
            return done, present, made

        done, present, made = run(db.transaction(max_attempts=25))
        if accept:
            outcome.accepted += len(made)
            outcome.already_present += present
            outcome.card_ids += made
        else:
            outcome.rejected += done
    return outcome
