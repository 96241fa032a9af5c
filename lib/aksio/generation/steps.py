"""Running a generation job, one Cloud Tasks step at a time (idempotent).

A step: read the job; if the step's record exists it is a duplicate delivery (only make
sure the next step is enqueued); else call the model outside any transaction, build the
cards (ids follow from content: :func:`aksio.study.model.new_card`), drop those already in
the user's cards (any deck: the normalized front's key ``source.key``, or the same front),
and commit cards, step record, job progress and token usage in one transaction that
re-checks the step record (:func:`commit_step`, rules in :func:`aksio.generation.jobs.plan_commit`).
Then enqueue the next step.

Spending is bounded: each model call's tokens are reserved before it (the most it can cost,
:func:`aksio.ai.bounds.cards_bound`) and settled after (:mod:`aksio.usage`); a job makes at
most :func:`aksio.generation.model.max_model_calls` calls (from the count asked for) and stops
after :data:`aksio.generation.model.MAX_BARREN_STEPS` steps in a row whose calls made no new
card (the model repeating what exists), ending the job as succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aksio import errors, log, usage
from aksio import firestore as fs
from aksio.account import service as account
from aksio.ai import bounds
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
from aksio.config import get_config
from aksio.generation import inputs, jobs
from aksio.generation import model as m
from aksio.generation import repository as repo
from aksio.generation.repository import FirestoreGeneration, GenerationStore, GenerationTx
from aksio.study import service as study
from aksio.study.model import MAX_TEXT_BYTES, new_card, note_id

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.generation")
Enqueue = Callable[..., bool]


def max_attempts() -> int:
    return get_config().generation_max_attempts


def default_enqueue(uid: str, job_id: str, step: int) -> bool:
    from aksio import tasks

    return tasks.enqueue_step(uid, job_id, step)


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
        except errors.AppError as exc:
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
            out.cards.append(
                new_card(
                    deck_id,
                    content,
                    note=note_id(deck_id, note_text) if note_text else None,
                    tags=[m.GENERATED_TAG],
                    now=now + timedelta(microseconds=len(out.cards)),
                    source=m.source_of(passage, draft, job_id, key),
                )
            )
    return out


def run_step(
    db: Client,
    uid: str,
    job_id: str,
    step: int,
    *,
    provider: Provider | None = None,
    attempt: int = 0,
    enqueue: Enqueue | None = None,
) -> str:
    """Process one step of a job; returns what happened (``done``, ``duplicate``,
    ``finished``, ``failed``, ``no_job``, ``account_deleted``: acknowledged, nothing written).
    Raises :class:`StepRetry` for a transient failure."""
    if account.is_deleted(db, uid):
        return "account_deleted"
    try:
        return _run_step(db, uid, job_id, step, provider=provider, attempt=attempt, enqueue=enqueue)
    except account.AccountDeleted:  # the deletion began during the step: its transaction wrote nothing
        return "account_deleted"


def _run_step(
    db: Client,
    uid: str,
    job_id: str,
    step: int,
    *,
    provider: Provider | None,
    attempt: int,
    enqueue: Enqueue | None,
) -> str:
    enqueue = enqueue or default_enqueue
    data = repo.read_job(db, uid, job_id)
    if data is None:
        return "no_job"
    job = jobs.JobRecord.from_stored(data)
    if job.terminal or not 0 <= step < job.steps_total:
        return "finished"
    if repo.step_record(db, uid, job_id, step) is not None:
        _next(enqueue, uid, job_id, step, job.steps_total)
        return "duplicate"
    if job.steps_done < step:
        raise StepRetry("step_out_of_order", f"step {step} arrived before step {job.steps_done}")

    span = m.step_units(step, len(job.units))
    passages = inputs.load_passages(db, uid, job_id, job.units[span.start : span.stop], job.titles)
    if provider is None:
        from aksio.ai import get_provider

        try:
            provider = get_provider()
        except errors.Unavailable as exc:  # no model configured (ai_unavailable): like a model that is down
            _retry_or_fail(db, uid, job_id, attempt, code=exc.code, message=exc.message)
            return "failed"
    result = _generate(
        db, uid, job_id=job_id, job=job, step=step, passages=passages, provider=provider, attempt=attempt
    )
    if result is None:
        return "failed"
    stop = result is STOP
    built = build_cards(result.cards, passages, deck_id=job.deck_id, job_id=job_id, now=fs.utcnow())
    known = study.existing_card_ids(db, uid, built.cards)
    fresh = [(cid, doc) for cid, doc in built.cards if cid not in known]
    work = jobs.StepWork(
        step=step,
        span_stop=span.stop,
        fresh=fresh,
        duplicates=built.duplicates + len(built.cards) - len(fresh),
        rejected=[*result.rejected, *built.rejected],
        usage=result.usage,
        provider=getattr(provider, "name", None),
        draft_mode=job.draft,
        attempt=attempt,
        called=result.called,
        stop=stop,
    )
    try:
        outcome = commit_step(FirestoreGeneration(db, uid), job_id, work)
    except errors.Contention as exc:
        raise StepRetry("contention", exc.message) from exc
    if outcome == "duplicate" or (outcome == "done" and not stop):
        _next(enqueue, uid, job_id, step, job.steps_total)
    if outcome == "failed":
        refund_if_empty(db, uid, job_id)
    return outcome


def _generate(
    db: Client,
    uid: str,
    *,
    job_id: str,
    job: jobs.JobRecord,
    step: int,
    passages: Sequence[Passage],
    provider: Provider,
    attempt: int,
) -> Generated | None:
    """The model's cards for this step (:data:`STOP` when the job has made all the calls it
    may); None when the job failed for good."""
    want = m.cards_for_step(job.count, job.steps_total, step, job.cards_created)
    if not want or not passages:
        return Generated(cards=[])
    if job.tokens.calls + job.failed_calls >= m.max_model_calls(job.count) or job.barren_steps >= m.MAX_BARREN_STEPS:
        return STOP
    avoid: tuple[str, ...] = ()
    if step > 0:
        prev = repo.step_record(db, uid, job_id, step - 1)
        avoid = tuple((prev or {}).get("fronts") or ())
    kinds: tuple[Any, ...] = tuple(job.types or ["basic"])
    request = CardRequest(passages=passages, count=want, types=kinds, language=job.language, avoid=avoid)
    try:
        bound = bounds.cards_bound(request, get_config().openai_max_output_tokens) * bounds.attempts()
        held = usage.reserve(db, uid, usage.AI_TOKENS, bound, calls=bounds.CARD_CALLS * bounds.attempts())
    except usage.OverQuota as over:
        fail_job(db, uid, job_id, over.code, over.message)
        return None
    try:
        result = provider.generate_cards(request)
    except TransientProviderError as exc:
        _failed_call(db, held, exc.code, job_id)
        _retry_or_fail(db, uid, job_id, attempt, code=exc.code, message=exc.message)
        return None
    except PermanentProviderError as exc:
        _failed_call(db, held, exc.code, job_id)
        fail_job(db, uid, job_id, exc.code, exc.message)
        return None
    except BaseException:
        usage.settle(db, held, held.amount)  # unknown: it stays counted
        repo.add_failed_calls(db, uid, job_id, held.calls)
        raise
    usage.settle_spent(db, held, result.usage)
    return Generated(cards=result.cards, usage=result.usage, rejected=result.rejected, called=True)


def _failed_call(db: Client, held: usage.Reservation, code: str, job_id: str) -> None:
    """A call that failed: refused before any work, it is given back; else it stays counted
    (what it cost is unknown), in the month's budget and in the job's calls."""
    if code in bounds.NOT_BILLED:
        usage.release(db, held)
    else:
        repo.add_failed_calls(db, held.uid, job_id, held.calls)


@dataclass
class Generated(CardResult):
    called: bool = False  # the model was asked (a step that asks and gets nothing new is barren)


# A step that may not call the model any more: the job ends with what it made.
STOP = Generated(cards=[])


def _retry_or_fail(db: Client, uid: str, job_id: str, attempt: int, *, code: str, message: str) -> None:
    """A transient failure: record it and raise :class:`StepRetry`, or, on the last attempt,
    fail the job with the reason (the caller then answers ``failed``)."""
    if attempt + 1 >= max_attempts():
        fail_job(db, uid, job_id, code, f"{message} (gave up after {attempt + 1} attempts)")
        return
    repo.set_last_error(db, uid, job_id, {"code": code, "message": message, "attempt": attempt}, fs.utcnow())
    raise StepRetry(code, message)


def commit_step(store: GenerationStore, job_id: str, work: jobs.StepWork, *, now: datetime | None = None) -> str:
    """Cards (or drafts), step record, job progress and token usage in one transaction; a
    step whose record exists (a concurrent duplicate got there first) commits nothing."""
    when = now or fs.utcnow()
    ids = [cid for cid, _ in work.fresh]
    written = [0]  # cards written by the transaction's last (committed) run

    def commit(tx: GenerationTx) -> str:
        recorded = tx.step_recorded(job_id, work.step)
        job = jobs.JobRecord.from_stored(tx.job(job_id) or {})
        deck = tx.study.deck(job.deck_id)
        present = {c for c, d in tx.study.cards(ids).items() if d is not None}
        if work.draft_mode:
            present |= tx.drafts_present(job_id, ids)
        live = deck is not None and not deck.get("deleting")
        plan = jobs.plan_commit(job, work, step_recorded=recorded, deck_live=live, present=present, now=when)
        if plan.outcome == "failed":
            tx.update_job(job_id, plan.job_changes)
        if plan.outcome != "done":
            return plan.outcome
        written[0] = len(plan.cards)
        for cid, doc in plan.cards:
            if work.draft_mode:
                tx.create_draft(job_id, cid, doc | {"jobId": job_id})
            else:
                tx.study.create_card(cid, doc)
        assert plan.step_record is not None
        tx.create_step(job_id, work.step, plan.step_record)
        tx.update_job(job_id, plan.job_changes)
        if work.usage.total_tokens or work.usage.calls:
            tx.add_tokens(work.usage, when)
        return "done"

    outcome = store.run(commit, what="generation step")
    if outcome == "done":
        _log.info(
            "cards generated",
            extra={"event": "cards_generated", "jobId": job_id, "cards": written[0], "draft": work.draft_mode},
        )
    return outcome


def _next(enqueue: Enqueue, uid: str, job_id: str, step: int, total: int) -> None:
    if step + 1 < total:
        enqueue(uid, job_id, step + 1)


def fail_job(db: Client, uid: str, job_id: str, code: str, message: str) -> None:
    """Mark the job failed with a reason (unless it already ended); a job that made no card
    gives its generation back to the quota."""
    if mark_failed(FirestoreGeneration(db, uid), job_id, code, message, fs.utcnow()):
        _log.warning("generation job failed: %s", code, extra={"jobId": job_id, "event": "generation_failed"})
        refund_if_empty(db, uid, job_id)


def mark_failed(store: GenerationStore, job_id: str, code: str, message: str, now: datetime) -> bool:
    def run(tx: GenerationTx) -> bool:
        data = tx.job(job_id)
        if data is None or jobs.JobRecord.from_stored(data).terminal:
            return False
        tx.update_job(job_id, jobs.failed(code, message, now))
        return True

    return store.run(run, what="fail job")


def refund_if_empty(db: Client, uid: str, job_id: str) -> None:
    charged = mark_refunded(FirestoreGeneration(db, uid), job_id)
    if charged is not None:
        usage.refund(db, uid, usage.GENERATIONS, charged)


def mark_refunded(store: GenerationStore, job_id: str) -> datetime | None:
    """Mark a failed job that made no card as refunded (once); returns when it was charged."""

    def run(tx: GenerationTx) -> datetime | None:
        data = tx.job(job_id) or {}
        job = jobs.JobRecord.from_stored(data)
        if job.status != "failed" or job.cards_created or job.refunded:
            return None
        tx.update_job(job_id, {"refunded": True})
        return job.charged_at

    return store.run(run, what="refund job")
