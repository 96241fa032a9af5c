"""generate-flashcards: start a generation job (202 + job id) from documents or pasted
text, follow it, and accept or reject its draft cards."""

from __future__ import annotations

from typing import Any

from aksio import errors
from aksio.clients import firestore_client
from aksio.generation import model as models
from aksio.generation import service
from aksio.http import Api, Ctx, Result
from aksio.ids import path_id
from aksio.openapi import Link

api = Api("generate-flashcards", summary="AI flashcard generation jobs")

JOB = {"job": "$response.body#/jobId"}
STARTED = (
    Link("read", "generate-flashcards.read", JOB),
    Link("drafts", "generate-flashcards.drafts", JOB),
    Link("accept", "generate-flashcards.accept", JOB),
    Link("reject", "generate-flashcards.reject", JOB),
    Link("deck", "decks.read", {"deck": "$response.body#/deckId"}),
)


def _job_id(ctx: Ctx) -> str:
    return path_id(ctx.params["job"], "job")


@api.post(
    "/",
    body=models.GenerateRequest,
    response=models.JobStarted,
    status=202,
    replay_status=200,
    errors=(400, 401, 403, 404, 409, 413, 415, 429, 503),
    links=STARTED,
    spends="ai",
)
def start(ctx: Ctx) -> Result:
    """Start a job: ``documentIds`` or ``text``, into ``deckId`` or ``newDeckName``, ``count``
    1-100 cards of ``types`` (basic, cloze). 202 with the job id; a retry with the same
    ``jobId`` answers 200 with that job. Over the plan's monthly generations: 429."""
    from aksio import usage
    from aksio.ai import bounds

    db = firestore_client()
    calls = bounds.CARD_CALLS * bounds.attempts()  # room for one step, or 429 now, not a failed job later
    try:
        usage.require_room(db, ctx.uid, usage.AI_TOKENS, amount=1, calls=calls)
    except usage.OverQuota:
        if not (ctx.body.job_id and _exists(db, ctx.uid, ctx.body.job_id)):  # a retried POST still answers
            raise
    job, created = service.create_job(db, ctx.uid, ctx.body)
    return Result(job, status=202 if created else 200, headers={"Location": f"/generate-flashcards/{job.job_id}"})


def _exists(db: Any, uid: str, job_id: str) -> bool:
    try:
        service.get_job(db, uid, job_id)
    except errors.NotFound:
        return False
    return True


@api.get("/", query=models.JobListQuery, response=models.JobPage, errors=(400,))
def list_(ctx: Ctx) -> models.JobPage:
    """The user's jobs, newest first."""
    return service.list_jobs(firestore_client(), ctx.uid, ctx.query)


@api.get("/<job>", response=models.Job, errors=(404,))
def read(ctx: Ctx) -> models.Job:
    """A job's status, progress (chunks done/total), cards created, tokens used and error."""
    return service.get_job(firestore_client(), ctx.uid, _job_id(ctx))


@api.get("/<job>/drafts", response=models.DraftPage, errors=(404,))
def drafts(ctx: Ctx) -> models.DraftPage:
    """The job's cards awaiting a decision (when drafts are on)."""
    return service.list_drafts(firestore_client(), ctx.uid, _job_id(ctx))


@api.post("/<job>/drafts/accept", body=models.DraftDecision, response=models.DraftOutcome, errors=(400, 404, 415))
def accept(ctx: Ctx) -> models.DraftOutcome:
    """Accept drafts (``cardIds``, or all): they become cards of the job's deck."""
    return service.decide_drafts(firestore_client(), ctx.uid, _job_id(ctx), ctx.body, accept=True)


@api.post("/<job>/drafts/reject", body=models.DraftDecision, response=models.DraftOutcome, errors=(400, 404, 415))
def reject(ctx: Ctx) -> models.DraftOutcome:
    """Reject drafts (``cardIds``, or all): they are deleted."""
    return service.decide_drafts(firestore_client(), ctx.uid, _job_id(ctx), ctx.body, accept=False)
