"""Request and response models of the ``quizzes`` function (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from aksio.quizzes.model import MAX_ANSWER_CHARS, MAX_QUESTIONS
from aksio.schema import CURSOR, NON_BLANK, ApiModel, RequestModel

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Kind = Literal["multiple_choice", "true_false", "short_answer"]
KIND_LIST: list[Kind] = ["multiple_choice", "true_false", "short_answer"]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(json_schema_extra={"pattern": NON_BLANK}),
]


class NewQuiz(RequestModel):
    """A quiz from a deck (made at once, no model call) or from documents (a job)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "title": "From a deck",
                    "required": ["deckId"],
                    "properties": {"deckId": {"type": "string"}, "documentIds": {"type": "null"}},
                },
                {
                    "title": "From documents",
                    "required": ["documentIds"],
                    "properties": {"documentIds": {"type": "array"}, "deckId": {"type": "null"}},
                },
            ]
        }
    )

    # Optional client-chosen id: a retried create answers with the quiz made the first time.
    id: Id | None = None
    deck_id: Id | None = None
    document_ids: Annotated[list[Id], Field(min_length=1, max_length=20)] | None = None
    count: Annotated[int, Field(ge=1, le=MAX_QUESTIONS)] = 10
    kinds: Annotated[list[Kind], Field(min_length=1, max_length=3)] = Field(default_factory=lambda: list(KIND_LIST))
    time_limit_seconds: Annotated[int, Field(ge=1, le=4 * 3600)] | None = None
    title: Title | None = None

    @model_validator(mode="after")
    def _one_source(self) -> NewQuiz:
        if (self.deck_id is None) == (self.document_ids is None):
            raise ValueError("send either deckId or documentIds")
        self.kinds = list(dict.fromkeys(self.kinds))
        if self.document_ids:
            self.document_ids = list(dict.fromkeys(self.document_ids))
        return self


class QuizOption(ApiModel):
    id: str
    text: str


class QuizQuestion(ApiModel):
    """A question as a student sees it: never its answer."""

    id: str
    kind: Kind
    prompt: str
    options: list[QuizOption] | None = None


class QuizCitation(ApiModel):
    document_id: str | None = None
    chunk_id: str | None = None
    page: int | None = None
    last_page: int | None = None
    title: str | None = None
    quote: str | None = None
    card_id: str | None = None


class QuizStats(ApiModel):
    attempts: int = 0
    submitted: int = 0
    best_percent: float | None = None
    last_percent: float | None = None
    last_submitted_at: datetime | None = None


class QuizProgress(ApiModel):
    steps_done: int
    steps_total: int


class QuizTokens(ApiModel):
    prompt: int = 0
    completion: int = 0
    total: int = 0


class QuizError(ApiModel):
    code: str
    message: str


class Quiz(ApiModel):
    id: str
    title: str
    source: Literal["deck", "documents"]
    status: Literal["generating", "ready", "failed"]
    deck_id: str | None = None
    document_ids: list[str] = Field(default_factory=list)
    course_id: str | None = None
    kinds: list[Kind]
    requested_count: int
    question_count: int
    time_limit_seconds: int | None = None
    questions: list[QuizQuestion] = Field(default_factory=list)
    stats: QuizStats = Field(default_factory=QuizStats)
    progress: QuizProgress | None = None
    tokens_used: QuizTokens | None = None
    model_calls: int | None = None
    provider: str | None = None
    error: QuizError | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class QuizPage(ApiModel):
    quizzes: list[Quiz]
    next_cursor: str | None = None


class QuizPageQuery(RequestModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: Annotated[str, Field(max_length=500, description=CURSOR)] | None = None


class QuizListQuery(QuizPageQuery):
    # The quizzes of one course (a quiz takes the course of the deck it is made from).
    course_id: Id | None = None


class QuizDeleted(ApiModel):
    id: str
    deleted: bool
    attempts_deleted: int = 0


class NewQuizAttempt(RequestModel):
    # Optional client-chosen id: a retried start answers with the attempt made the first time.
    id: Id | None = None


class QuizAnswer(ApiModel):
    option_id: str | None = None
    text: str | None = None


class QuizResultRow(ApiModel):
    question_id: str
    kind: Kind
    prompt: str
    correct: bool
    given: QuizAnswer | None = None
    right_answer: str
    right_option_id: str | None = None
    explanation: str
    citation: QuizCitation | None = None


class QuizResult(ApiModel):
    score: int
    total: int
    percent: float
    questions: list[QuizResultRow]


class QuizAttempt(ApiModel):
    id: str
    quiz_id: str
    status: Literal["open", "expired", "submitted"]
    started_at: datetime | None = None
    expires_at: datetime | None = None
    submitted_at: datetime | None = None
    questions: list[QuizQuestion]
    answers: dict[str, QuizAnswer] = Field(default_factory=dict)
    result: QuizResult | None = None


class QuizAttemptSummary(ApiModel):
    id: str
    status: Literal["open", "expired", "submitted"]
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    score: int | None = None
    total: int | None = None
    percent: float | None = None


class QuizAttemptPage(ApiModel):
    attempts: list[QuizAttemptSummary]
    best_percent: float | None = None
    last_percent: float | None = None
    next_cursor: str | None = None


class QuizAnswerBody(RequestModel):
    """``optionId`` for multiple choice and true/false (``true``, ``false``); ``text`` for a
    short answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "title": "A choice",
                    "required": ["optionId"],
                    "properties": {"optionId": {"type": "string"}, "text": {"type": "null"}},
                },
                {
                    "title": "A short answer",
                    "required": ["text"],
                    "properties": {"text": {"type": "string"}, "optionId": {"type": "null"}},
                },
            ]
        }
    )

    option_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,16}$")] | None = None
    text: (
        Annotated[str, Field(min_length=1, max_length=MAX_ANSWER_CHARS, json_schema_extra={"pattern": NON_BLANK})]
        | None
    ) = None

    @model_validator(mode="after")
    def _one(self) -> QuizAnswerBody:
        if (self.option_id is None) == (self.text is None):
            raise ValueError("send either optionId or text")
        if self.text is not None and not self.text.strip():
            raise ValueError("text is empty")
        return self


class QuizAnswerRecorded(ApiModel):
    attempt_id: str
    question_id: str
    given: QuizAnswer
    revision: int
    changed: bool


class QuizMissesToCards(RequestModel):
    deck_id: Id


class QuizMissesAdded(ApiModel):
    deck_id: str
    misses: int
    created: int
    already_present: int
    card_ids: list[str] = Field(default_factory=list)


def given_of(value: dict[str, Any] | None) -> QuizAnswer | None:
    if not value:
        return None
    return QuizAnswer(option_id=value.get("optionId"), text=value.get("text"))


class QuizCourseStatsQuery(RequestModel):
    course_id: Id


class QuizCourseStats(ApiModel):
    """A course's quizzes together: how many, how often taken, how well."""

    course_id: str
    quizzes: int
    taken: int  # quizzes with at least one submitted attempt
    attempts: int
    submitted: int
    mean_best_percent: float | None = None  # over the quizzes taken
    mean_last_percent: float | None = None
    best_percent: float | None = None
    last_submitted_at: datetime | None = None
