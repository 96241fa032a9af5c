"""Generation jobs, pure: the API models, how a job is cut into steps, how many cards each
step asks for, the dedupe key, and how drafts become stored cards."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from aksio.ai.base import CardDraft, Passage
from aksio.ai.text import estimate_tokens, normalize
from aksio.schema import CURSOR, NON_BLANK, ApiModel, RequestModel
from aksio.study.model import Content, cloze_cards

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(json_schema_extra={"pattern": NON_BLANK}),
]
Status = Literal["queued", "running", "succeeded", "failed"]
Kind = Literal["basic", "cloze"]
KINDS: tuple[Kind, ...] = ("basic", "cloze")
TERMINAL = ("succeeded", "failed")
MAX_TEXT_CHARS = 200_000
MAX_UNITS = 1000
MAX_DOCUMENTS = 20  # documents of one generation
CHUNKS_PER_STEP = 3
TEXT_CHUNK_TOKENS = 900
GENERATED_TAG = "generated"
# A job's model calls: every call that makes a new card brings the job closer to its count,
# so count calls suffice, plus a few for repairs and steps that find nothing new; after
# MAX_BARREN_STEPS steps in a row whose calls made no new card the job stops.
EXTRA_MODEL_CALLS = 3
MAX_BARREN_STEPS = 2


def max_model_calls(count: int) -> int:
    """The model calls a job asking for ``count`` cards may start (one more can follow: a
    step's repair request, so a job makes at most this + 1)."""
    return count + EXTRA_MODEL_CALLS


class GenerateRequest(RequestModel):
    """Start a generation: from ``documentIds`` or ``text``, into ``deckId`` or a new deck."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "oneOf": [
                        {
                            "title": "From documents",
                            "required": ["documentIds"],
                            "properties": {"documentIds": {"type": "array"}, "text": {"type": "null"}},
                        },
                        {
                            "title": "From text",
                            "required": ["text"],
                            "properties": {"text": {"type": "string"}, "documentIds": {"type": "null"}},
                        },
                        {
                            "title": "From a course's ready documents",
                            "required": ["courseId"],
                            "properties": {
                                "courseId": {"type": "string"},
                                "documentIds": {"type": "null"},
                                "text": {"type": "null"},
                            },
                        },
                    ]
                },
                {
                    "oneOf": [
                        {
                            "title": "Into a deck",
                            "required": ["deckId"],
                            "properties": {"deckId": {"type": "string"}, "newDeckName": {"type": "null"}},
                        },
                        {
                            "title": "Into a new deck",
                            "required": ["newDeckName"],
                            "properties": {"newDeckName": {"type": "string"}, "deckId": {"type": "null"}},
                        },
                    ]
                },
            ]
        }
    )

    document_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_DOCUMENTS)] | None = None
    text: (
        Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS, json_schema_extra={"pattern": NON_BLANK})] | None
    ) = None
    deck_id: Id | None = None
    new_deck_name: Name | None = None
    # A course: without documentIds and text, its ready documents; documentIds must be its;
    # a new deck goes in it.
    course_id: Id | None = None
    count: Annotated[int, Field(ge=1, le=100)] = 20
    types: Annotated[list[Kind], Field(min_length=1, max_length=2)] = Field(default_factory=lambda: list(KINDS))
    language: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=2, max_length=35),
            Field(json_schema_extra={"pattern": f"{NON_BLANK}[\\s\\S]*{NON_BLANK}"}),  # two characters once stripped
        ]
        | None
    ) = None
    # Optional client-chosen job id: a retried POST answers with the job made the first time.
    job_id: Id | None = None
    # Cards as drafts to accept or reject (default: the user's setting draftGeneratedCards).
    draft: bool | None = None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        from aksio.ai.prompts import language_name

        if value is not None and language_name(value) != " ".join(value.split()):
            raise ValueError("a language name: letters, spaces, hyphens, apostrophes and parentheses (e.g. 'pt-BR')")
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("text is empty")
        return value

    @model_validator(mode="after")
    def _one_of(self) -> GenerateRequest:
        if self.document_ids is not None and self.text is not None:
            raise ValueError("send either documentIds or text")
        if self.document_ids is None and self.text is None and self.course_id is None:
            raise ValueError("send documentIds, text or courseId")
        if (self.deck_id is None) == (self.new_deck_name is None):
            raise ValueError("send either deckId or newDeckName")
        self.types = list(dict.fromkeys(self.types))
        if self.document_ids:
            self.document_ids = list(dict.fromkeys(self.document_ids))
        return self


class JobStarted(ApiModel):
    job_id: str
    status: Status
    deck_id: str


class Progress(ApiModel):
    chunks_done: int
    chunks_total: int
    steps_done: int
    steps_total: int


class Tokens(ApiModel):
    prompt: int = 0
    completion: int = 0
    total: int = 0


class JobError(ApiModel):
    code: str
    message: str


class Job(ApiModel):
    id: str
    status: Status
    deck_id: str
    source: Literal["text", "documents"]
    document_ids: list[str] = Field(default_factory=list)
    count: int
    types: list[str]
    language: str | None = None
    draft: bool = False
    progress: Progress
    cards_created: int = 0
    drafts_pending: int = 0
    duplicates_skipped: int = 0
    rejected: int = 0
    rejected_reasons: list[str] = Field(default_factory=list)
    tokens_used: Tokens = Field(default_factory=Tokens)
    model_calls: int = 0
    provider: str | None = None
    error: JobError | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None


class JobPage(ApiModel):
    jobs: list[Job]
    next_cursor: str | None = None


class JobListQuery(RequestModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: Annotated[str, Field(max_length=500, description=CURSOR)] | None = None


class DraftCard(ApiModel):
    id: str
    kind: str
    front: str
    back: str
    text: str | None = None
    source: dict[str, Any] | None = None


class DraftPage(ApiModel):
    drafts: list[DraftCard]


class DraftDecision(RequestModel):
    """Which drafts: ``cardIds``, or all pending ones when omitted."""

    card_ids: Annotated[list[Id], Field(min_length=1, max_length=500)] | None = None


class DraftOutcome(ApiModel):
    accepted: int = 0
    rejected: int = 0
    already_present: int = 0
    card_ids: list[str] = Field(default_factory=list)


def job_from_stored(job_id: str, data: dict[str, Any]) -> Job:
    tokens = data.get("tokens") or {}
    error = data.get("error")
    return Job(
        id=job_id,
        status=data.get("status", "queued"),
        deck_id=data.get("deckId", ""),
        source=data.get("source", "text"),
        document_ids=list(data.get("documentIds") or []),
        count=int(data.get("count") or 0),
        types=list(data.get("types") or []),
        language=data.get("language"),
        draft=bool(data.get("draft")),
        progress=Progress(
            chunks_done=int(data.get("chunksDone") or 0),
            chunks_total=int(data.get("chunksTotal") or 0),
            steps_done=int(data.get("stepsDone") or 0),
            steps_total=int(data.get("stepsTotal") or 0),
        ),
        cards_created=int(data.get("cardsCreated") or 0),
        drafts_pending=int(data.get("draftsPending") or 0),
        duplicates_skipped=int(data.get("duplicatesSkipped") or 0),
        rejected=int(data.get("rejected") or 0),
        rejected_reasons=list(data.get("rejectedReasons") or []),
        tokens_used=Tokens(
            prompt=int(tokens.get("promptTokens") or 0),
            completion=int(tokens.get("completionTokens") or 0),
            total=int(tokens.get("totalTokens") or 0),
        ),
        model_calls=int(tokens.get("calls") or 0),
        provider=data.get("provider"),
        error=JobError(code=error.get("code", "failed"), message=error.get("message", "")) if error else None,
        created_at=data.get("createdAt"),
        updated_at=data.get("updatedAt"),
        finished_at=data.get("finishedAt"),
    )


# -- planning -------------------------------------------------------------------------------


def split_text(text: str, target_tokens: int = TEXT_CHUNK_TOKENS) -> list[str]:
    """Pasted text → chunks of about ``target_tokens``, cut at paragraph (else sentence) ends."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    pieces: list[str] = []
    for p in paragraphs:
        if estimate_tokens(p) <= target_tokens:
            pieces.append(p)
            continue
        sentences = re.split(r"(?<=[.!?])\s+", p)
        buf: list[str] = []
        for s in sentences:
            if buf and estimate_tokens(" ".join([*buf, s])) > target_tokens:
                pieces.append(" ".join(buf))
                buf = []
            buf.append(s)
        if buf:
            pieces.append(" ".join(buf))
    chunks: list[str] = []
    current: list[str] = []
    for piece in pieces:
        if current and estimate_tokens("\n\n".join([*current, piece])) > target_tokens:
            chunks.append("\n\n".join(current))
            current = []
        current.append(piece)
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def steps_for(units: int, per_step: int = CHUNKS_PER_STEP) -> int:
    return max(1, math.ceil(units / per_step))


def step_units(step: int, units: int, per_step: int = CHUNKS_PER_STEP) -> range:
    return range(step * per_step, min(units, (step + 1) * per_step))


def cards_for_step(count: int, steps: int, step: int, created_so_far: int) -> int:
    """How many cards step ``step`` asks for: the rest of ``count`` spread over the steps
    left (at least one, so every chunk gets a chance)."""
    left = max(count - created_so_far, 0)
    remaining_steps = max(steps - step, 1)
    return max(1, math.ceil(left / remaining_steps)) if left else 0


# -- drafts → cards -------------------------------------------------------------------------


def dedupe_key(front: str) -> str:
    """Two cards whose fronts normalize alike are the same card, in any deck."""
    return hashlib.sha256(normalize(front).encode()).hexdigest()[:32]


def contents_of(draft: CardDraft) -> list[tuple[Content, str | None]]:
    """The study contents of a draft, each with the cloze text (note) it came from."""
    if draft.kind == "basic":
        return [(Content(front=draft.front.strip(), back=draft.back.strip()), None)]
    return [(c, draft.text) for c in cloze_cards(draft.text)]


def source_of(passage: Passage, draft: CardDraft, job_id: str, key: str) -> dict[str, Any]:
    src: dict[str, Any] = {"kind": "document" if passage.document_id else "text", **passage.source()}
    src["jobId"] = job_id
    src["key"] = key
    if draft.quote:
        src["quote"] = draft.quote[:500]
    return src
