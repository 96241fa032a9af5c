"""A generation job as stored, and the rules of its life: pure, no I/O.

``users/{uid}/jobs/{jobId}`` holds a :class:`JobRecord` (status queued → running →
succeeded | failed, the units of work, progress, counts, tokens); each finished step leaves
a record under ``steps/{n}`` written in the same transaction as its cards, so a step
commits once. :func:`plan_commit` decides what a step commits given what the transaction
read; :func:`failed` what failing a job changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aksio.ai.base import Usage
from aksio.firestore import DELETE

TERMINAL = ("succeeded", "failed")
NewCards = list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Tokens:
    prompt: int = 0
    completion: int = 0
    total: int = 0
    calls: int = 0

    def plus(self, u: Usage) -> Tokens:
        return Tokens(
            self.prompt + u.prompt_tokens,
            self.completion + u.completion_tokens,
            self.total + u.total_tokens,
            self.calls + u.calls,
        )

    def to_stored(self) -> dict[str, int]:
        return {
            "promptTokens": self.prompt,
            "completionTokens": self.completion,
            "totalTokens": self.total,
            "calls": self.calls,
        }

    @classmethod
    def from_stored(cls, data: Any) -> Tokens:
        d = data if isinstance(data, dict) else {}
        return cls(
            int(d.get("promptTokens") or 0),
            int(d.get("completionTokens") or 0),
            int(d.get("totalTokens") or 0),
            int(d.get("calls") or 0),
        )


@dataclass(frozen=True)
class JobRecord:
    """The stored job (``users/{uid}/jobs/{jobId}``)."""

    status: str
    deck_id: str
    source: str  # text | documents
    units: list[dict[str, Any]]  # one {d, h, i} per chunk: document, holder of its chunks, index
    steps_total: int
    count: int
    draft: bool
    request_hash: str
    charged_at: datetime | None
    document_ids: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    types: list[str] = field(default_factory=list)
    language: str | None = None
    steps_done: int = 0
    chunks_done: int = 0
    cards_created: int = 0
    drafts_pending: int = 0
    duplicates_skipped: int = 0
    rejected: int = 0
    rejected_reasons: list[str] = field(default_factory=list)
    tokens: Tokens = Tokens()
    refunded: bool = False
    started_at: datetime | None = None
    barren_steps: int = 0  # steps in a row whose model call made no new card
    failed_calls: int = 0  # model calls of attempts that failed (they count toward the job's bound)

    @property
    def chunks_total(self) -> int:
        return len(self.units)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def to_stored(self, now: datetime) -> dict[str, Any]:
        """The document a new job is created with."""
        return {
            "status": self.status,
            "deckId": self.deck_id,
            "source": self.source,
            "documentIds": list(self.document_ids),
            "titles": dict(self.titles),
            "count": self.count,
            "types": list(self.types),
            "language": self.language,
            "draft": self.draft,
            "units": list(self.units),
            "stepsTotal": self.steps_total,
            "stepsDone": self.steps_done,
            "chunksTotal": self.chunks_total,
            "chunksDone": self.chunks_done,
            "cardsCreated": self.cards_created,
            "draftsPending": self.drafts_pending,
            "duplicatesSkipped": self.duplicates_skipped,
            "rejected": self.rejected,
            "rejectedReasons": list(self.rejected_reasons),
            "tokens": self.tokens.to_stored(),
            "requestHash": self.request_hash,
            "chargedAt": self.charged_at,
            "createdAt": now,
            "updatedAt": now,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> JobRecord:
        charged = data.get("chargedAt")
        started = data.get("startedAt")
        return cls(
            status=str(data.get("status") or "queued"),
            deck_id=str(data.get("deckId") or ""),
            source=str(data.get("source") or "text"),
            units=list(data.get("units") or []),
            steps_total=int(data.get("stepsTotal") or 0),
            count=int(data.get("count") or 0),
            draft=bool(data.get("draft")),
            request_hash=str(data.get("requestHash") or ""),
            charged_at=charged if isinstance(charged, datetime) else None,
            document_ids=list(data.get("documentIds") or []),
            titles=dict(data.get("titles") or {}),
            types=list(data.get("types") or []),
            language=data.get("language"),
            steps_done=int(data.get("stepsDone") or 0),
            chunks_done=int(data.get("chunksDone") or 0),
            cards_created=int(data.get("cardsCreated") or 0),
            drafts_pending=int(data.get("draftsPending") or 0),
            duplicates_skipped=int(data.get("duplicatesSkipped") or 0),
            rejected=int(data.get("rejected") or 0),
            rejected_reasons=list(data.get("rejectedReasons") or []),
            tokens=Tokens.from_stored(data.get("tokens")),
            refunded=bool(data.get("refunded")),
            started_at=started if isinstance(started, datetime) else None,
            barren_steps=int(data.get("barrenSteps") or 0),
            failed_calls=int(data.get("failedCalls") or 0),
        )


def failed(code: str, message: str, now: datetime) -> dict[str, Any]:
    """The changes that end a job as failed with a reason."""
    return {"status": "failed", "error": {"code": code, "message": message}, "finishedAt": now, "updatedAt": now}


@dataclass(frozen=True)
class StepWork:
    """What a step brings to its commit: its cards (built and deduplicated against the user's
    cards outside the transaction), counts and the model's usage."""

    step: int
    span_stop: int
    fresh: NewCards
    duplicates: int
    rejected: list[str]
    usage: Usage
    provider: str | None
    draft_mode: bool
    attempt: int
    called: bool = False  # the model was asked this step
    stop: bool = False  # the job may call the model no more: this step ends it


@dataclass(frozen=True)
class StepCommit:
    outcome: str  # done | duplicate | finished | failed
    cards: NewCards = field(default_factory=list)  # to create (as cards, or as drafts in draft mode)
    step_record: dict[str, Any] | None = None
    job_changes: dict[str, Any] = field(default_factory=dict)


def plan_commit(
    job: JobRecord,
    work: StepWork,
    *,
    step_recorded: bool,
    deck_live: bool,
    present: set[str],
    now: datetime,
) -> StepCommit:
    """What one step commits, given what its transaction read: whether the step's record
    exists (a concurrent duplicate got there first), the job, whether the deck is live, and
    which of the step's cards already exist (as cards or, in draft mode, as drafts)."""
    if step_recorded:
        return StepCommit("duplicate")
    if job.terminal:
        return StepCommit("finished")
    if not deck_live:
        return StepCommit(
            "failed", job_changes=failed("deck_deleted", "The deck was deleted while cards were being made.", now)
        )
    new = [(cid, doc) for cid, doc in work.fresh if cid not in present]
    duplicates = work.duplicates + len(work.fresh) - len(new)
    room = max(0, job.count - job.cards_created)
    rejected, over = list(work.rejected), max(0, len(new) - room)
    if over:  # a cloze note can make several cards: never more than asked for
        rejected.append(f"{over} cards over the requested count were not kept")
        new = new[:room]
    last = work.step + 1 >= job.steps_total or work.stop
    if work.stop:
        rejected.append("stopped early: the model calls this job may make are used, or it repeated known cards")
    record = {
        "cards": [cid for cid, _ in new],
        "fronts": [doc["front"] for _, doc in new][:100],
        "usage": work.usage.to_stored(),
        "duplicates": duplicates,
        "rejected": rejected[:20],
        "attempt": work.attempt,
        "createdAt": now,
    }
    changes: dict[str, Any] = {
        "status": "succeeded" if last else "running",
        "stepsDone": work.step + 1,
        "chunksDone": work.span_stop,
        "cardsCreated": job.cards_created + len(new),
        "draftsPending": job.drafts_pending + (len(new) if work.draft_mode else 0),
        "duplicatesSkipped": job.duplicates_skipped + duplicates,
        "rejected": job.rejected + len(work.rejected) + over,
        "rejectedReasons": [*job.rejected_reasons, *rejected][-20:],
        "tokens": job.tokens.plus(work.usage).to_stored(),
        "provider": work.provider,
        "barrenSteps": (job.barren_steps + 1) if work.called and not new else 0,
        "lastError": DELETE,
        "updatedAt": now,
    }
    if job.started_at is None:
        changes["startedAt"] = now
    if last:
        changes["finishedAt"] = now
    return StepCommit("done", cards=new, step_record=record, job_changes=changes)
