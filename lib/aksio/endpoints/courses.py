"""courses: the signed-in user's courses (create, cursor-paginated list, read with its
sections, decks and documents, rename/describe/exam date/sections, delete).

A deck or document is put in a course with a PATCH of the deck (``/decks/{id}``) or the
document (``/documents/{id}``): ``{"courseId": ..., "sectionId": ...}``; null takes it out.
"""

from __future__ import annotations

from aksio import lazy, params
from aksio.clients import firestore_client, storage_client
from aksio.config import get_config
from aksio.courses import service
from aksio.courses.model import Json
from aksio.http import Api, Ctx, Result
from aksio.ids import path_id
from aksio.openapi import Link

# models are imported when a request needs one (cold start: reads need none)
models = lazy.models("aksio.courses.api")

api = Api("courses", summary="Courses of the signed-in user")

COURSE = {"course": "$response.body#/id"}
CREATED = (
    Link("read", "courses.read", COURSE),
    Link("update", "courses.update", COURSE),
    Link("delete", "courses.delete", COURSE),
    Link("progress", "courses.progress", COURSE),
    Link("plan", "courses.plan", COURSE),
    Link("studyQueue", "study-queue.queue", {"query.courseId": "$response.body#/id"}),
)


def _course_id(ctx: Ctx) -> str:
    return path_id(ctx.params["course"], "course")


@api.post(
    "/",
    body=models.NewCourse,
    response=models.Course,
    status=201,
    replay_status=200,
    errors=(400, 409, 413, 415),
    links=CREATED,
)
def create(ctx: Ctx) -> Result:
    """Create a course (201), with optional ``examDate`` and ordered ``sections``; with a
    client ``id`` a retry returns the same course (200). At most 100 courses (409)."""
    course, created = service.create_course(firestore_client(), ctx.uid, ctx.body)
    return Result(course, status=201 if created else 200)


@api.get("/", query=models.CourseListQuery, fast_query=params.LIST, response=models.CoursePage, errors=(400,))
def list_(ctx: Ctx) -> Json:
    """The courses, oldest first, ``limit`` at a time; pass ``nextCursor`` back as ``cursor``."""
    return service.list_courses(firestore_client(), ctx.uid, ctx.query)


@api.get("/<course>", response=models.Course, errors=(404,))
def read(ctx: Ctx) -> Json:
    """One course with its sections, decks and documents."""
    return service.get_course(firestore_client(), ctx.uid, _course_id(ctx))


@api.get(
    "/<course>/progress",
    query=models.ProgressQuery,
    fast_query=params.PROGRESS,
    response=models.CourseProgress,
    errors=(400, 404),
)
def progress(ctx: Ctx) -> Json:
    """Progress of the course, or of one section (``sectionId``) or deck (``deckId``) of it:
    cards by state, reviews and time per day, mastery now (mean predicted recall of the
    reviewed cards, share above the desired retention), and the predicted recall on the
    exam date if no more reviews happened. Reads no cards (aggregates and counts)."""
    return service.progress(firestore_client(), ctx.uid, _course_id(ctx), ctx.query)


@api.get("/<course>/plan", response=models.ExamPlan, errors=(404, 409))
def plan(ctx: Ctx) -> Json:
    """The exam plan (a course with an exam date; 409 without): new cards a day to have seen
    every card a margin before the exam, the predicted reviews a day until then, the predicted
    retention on the exam date if followed, and whether it fits the daily limits (if not, a
    later date, higher limits or fewer cards that would). The course's study queue
    (``/study-queue?courseId=``) uses the plan's new-card allowance."""
    from aksio.courses import planning

    return planning.exam_plan(firestore_client(), ctx.uid, _course_id(ctx))


@api.patch("/<course>", body=models.CoursePatch, response=models.Course, errors=(400, 404, 409, 413, 415))
def update(ctx: Ctx) -> Json:
    """Rename or describe it, set (null: clear) the exam date, or replace its ordered sections
    (at most 200: 409)."""
    return service.update_course(firestore_client(), ctx.uid, _course_id(ctx), ctx.body)


@api.delete("/<course>", query=models.DeleteQuery, response=models.CourseDeleted, errors=(400, 404))
def delete(ctx: Ctx) -> Json:
    """Delete a course: its decks and documents leave it, or with ``deleteContents=true`` are
    deleted too (decks with their cards). A retry continues an interrupted delete."""
    return service.delete_course(
        firestore_client(),
        ctx.uid,
        _course_id(ctx),
        delete_contents=bool(ctx.query.delete_contents),
        bucket=lambda: storage_client().bucket(get_config().upload_bucket),
    )
