"""Request and response models of the study functions (camelCase on the wire). Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from aksio.schema import NON_BLANK, WHITE_SPACE, ApiModel, ListQuery, RequestModel, max_bytes
from aksio.study.model import MAX_TEXT_BYTES, RATINGS

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ReviewId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(json_schema_extra={"pattern": NON_BLANK}),
]
# A tag: no inner whitespace, at most 64 characters; stored stripped and case-folded (a tag
# in a query is folded by the service, aksio.study.tags.normalise).
QueryTag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\s]+$"),
    Field(json_schema_extra={"pattern": f"^[^{WHITE_SPACE}]+$"}),  # the same, whitespace spelled out
]
Tag = Annotated[QueryTag, AfterValidator(str.casefold)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_BYTES, json_schema_extra=max_bytes(MAX_TEXT_BYTES))]
# At least one deletion {{cN::...}} numbered 1-999 (as aksio.study.model reads them).
CLOZE_PATTERN = r"\{\{c(?:[1-9]|0[1-9]|00[1-9]|[1-9][0-9]|0[1-9][0-9]|[1-9][0-9][0-9])::[\s\S]*\}\}"
Rating = Annotated[
    int | str,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 4},
                {"type": "string", "enum": [*RATINGS, "1", "2", "3", "4"]},
            ],
            "description": "1-4, or again, hard, good, easy (in any case)",
        }
    ),
]


def _fits(value: str | None, name: str) -> str | None:
    if value is not None and len(value.encode()) > MAX_TEXT_BYTES:
        raise ValueError(f"{name} is larger than {MAX_TEXT_BYTES} bytes")
    return value


# -- decks ----------------------------------------------------------------------------------


class NewDeck(RequestModel):
    # Optional client-chosen id: a retried create with the same id and name returns the
    # deck made the first time (200) instead of a duplicate.
    id: Id | None = None
    name: Name
    description: Annotated[str, Field(max_length=2000)] | None = None


class DeckPatch(RequestModel):
    name: Name | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    # The deck's course (null: no course) and section in it (null: none); see aksio.courses.
    course_id: Id | None = None
    section_id: Id | None = None


class Deck(ApiModel):
    id: str
    name: str
    description: str | None = None
    card_count: int | None = None
    course_id: str | None = None
    section_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DeckPage(ApiModel):
    decks: list[Deck]
    next_cursor: str | None = None


class Deleted(ApiModel):
    id: str
    deleted: bool = True
    cards_deleted: int | None = None


# -- cards ----------------------------------------------------------------------------------


class NewCard(RequestModel):
    """A basic card (``front`` and ``back``) or a cloze note (``cloze`` text with
    ``{{c1::answer}}`` deletions: one card per number)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "title": "Basic card",
                    "required": ["front", "back"],
                    "properties": {"front": {"type": "string"}, "back": {"type": "string"}, "cloze": {"type": "null"}},
                },
                {
                    "title": "Cloze note",
                    "required": ["cloze"],
                    "properties": {
                        "cloze": {"type": "string", "pattern": CLOZE_PATTERN},
                        "front": {"type": "null"},
                        "back": {"type": "null"},
                    },
                },
            ]
        }
    )

    deck_id: Id
    front: Text | None = None
    back: Text | None = None
    cloze: Text | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)

    @field_validator("front", "back", "cloze")
    @classmethod
    def _size(cls, value: str | None, info: Any) -> str | None:
        return _fits(value, info.field_name)

    @model_validator(mode="after")
    def _kind(self) -> NewCard:
        basic = self.front is not None or self.back is not None
        if basic and self.cloze is not None:
            raise ValueError("send either front and back, or cloze, not both")
        if not basic and self.cloze is None:
            raise ValueError("send front and back (a basic card) or cloze (a cloze note)")
        if basic and (self.front is None or self.back is None):
            raise ValueError("a basic card needs both front and back")
        return self


class CardPatch(RequestModel):
    front: Text | None = None
    back: Text | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    suspended: bool | None = None
    deck_id: Id | None = None

    @field_validator("front", "back")
    @classmethod
    def _size(cls, value: str | None, info: Any) -> str | None:
        return _fits(value, info.field_name)


class Card(ApiModel):
    id: str
    deck_id: str
    note_id: str | None = None
    kind: Literal["basic", "cloze"] = "basic"
    front: str
    back: str
    text: str | None = None
    cloze_index: int | None = None
    tags: list[str] = Field(default_factory=list)
    suspended: bool = False
    state: str = "new"
    queue: str = "new"
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0
    source: dict[str, Any] | None = None
    content_hash: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class CardsCreated(ApiModel):
    cards: list[Card]
    created: bool


class CardPage(ApiModel):
    cards: list[Card]
    next_cursor: str | None = None


class CardListQuery(ListQuery):
    deck_id: Id | None = None
    tag: QueryTag | None = None


# -- review ---------------------------------------------------------------------------------


class ReviewRequest(RequestModel):
    card_id: Id
    rating: Rating
    review_id: ReviewId
    reviewed_at: Annotated[
        datetime | None, Field(description="When it was reviewed: not in the future, at most 30 days ago")
    ] = None
    duration_ms: Annotated[int, Field(ge=0, le=24 * 3600 * 1000)] | None = None


class UndoRequest(RequestModel):
    card_id: Id
    review_id: ReviewId | None = None


class CardSchedule(ApiModel):
    state: str
    queue: str
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0
    suspended: bool = False
    tags: list[str] = Field(default_factory=list)


class ReviewResult(ApiModel):
    review_id: str
    card_id: str
    rating: int
    rating_name: str
    reviewed_at: datetime
    card: CardSchedule
    interval_days: float | None = None
    leech: bool = False


class UndoResult(ApiModel):
    review_id: str
    card_id: str
    card: CardSchedule
    undone: bool = True


# -- queue and stats ------------------------------------------------------------------------


class QueueQuery(RequestModel):
    deck_id: Id | None = None
    course_id: Id | None = None
    section_id: Id | None = None
    tag: QueryTag | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class QueueCounts(ApiModel):
    new: int
    learning: int
    review: int


class QueueLimits(ApiModel):
    new_remaining: int
    review_remaining: int


class StudyQueue(ApiModel):
    day: str
    cards: list[Card]
    counts: QueueCounts
    limits: QueueLimits
    buried: int = 0


class StatsQuery(RequestModel):
    days: Annotated[int, Field(ge=1, le=365)] = 30
    # The cards and forecast of one deck or course (reviews per day, retention and streak
    # stay the account's; a course's own are in its progress).
    deck_id: Id | None = None
    course_id: Id | None = None
    section_id: Id | None = None


class DayStats(ApiModel):
    day: str
    reviews: int
    new_cards: int
    review_cards: int
    passed: int
    time_ms: int


class Retention(ApiModel):
    true_retention: float | None = None
    review_count: int
    days: int


class Streak(ApiModel):
    current: int
    longest: int
    last_day: str | None = None


class CardCounts(ApiModel):
    new: int
    learning: int
    review: int
    relearning: int
    suspended: int
    total: int


class ForecastDay(ApiModel):
    day: str
    due: int


class Stats(ApiModel):
    day: str
    total_reviews: int
    by_rating: dict[str, int]
    streak: Streak
    reviews_per_day: list[DayStats]
    retention: Retention
    cards: CardCounts
    forecast: list[ForecastDay]


# -- tags -------------------------------------------------------------------------------------


class TagCount(ApiModel):
    name: str
    card_count: int


class TagList(ApiModel):
    tags: list[TagCount]


class TagRename(RequestModel):
    name: Tag


class TagChanged(ApiModel):
    name: str
    previous_name: str | None = None
    deleted: bool = False
    cards_changed: int
