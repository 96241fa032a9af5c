"""Request and response models of the courses function (camelCase on the wire)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from aksio.schema import ApiModel, ListQuery, NotNull, RequestModel
from aksio.study.api import Id, Name

Description = Annotated[str, Field(max_length=2000)]
ExamDate = Annotated[date, Field(description="The exam's day (YYYY-MM-DD) in the user's time zone; not in the past")]
# Up to 1000 in a request; more than 200 (the limit of a course) is a 409 naming the limit.
MAX_SECTIONS_SENT = 1000


class SectionIn(RequestModel):
    """A section of the ordered list: ``id`` of an existing section of the course (renamed or
    moved), or none for a new one."""

    id: Id | None = None
    name: Name


class NewCourse(RequestModel):
    # Optional client-chosen id: a retried create with the same id returns the same course.
    id: Id | None = None
    name: Name
    description: Description | None = None
    exam_date: ExamDate | None = None
    sections: Annotated[list[SectionIn], Field(max_length=MAX_SECTIONS_SENT)] = Field(default_factory=list)


class CoursePatch(RequestModel):
    """Rename or describe, set (or, with null, clear) the exam date, or replace the ordered
    sections (sections left out are removed: their decks and documents stay in the course)."""

    name: NotNull[Name] = None
    description: Description | None = None
    exam_date: ExamDate | None = None
    sections: NotNull[Annotated[list[SectionIn], Field(max_length=MAX_SECTIONS_SENT)]] = None


class Section(ApiModel):
    id: str
    name: str


class CourseItem(ApiModel):
    """A deck or document of the course."""

    id: str
    name: str
    section_id: str | None = None
    status: str | None = None  # a document's processing status


class Course(ApiModel):
    id: str
    name: str
    description: str | None = None
    exam_date: date | None = None
    sections: list[Section] = Field(default_factory=list)
    decks: list[CourseItem] | None = None
    documents: list[CourseItem] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class CoursePage(ApiModel):
    courses: list[Course]
    next_cursor: str | None = None


class CourseListQuery(ListQuery):
    pass


class DeleteQuery(RequestModel):
    delete_contents: Annotated[
        bool, Field(description="Delete the course's decks (with their cards) and documents instead of unlinking them")
    ] = False


class CourseDeleted(ApiModel):
    id: str
    deleted: bool = True
    decks_unlinked: int = 0
    documents_unlinked: int = 0
    decks_deleted: int = 0
    documents_deleted: int = 0


class ProgressQuery(RequestModel):
    days: Annotated[int, Field(ge=1, le=120)] = 30
    section_id: Id | None = None
    deck_id: Id | None = None


class ProgressCards(ApiModel):
    new: int
    learning: int
    review: int
    relearning: int
    suspended: int
    total: int


class ProgressDay(ApiModel):
    day: str
    reviews: int
    time_ms: int


class Mastery(ApiModel):
    seen_cards: int
    mean_recall: float | None = Field(None, description="Mean predicted recall (FSRS) of the cards reviewed so far")
    share_above_desired: float | None = Field(None, description="Share of them predicted above the desired retention")
    desired_retention: float


class ExamOutlook(ApiModel):
    date: str
    at: datetime
    recall_if_no_reviews: float | None = None
    seen_cards: int


class CourseProgress(ApiModel):
    course_id: str
    section_id: str | None = None
    deck_id: str | None = None
    day: str
    cards: ProgressCards
    reviews_per_day: list[ProgressDay]
    mastery: Mastery
    exam: ExamOutlook | None = None


class PlanDay(ApiModel):
    day: str
    new_cards: int
    reviews: int


class PlanLimits(ApiModel):
    new_cards_per_day: int
    reviews_per_day: int


class Suggestion(ApiModel):
    kind: str = Field(description="laterExam, higherNewLimit, higherReviewLimit or fewerCards")
    exam_date: str | None = None
    new_cards_per_day: int | None = None
    reviews_per_day: int | None = None
    cards: int | None = None


class ExamPlan(ApiModel):
    course_id: str
    exam_date: str
    day: str
    days_left: int
    margin_days: int
    new_cards: int = Field(description="Cards of the course not seen yet")
    seen_cards: int
    new_cards_per_day: int = Field(description="Today's allowance: every card seen marginDays before the exam")
    last_new_day: str | None = None
    daily: list[PlanDay]
    peak_reviews: int
    predicted_retention: float | None = Field(None, description="Mean predicted recall on the exam date if followed")
    limits: PlanLimits
    fits: bool
    suggestions: list[Suggestion]
